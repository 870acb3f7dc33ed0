package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"playground/persist"
	"playground/persist/remote"
	"playground/wasm/protocol"
)

// The syncer's operations, one type per kind.
type (
	// syncSettingsOp applies the page's sync settings.
	syncSettingsOp struct {
		isSync
		token    *string
		autoPush *bool
	}
	// pushOp uploads what the server lacks of run (remote.Push).
	pushOp struct {
		isSync
		seq int64
		run string
		t0  time.Time
	}
	// autoPushOp uploads checkpoint id of run just saved (file); with no
	// file, or the first of a run in this session, the whole run.
	autoPushOp struct {
		isSync
		run  string
		t0   time.Time
		id   string
		kind string
		step uint64
		file []byte
		keep int
	}
	// pullOp downloads and verifies the server's head of run: reported as
	// pulled.
	pullOp struct {
		isSync
		seq int64
		run string
		t0  time.Time
	}
	// serverRunsOp lists the server's runs.
	serverRunsOp struct {
		isSync
		seq int64
	}
	// pulledOp records that the loop stored head, pulled from the server,
	// as run's newest: the server's head as this session last saw it.
	pulledOp struct {
		isSync
		run, head string
	}
)

// syncOp is one of the syncer's operations: a struct embedding isSync.
type syncOp interface{ syncOp() }

// isSync marks the syncer's operations.
type isSync struct{}

func (isSync) syncOp() {}

// pulled is a verified checkpoint the syncer downloaded, for the loop to
// store and resume.
type pulled struct {
	op   pullOp
	ck   *persist.Checkpoint
	b    []byte
	head string // the server's head: ck's id, or a newer one that is not usable
	url  string
}

// syncer talks to the server (Env.Server) through persist/remote, one
// request at a time in its own goroutine, so the network never holds up
// training or the local writer. Auto-pushes coalesce: when saves come
// faster than uploads, only a run's newest one goes. Every field is its
// goroutine's own.
type syncer struct {
	local  persist.Store
	tables *tables
	server string
	ops    *queue[syncOp]
	out    *Inbox
	emit   func(protocol.Event)
	now    func() time.Time

	token    string
	autoPush bool
	heads    map[string]string             // the server's head of each run, as this session last saw it
	stopped  map[string]bool               // auto-push stopped: another writer moved the server's head
	autos    map[string]*persist.Autosaves // autosaves auto-pushed per run (the local retention, mirrored)
	// While the server does not answer, each run's newest auto-push waits
	// in held and goes again on the back-off schedule.
	retry backoff
	held  map[string]autoPushOp
}

func newSyncer(env Env, opt Options, out *Inbox, tb *tables) *syncer {
	var local persist.Store = env.Store
	if env.Data != nil {
		// remote.Push sends a run's dataset from its local store.
		local = struct {
			persist.Store
			persist.DataStore
		}{env.Store, env.Data}
	}
	return &syncer{
		local: local, tables: tb, server: env.Server, ops: newQueue[syncOp](), out: out,
		emit: func(ev protocol.Event) { env.Emit(ev, nil) }, now: env.Now,
		heads: map[string]string{}, stopped: map[string]bool{}, autos: map[string]*persist.Autosaves{},
		retry: newBackoff(opt), held: map[string]autoPushOp{},
	}
}

func (y *syncer) warn(seq int64, format string, a ...any) {
	y.emit(protocol.Event{Type: protocol.EvWarning, Seq: seq, Message: fmt.Sprintf(format, a...)})
}

func (y *syncer) fail(seq int64, format string, a ...any) {
	y.emit(protocol.Event{Type: protocol.EvError, Seq: seq, Message: fmt.Sprintf(format, a...)})
}

// store is the server's persist.Store, or an error saying there is none.
func (y *syncer) store() (*remote.Store, error) {
	if y.server == "" {
		return nil, errors.New("this page has no server to sync with")
	}
	return remote.New(y.server, remote.Options{Token: y.token})
}

func (y *syncer) loop(ctx context.Context) {
	for {
		ops := y.ops.take()
		for i, op := range ops {
			if a, ok := op.(autoPushOp); ok && newerAutoPush(ops[i+1:], a.run) {
				continue // a newer save of the run is queued: send that one
			}
			y.do(ctx, op)
		}
		var due <-chan time.Time
		if len(y.held) > 0 {
			due = time.After(y.retry.wait(y.now()))
		}
		select {
		case <-y.ops.notify:
		case <-due:
			y.retryHeld(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// retryHeld sends the auto-pushes that waited for the server again, in
// the order of their runs. The first that gets no answer holds the others
// back until the next try.
func (y *syncer) retryHeld(ctx context.Context) {
	runs := make([]string, 0, len(y.held))
	for run := range y.held {
		runs = append(runs, run)
	}
	slices.Sort(runs)
	for _, run := range runs {
		if op, ok := y.held[run]; ok {
			y.do(ctx, op)
		}
	}
}

func newerAutoPush(later []syncOp, run string) bool {
	for _, op := range later {
		if a, ok := op.(autoPushOp); ok && a.run == run {
			return true
		}
	}
	return false
}

func (y *syncer) do(ctx context.Context, op syncOp) {
	switch op := op.(type) {
	case syncSettingsOp:
		if op.token != nil {
			y.token = *op.token
			y.tables.setToken(y.token)
		}
		if op.autoPush != nil {
			y.autoPush = *op.autoPush
		}
		if !y.autoPush {
			clear(y.held)
		}
		return
	case pulledOp:
		y.heads[op.run], y.stopped[op.run] = op.head, false
		return
	case autoPushOp:
		delete(y.held, op.run) // op is newer, or it is the held one
		if y.stopped[op.run] || !y.autoPush {
			return
		}
		if y.retry.wait(y.now()) > 0 {
			y.held[op.run] = op // the server is away: it goes on the next try
			return
		}
	}
	rs, err := y.store()
	if err != nil {
		y.noServer(op, err)
		return
	}
	switch op := op.(type) {
	case serverRunsOp:
		err = y.list(ctx, rs, op.seq)
	case pushOp:
		err = y.push(ctx, rs, op, false, 0)
	case autoPushOp:
		err = y.autoPushOne(ctx, rs, op)
	case pullOp:
		err = y.pull(ctx, rs, op)
	}
	y.reached(op, err)
}

// gone says err is a request that got no answer: the server is away.
func gone(err error) bool { return errors.Is(err, remote.ErrUnreachable) }

// reached takes what op's requests got: no answer (gone), an answer (err
// nil or the server's error) or a failure here. The page hears once when
// the server goes away and once when it is back, never per attempt; an
// auto-push that got no answer waits in held for the back-off's next try,
// and an op the page asked for is reported failed.
func (y *syncer) reached(op syncOp, err error) {
	var answer *remote.Error
	switch {
	case gone(err):
		if a, ok := op.(autoPushOp); ok {
			y.held[a.run] = a
		}
		if _, first := y.retry.failed(y.now()); first {
			y.emit(protocol.Event{Type: protocol.EvReach, Reach: &protocol.Reach{Retry: y.autoPush, Error: unansweredCause(err)}})
		}
		y.unanswered(op, err)
	case err == nil || errors.As(err, &answer):
		if y.retry.answered() {
			y.emit(protocol.Event{Type: protocol.EvReach, Reach: &protocol.Reach{Reachable: true}})
		}
	}
}

// unansweredCause is why a request got no answer, as the network said,
// without the request.
func unansweredCause(err error) string {
	var u *remote.UnreachableError
	if errors.As(err, &u) {
		return strings.TrimPrefix(u.Err.Error(), "JavaScript error: ") // fetch's TypeError, through syscall/js
	}
	return err.Error()
}

// unanswered reports op, which the page asked for, failed for want of an
// answer (auto-push says nothing: it waits for the next try).
func (y *syncer) unanswered(op syncOp, err error) {
	switch op := op.(type) {
	case serverRunsOp:
		y.emit(protocol.Event{Type: protocol.EvServerRuns, Seq: op.seq, Message: fmt.Sprintf("Cannot list the server's runs: it does not answer (%s).", unansweredCause(err))})
	case pushOp:
		y.fail(op.seq, "push %s: %v", op.run, err)
	case pullOp:
		y.fail(op.seq, "pull %s: %v", op.run, err)
	}
}

// noServer reports op, which needs a server, failed for lack of one.
func (y *syncer) noServer(op syncOp, err error) {
	switch op := op.(type) {
	case serverRunsOp:
		y.emit(protocol.Event{Type: protocol.EvServerRuns, Seq: op.seq, Message: err.Error()})
	case autoPushOp:
		y.warn(0, "auto-push: %v", err)
	case pushOp:
		y.fail(op.seq, "%s: %v", protocol.SyncPush, err)
	case pullOp:
		y.fail(op.seq, "%s: %v", protocol.SyncPull, err)
	}
}

func (y *syncer) list(ctx context.Context, rs *remote.Store, seq int64) error {
	infos, err := rs.RunInfos(ctx)
	if gone(err) {
		return err
	}
	if err != nil {
		// Said in the answer, not as an error: the page asks on load, and
		// a page served without the API is no fault.
		msg := fmt.Sprintf("Cannot list the server's runs: %v", err)
		if errors.Is(err, persist.ErrNotExist) {
			msg = fmt.Sprintf("This page's server (%s) has no checkpoint API: push and pull need playground serve, or its Workers build.", rs.URL())
		}
		y.emit(protocol.Event{Type: protocol.EvServerRuns, Seq: seq, Message: msg})
		return err
	}
	out := make([]protocol.ServerRun, 0, len(infos))
	for _, r := range infos {
		sr := protocol.ServerRun{Run: r.Run, Head: r.Head, Checkpoints: r.Checkpoints, URL: rs.RunURL(r.Run)}
		if r.NewestStep != nil {
			sr.Step = *r.NewestStep
		}
		out = append(out, sr)
	}
	y.emit(protocol.Event{Type: protocol.EvServerRuns, Seq: seq, ServerRuns: out})
	return nil
}

// push uploads what the server lacks of the run (remote.Push); auto is
// the first auto-push of a run in this session, after which the server's
// retention takes in the run's autosaves there and deletes those beyond
// keep: those sent now, and those auto-pushed before a reload or a crash
// of the page (which its local retention may have deleted already).
func (y *syncer) push(ctx context.Context, rs *remote.Store, op pushOp, auto bool, keep int) error {
	warn := func(id string, err error) {
		step, _ := persist.StepOfID(id)
		y.warn(op.seq, "push: skipped the checkpoint at step %s, %s: %s", commas(step), persist.Unusable(err), shortError(err.Error()))
	}
	r, err := remote.Push(ctx, rs, y.local, op.run, warn, nil)
	if gone(err) {
		return err
	}
	if err != nil {
		if _, moved := remote.IsHeadMoved(err); moved {
			y.stop(op.run)
		}
		if auto {
			y.warn(op.seq, "auto-push of run %s: %v", op.run, err)
		} else {
			y.fail(op.seq, "push %s: %v", op.run, err)
		}
		return err
	}
	y.heads[op.run], y.stopped[op.run] = r.Head, false
	name := protocol.SyncPush
	if auto {
		name = protocol.SyncAutoPush
		y.retain(ctx, rs, op.run, r.Head, keep, r.Autosaves...)
	}
	y.emit(protocol.Event{Type: protocol.EvSynced, Seq: op.seq, Synced: &protocol.Synced{
		Op: name, Run: op.run, Head: r.Head, Step: r.HeadStep, Sent: r.Pushed, Had: r.Had,
		Bytes: r.Bytes, Millis: ms(y.now().Sub(op.t0)), URL: rs.RunURL(op.run),
	}})
	return nil
}

func (y *syncer) stop(run string) {
	y.stopped[run] = true
	delete(y.heads, run)
}

// autoPushOne uploads a checkpoint just saved, moving the server's head
// from the one this session last saw. The first of a run in this session
// is a whole push (what the server lacks of the run's history). Auto-pushed
// autosaves beyond the retention's keep are deleted from the server again,
// as they are here.
func (y *syncer) autoPushOne(ctx context.Context, rs *remote.Store, op autoPushOp) error {
	head, known := y.heads[op.run]
	if !known || op.file == nil {
		return y.push(ctx, rs, pushOp{run: op.run, t0: op.t0}, true, op.keep)
	}
	err := rs.Put(ctx, op.run, op.id, bytes.NewReader(op.file), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: head})
	if h, moved := remote.IsHeadMoved(err); moved {
		y.stop(op.run)
		y.warn(0, "auto-push of run %s stopped: the server's head moved to %q, so another writer continues this run there. Pull it to continue from there, or fork.", op.run, h)
		return err
	}
	if err != nil {
		if !gone(err) {
			y.warn(0, "auto-push of step %s failed (the next save tries again): %v", commas(op.step), err)
		}
		return err
	}
	y.heads[op.run] = op.id
	if op.kind == persist.KindAutosave {
		y.retain(ctx, rs, op.run, op.id, op.keep, op.id)
	}
	y.emit(protocol.Event{Type: protocol.EvSynced, Synced: &protocol.Synced{
		Op: protocol.SyncAutoPush, Run: op.run, Head: op.id, Step: op.step, Sent: 1,
		Bytes: int64(len(op.file)), Millis: ms(y.now().Sub(op.t0)), URL: rs.RunURL(op.run),
	}})
	return nil
}

// retain records autosaves of run on the server (oldest first: at the
// first auto-push of the run, all of them; then each one auto-pushed) and
// deletes from the server those beyond keep, never its head: the local
// retention, mirrored. Pinned checkpoints and milestones stay.
func (y *syncer) retain(ctx context.Context, rs *remote.Store, run, head string, keep int, pushed ...string) {
	a := y.autos[run]
	if a == nil {
		a = &persist.Autosaves{}
		y.autos[run] = a
	}
	for _, id := range pushed {
		a.Add(id, persist.KindAutosave)
	}
	for _, v := range a.Trim(persist.Retention{KeepLast: keep}, head) {
		if err := rs.Delete(ctx, run, v); err != nil && !errors.Is(err, persist.ErrNotExist) {
			y.warn(0, "auto-push: deleting an old autosave of run %s from the server: %v", run, err)
			return
		}
	}
}

// pull downloads and verifies the server's head of the run (or, if it does
// not restore here, the newest checkpoint before it that does), then hands
// it to the loop, which stores it and resumes the run there.
func (y *syncer) pull(ctx context.Context, rs *remote.Store, op pullOp) error {
	failed := func(err error) error {
		if !gone(err) { // reached reports it
			y.fail(op.seq, "pull %s: %v", op.run, err)
		}
		return err
	}
	head, err := rs.Head(ctx, op.run)
	if errors.Is(err, persist.ErrNotExist) {
		y.fail(op.seq, "pull: run %s has no head on the server (push it first)", op.run)
		return err
	}
	if err != nil {
		return failed(err)
	}
	usable := func(ck *persist.Checkpoint) error {
		if ck.RunID != op.run {
			return fmt.Errorf("it belongs to run %s", ck.RunID)
		}
		return y.tables.restorable(ctx, ck.State)
	}
	b, err := persist.ReadAll(ctx, rs, op.run, head)
	if err != nil {
		return failed(err)
	}
	ck, err := persist.Decode(b)
	if err == nil {
		err = usable(ck)
	}
	if err != nil {
		// Continue from the newest usable checkpoint before it, as
		// train --resume URL does; the server's head stays what it is,
		// for the next push's precondition.
		y.warn(op.seq, "pull: the server's head of run %s (%s) is not usable here (%v); continuing from the newest valid checkpoint before it", op.run, head, err)
		if ck, b, err = y.newestUsable(ctx, rs, op, head, usable); err != nil {
			return failed(err)
		}
	}
	y.out.q.push(Input{res: pulled{op: op, ck: ck, b: b, head: head, url: rs.RunURL(op.run)}})
	return nil
}

// newestUsable is the newest checkpoint of the server's run at or before
// the step of head that usable accepts, and its bytes; it warns of each
// one it passes over.
func (y *syncer) newestUsable(ctx context.Context, rs *remote.Store, op pullOp, head string, usable func(*persist.Checkpoint) error) (*persist.Checkpoint, []byte, error) {
	opt := persist.NewestOptions{Accept: usable}
	if step, ok := persist.StepOfID(head); ok {
		opt.AtMost = &step
	}
	ck, skipped, err := persist.NewestWith(ctx, rs, op.run, opt)
	for _, sk := range skipped {
		if sk.ID != head {
			y.warn(op.seq, "pull: skipping checkpoint %s of run %s: %v", sk.ID, op.run, sk.Err)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("no usable checkpoint on the server: %w", err)
	}
	b, err := persist.ReadAll(ctx, rs, op.run, ck.ID)
	return ck, b, err
}
