package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/persist/remote"
	"playground/wasm/protocol"
)

// syncer talks to the server (Env.Server) through persist/remote, one
// request at a time in its own goroutine, so the network never holds up
// training or the local writer. Auto-pushes coalesce: when saves come
// faster than uploads, only a run's newest one goes.
type syncer struct {
	s        *Session
	q        *queue[syncJob]
	autoPush atomic.Bool

	mu      sync.Mutex
	token   string
	heads   map[string]string   // the server's head of each run, as this session last saw it
	stopped map[string]bool     // auto-push stopped: another writer moved the server's head
	autos   map[string][]string // autosaves auto-pushed per run, oldest first (mirrors local retention)
}

// Sync operations the syncer runs: protocol's, which Synced.Op reports,
// and the listing of the server's runs.
const (
	opPush     = protocol.SyncPush
	opPull     = protocol.SyncPull
	opAutoPush = protocol.SyncAutoPush
	opList     = "list"
)

type syncJob struct {
	op   string
	seq  int64
	run  string
	t0   time.Time
	id   string // autopush: the checkpoint just saved
	kind string
	step uint64
	file []byte
	keep int
}

func newSyncer(s *Session) *syncer {
	return &syncer{
		s: s, q: newQueue[syncJob](),
		heads: map[string]string{}, stopped: map[string]bool{}, autos: map[string][]string{},
	}
}

// set applies the page's sync settings.
func (y *syncer) set(c protocol.SyncSettings) (enabled bool) {
	if c.Token != nil {
		y.mu.Lock()
		y.token = *c.Token
		y.mu.Unlock()
	}
	if c.AutoPush != nil {
		was := y.autoPush.Swap(*c.AutoPush)
		return *c.AutoPush && !was
	}
	return false
}

// store is the server's persist.Store, or an error saying there is none.
func (y *syncer) store() (*remote.Store, error) {
	if y.s.env.Server == "" {
		return nil, errors.New("this page has no server to sync with")
	}
	y.mu.Lock()
	tok := y.token
	y.mu.Unlock()
	return remote.New(y.s.env.Server, remote.Options{Token: tok})
}

func (y *syncer) loop(ctx context.Context) {
	for {
		jobs := y.q.take()
		for i, j := range jobs {
			if j.op == opAutoPush && newerAutoPush(jobs[i+1:], j.run) {
				continue // a newer save of the run is queued: send that one
			}
			y.do(ctx, j)
		}
		select {
		case <-y.q.notify:
		case <-ctx.Done():
			return
		}
	}
}

func newerAutoPush(later []syncJob, run string) bool {
	for _, j := range later {
		if j.op == opAutoPush && j.run == run {
			return true
		}
	}
	return false
}

func (y *syncer) do(ctx context.Context, j syncJob) {
	s := y.s
	rs, err := y.store()
	if err != nil {
		if j.op == opList {
			s.emit(protocol.Event{Type: protocol.EvServerRuns, Seq: j.seq, Message: err.Error()})
			return
		}
		if j.op == opAutoPush {
			s.warn(0, "auto-push: %v", err)
		} else {
			s.fail(j.seq, "%s: %v", j.op, err)
		}
		return
	}
	switch j.op {
	case opList:
		y.list(ctx, rs, j)
	case opPush:
		y.push(ctx, rs, j)
	case opAutoPush:
		y.autoPushOne(ctx, rs, j)
	case opPull:
		y.pull(ctx, rs, j)
	}
}

func (y *syncer) list(ctx context.Context, rs *remote.Store, j syncJob) {
	infos, err := rs.RunInfos(ctx)
	if err != nil {
		// Said in the answer, not as an error: the page asks on load, and
		// a page served without the API is no fault.
		msg := fmt.Sprintf("Cannot list the server's runs: %v", err)
		if errors.Is(err, persist.ErrNotExist) {
			msg = fmt.Sprintf("This page's server (%s) has no checkpoint API: push and pull need playground serve, or its Workers build.", rs.URL())
		}
		y.s.emit(protocol.Event{Type: protocol.EvServerRuns, Seq: j.seq, Message: msg})
		return
	}
	out := make([]protocol.ServerRun, 0, len(infos))
	for _, r := range infos {
		sr := protocol.ServerRun{Run: r.Run, Head: r.Head, Checkpoints: r.Checkpoints, URL: rs.RunURL(r.Run)}
		if r.NewestStep != nil {
			sr.Step = *r.NewestStep
		}
		out = append(out, sr)
	}
	y.s.emit(protocol.Event{Type: protocol.EvServerRuns, Seq: j.seq, ServerRuns: out})
}

// push uploads what the server lacks of the run (remote.Push).
func (y *syncer) push(ctx context.Context, rs *remote.Store, j syncJob) {
	s := y.s
	warn := func(id string, err error) {
		step, _ := persist.StepOfID(id)
		s.warn(j.seq, "push: skipped the damaged checkpoint at step %s: %s", commas(step), shortError(err.Error()))
	}
	var autos []string // autosaves an auto-push sends, for the server's retention
	pushed := func(c persist.Info) {
		if j.op == opAutoPush && c.Kind == persist.KindAutosave {
			autos = append(autos, c.ID)
		}
	}
	r, err := remote.Push(ctx, rs, s.env.Store, j.run, warn, pushed)
	if err != nil {
		if _, moved := remote.IsHeadMoved(err); moved {
			y.stop(j.run)
		}
		if j.op == opAutoPush {
			s.warn(j.seq, "auto-push of run %s: %v", j.run, err)
		} else {
			s.fail(j.seq, "push %s: %v", j.run, err)
		}
		return
	}
	y.mu.Lock()
	y.heads[j.run], y.stopped[j.run] = r.Head, false
	y.mu.Unlock()
	if j.op == opAutoPush {
		y.retain(ctx, rs, j.run, r.Head, j.keep, autos...)
	}
	s.emit(protocol.Event{Type: protocol.EvSynced, Seq: j.seq, Synced: &protocol.Synced{
		Op: j.op, Run: j.run, Head: r.Head, Step: r.HeadStep, Sent: r.Pushed, Had: r.Had,
		Bytes: r.Bytes, Millis: ms(s.env.Now().Sub(j.t0)), URL: rs.RunURL(j.run),
	}})
}

func (y *syncer) stop(run string) {
	y.mu.Lock()
	y.stopped[run] = true
	delete(y.heads, run)
	y.mu.Unlock()
}

// autoPushOne uploads a checkpoint just saved, moving the server's head
// from the one this session last saw. The first of a run in this session
// is a whole push (what the server lacks of the run's history). Auto-pushed
// autosaves beyond the retention's keep are deleted from the server again,
// as they are here.
func (y *syncer) autoPushOne(ctx context.Context, rs *remote.Store, j syncJob) {
	s := y.s
	y.mu.Lock()
	head, known := y.heads[j.run]
	stopped := y.stopped[j.run]
	y.mu.Unlock()
	if stopped || !y.autoPush.Load() {
		return
	}
	if !known || j.file == nil {
		y.push(ctx, rs, j)
		return
	}
	err := rs.Put(ctx, j.run, j.id, bytes.NewReader(j.file), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: head})
	if h, moved := remote.IsHeadMoved(err); moved {
		y.stop(j.run)
		s.warn(0, "auto-push of run %s stopped: the server's head moved to %q, so another writer continues this run there. Pull it to continue from there, or fork.", j.run, h)
		return
	}
	if err != nil {
		s.warn(0, "auto-push of step %s failed (the next save tries again): %v", commas(j.step), err)
		return
	}
	y.mu.Lock()
	y.heads[j.run] = j.id
	y.mu.Unlock()
	if j.kind == persist.KindAutosave {
		y.retain(ctx, rs, j.run, j.id, j.keep, j.id)
	}
	s.emit(protocol.Event{Type: protocol.EvSynced, Synced: &protocol.Synced{
		Op: opAutoPush, Run: j.run, Head: j.id, Step: j.step, Sent: 1,
		Bytes: int64(len(j.file)), Millis: ms(s.env.Now().Sub(j.t0)), URL: rs.RunURL(j.run),
	}})
}

// retain records autosaves auto-pushed to run (oldest first) and deletes
// from the server those of them beyond keep, never its head: the local
// retention, mirrored. What other writers put there stays.
func (y *syncer) retain(ctx context.Context, rs *remote.Store, run, head string, keep int, pushed ...string) {
	y.mu.Lock()
	a := y.autos[run]
	for _, id := range pushed {
		if !slices.Contains(a, id) {
			a = append(a, id)
		}
	}
	a, victims := trimOldest(a, keep, head)
	y.autos[run] = a
	y.mu.Unlock()
	for _, v := range victims {
		if err := rs.Delete(ctx, run, v); err != nil && !errors.Is(err, persist.ErrNotExist) {
			y.s.warn(0, "auto-push: deleting an old autosave of run %s from the server: %v", run, err)
			return
		}
	}
}

// pull downloads and verifies the server's head of the run, then hands it
// to the session loop, which stores it and resumes the run there.
func (y *syncer) pull(ctx context.Context, rs *remote.Store, j syncJob) {
	s := y.s
	head, err := rs.Head(ctx, j.run)
	if errors.Is(err, persist.ErrNotExist) {
		s.fail(j.seq, "pull: run %s has no head on the server (push it first)", j.run)
		return
	}
	if err != nil {
		s.fail(j.seq, "pull %s: %v", j.run, err)
		return
	}
	b, err := persist.ReadAll(ctx, rs, j.run, head)
	if err != nil {
		s.fail(j.seq, "pull %s: %v", j.run, err)
		return
	}
	ck, err := persist.Decode(b)
	if err == nil && ck.RunID != j.run {
		err = fmt.Errorf("it belongs to run %s", ck.RunID)
	}
	if err == nil {
		_, err = engine.Restore(ck.State)
	}
	if err != nil {
		s.fail(j.seq, "pull: the server's head of run %s (%s) is not usable here: %v", j.run, head, err)
		return
	}
	url := rs.RunURL(j.run)
	s.inbox.Push(Input{fn: func(ctx context.Context) { s.adoptPulled(ctx, j, ck, b, url) }})
}

// adoptPulled stores a pulled checkpoint as its run's newest (unless the
// local copy is ahead) and resumes the run there, paused.
func (s *Session) adoptPulled(ctx context.Context, j syncJob, ck *persist.Checkpoint, b []byte, url string) {
	run := j.run
	var localStep uint64
	has := false
	if run == s.run && s.owner && s.tr != nil {
		// Stop, and save where this tab got to: nothing is lost if the
		// local copy is ahead (the save goes before the pulled one).
		s.running, s.stopAt = false, 0
		if s.unsaved() {
			s.snapshot(j.seq, persist.KindAutosave, true, nil)
		}
		localStep, has = s.tr.Step, true
	} else if ok, err := s.acquire(ctx, run, false); err != nil || !ok {
		s.fail(j.seq, "pull: run %s is trained in another tab (take it over there, or close it)", run)
		return
	}
	if local, err := newestInfo(ctx, s.env.Store, run); err == nil && (!has || local.Step > localStep) {
		localStep, has = local.Step, true
	}
	kept := has && localStep > ck.State.Step
	reply := make(chan error, 1)
	s.w.q.push(job{seq: j.seq, run: run, file: b, id: ck.ID, setHead: !kept, reply: reply})
	if err := <-reply; err != nil {
		s.fail(j.seq, "pull %s: storing the checkpoint: %v", run, err)
		return
	}
	y := s.sync
	y.mu.Lock()
	y.heads[run], y.stopped[run] = ck.ID, false
	y.mu.Unlock()
	sy := &protocol.Synced{
		Op: opPull, Run: run, Head: ck.ID, Step: ck.State.Step, Sent: 1, Bytes: int64(len(b)),
		Millis: ms(s.env.Now().Sub(j.t0)), URL: url, Kept: kept, LocalStep: ck.State.Step,
	}
	if kept {
		sy.LocalStep = localStep
		s.warn(j.seq, "pull: your copy of run %s (step %s) is ahead of the server's (step %s) and was kept; push it to update the server", run, commas(localStep), commas(ck.State.Step))
	}
	s.emit(protocol.Event{Type: protocol.EvSynced, Seq: j.seq, Synced: sy})
	s.resumeRun(ctx, j.seq, run, 0, false, true, j.t0)
}

// pushCmd pushes run c.Run (default: the active one), saving the active
// run's current state first when no checkpoint has it yet.
func (s *Session) pushCmd(c protocol.Command) {
	run, ok := s.runOf(c)
	if !ok {
		return
	}
	j := syncJob{op: opPush, seq: c.Seq, run: run, t0: s.env.Now()}
	if run == s.run && s.owner && s.tr != nil && s.unsaved() {
		s.snapshot(c.Seq, persist.KindAutosave, true, func(string, []byte) { s.sync.q.push(j) })
		return
	}
	// After the writes already queued, so the newest save goes too.
	s.w.q.push(job{run: run, after: func() { s.sync.q.push(j) }})
}

// autoPushSaved queues a just-committed checkpoint for auto-push.
func (s *Session) autoPushSaved(j job, b []byte) {
	if !s.sync.autoPush.Load() {
		return
	}
	s.sync.q.push(syncJob{
		op: opAutoPush, run: j.run, t0: j.taken, id: j.ckpt.ID, kind: j.ckpt.Kind,
		step: j.ckpt.State.Step, file: b, keep: j.keep,
	})
}
