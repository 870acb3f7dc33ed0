package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/spec"
	"playground/wasm/protocol"
)

// open resumes the run the command names (or the most recent one, or the
// most recent of its preset) at max(its newest valid checkpoint, the page's
// mark), or starts the command's preset or spec when there is none.
func (l *loop) open(ctx context.Context, c protocol.Command, steal bool) {
	t0 := l.env.Now()
	run, mark, err := l.chooseRun(ctx, c, steal)
	if err != nil {
		l.fail(c.Seq, "open: %v", err)
		return
	}
	if run == "" {
		if c.Preset == "" && len(c.Spec) == 0 {
			l.release()
			l.rn.tr, l.run = nil, ""
			l.setPhase(c.Seq, protocol.PhaseIdle)
			return
		}
		spec, err := specOf(c)
		if err != nil {
			l.fail(c.Seq, "open: %v", err)
			return
		}
		l.startNew(ctx, c.Seq, spec, c.Autostart)
		return
	}
	if run == l.run && l.owner && l.rn.tr != nil {
		l.status(c.Seq) // already ours
		return
	}
	ok, err := l.acquire(ctx, run, steal)
	if err != nil {
		l.fail(c.Seq, "open: lock %s: %v", run, err)
		return
	}
	if !ok {
		l.release()
		l.run, l.owner, l.running = run, false, false
		l.rn.tr = nil
		l.phase = protocol.PhaseLocked
		st := l.baseStatus()
		if mark != nil {
			st.Step = mark.Step
		}
		if info, err := newestInfo(ctx, l.env.Store, run); err == nil {
			st.Name = info.Spec.Name
			st.Spec = json.RawMessage(info.Spec.JSON()) // the page shows the run's settings
			st.Step = max(st.Step, info.Step)
		}
		l.emit(protocol.Event{Type: protocol.EvStatus, Seq: c.Seq, Status: st})
		return
	}
	var target uint64
	running := c.Autostart
	if mark != nil {
		target = mark.Step
		running = running || mark.Running
	}
	l.resumeRun(ctx, c.Seq, run, target, running, false, t0)
}

// chooseRun picks the run to resume: c.Run; else the one most recently
// marked (or, unmarked, most recently saved), among runs of c.Preset when
// given. "" when there is none.
func (l *loop) chooseRun(ctx context.Context, c protocol.Command, takeover bool) (string, *protocol.Mark, error) {
	markOf := func(run string) *protocol.Mark {
		var m *protocol.Mark
		for i := range c.Marks {
			if c.Marks[i].Run == run && (m == nil || c.Marks[i].Step > m.Step) {
				m = &c.Marks[i]
			}
		}
		return m
	}
	if c.Run != "" {
		return c.Run, markOf(c.Run), nil
	}
	if takeover && l.run != "" {
		return l.run, markOf(l.run), nil
	}
	runs, err := l.env.Store.Runs(ctx)
	if err != nil {
		return "", nil, err
	}
	var wantSpec string
	if c.Preset == "" && len(c.Spec) > 0 {
		spec, err := spec.ParseSpec(c.Spec)
		if err != nil {
			return "", nil, err
		}
		wantSpec = string(spec.JSON())
	}
	best, bestT := "", int64(-1)
	for _, run := range runs {
		info, err := newestInfo(ctx, l.env.Store, run)
		if err != nil {
			continue
		}
		if (c.Preset != "" && info.Spec.Name != c.Preset) || (wantSpec != "" && string(info.Spec.JSON()) != wantSpec) {
			continue
		}
		t := info.Created.UnixMilli()
		if m := markOf(run); m != nil && m.Time > t {
			t = m.Time
		}
		if t > bestT {
			best, bestT = run, t
		}
	}
	if best == "" {
		return "", nil, nil
	}
	return best, markOf(best), nil
}

// newestInfo reads the header of run's newest checkpoint that has a
// readable one.
func newestInfo(ctx context.Context, st persist.Store, run string) (persist.Info, error) {
	objs, err := st.List(ctx, run)
	if err != nil {
		return persist.Info{}, err
	}
	for _, o := range slices.Backward(objs) {
		if info, err := persist.ReadInfo(ctx, st, run, o.ID); err == nil {
			return info, nil
		}
	}
	return persist.Info{}, fmt.Errorf("run %s: %w", run, persist.ErrNotExist)
}

// acquire takes run's writer lock for this session, giving up the lock of
// the run it had.
func (l *loop) acquire(ctx context.Context, run string, steal bool) (bool, error) {
	if run == l.run && l.owner {
		return true, nil
	}
	head, ok, err := lockAtHead(ctx, l.env.Store, l.env.Locks, run, steal)
	if err != nil || !ok {
		return false, err
	}
	if l.run != run {
		l.release()
	}
	l.writes.push(ownOp{run: run, head: head, stolen: steal, keep: l.auto.cfg.Keep})
	return true, nil
}

// release gives up the current run's lock.
func (l *loop) release() {
	if l.run == "" || !l.owner {
		return
	}
	// Writes already queued for it still go out: they precede the release
	// in the writer's queue.
	run := l.run
	l.writes.push(releaseOp{run: run, unlock: true})
	l.owner = false
}

// resumeRun restores run's newest valid checkpoint (at or below pauseAt,
// when set and not exact) and replays up to target (capped by pauseAt).
func (l *loop) resumeRun(ctx context.Context, seq int64, run string, target uint64, running, exact bool, t0 time.Time) {
	l.run, l.owner, l.rn.tr = run, true, nil
	l.setPhase(seq, protocol.PhaseLoading)
	// pauseAt wins over the mark: a run asked to pause behind where it was
	// goes back there (the later steps can always be recomputed).
	pauseAt := l.pauseAt
	if exact {
		pauseAt = 0
	}
	limit := ^uint64(0)
	if pauseAt > 0 {
		limit = pauseAt
	}
	base, tr, skipped, err := newestValid(ctx, l.env.Store, l.data.tables, run, limit)
	if err == nil && base == nil && limit != ^uint64(0) {
		// Every checkpoint is past pauseAt: the run cannot go back there.
		l.warn(seq, "pause at step %s is before every checkpoint of run %s; ignoring it", commas(pauseAt), run)
		l.pauseAt, pauseAt = 0, 0
		var more []protocol.Skipped
		base, tr, more, err = newestValid(ctx, l.env.Store, l.data.tables, run, ^uint64(0))
		skipped = append(skipped, more...)
	}
	if err != nil {
		l.fail(seq, "resume %s: %v", run, err)
		return
	}
	if base == nil {
		l.noCheckpoint(ctx, seq, run, skipped)
		return
	}
	for _, sk := range skipped {
		l.warn(seq, "checkpoint at step %s was %s (%s) and skipped; resumed from the one at step %s",
			commas(sk.Step), sk.Unusable, shortError(sk.Error), commas(base.State.Step))
	}
	target = max(target, base.State.Step)
	if pauseAt > 0 && pauseAt >= base.State.Step && pauseAt < target {
		target = pauseAt
	}
	l.adopt(tr, base)
	l.rn.resumed = &protocol.Resumed{
		Run: run, Step: target, From: base.State.Step, FromID: base.ID,
		Replayed: target - base.State.Step, Skipped: skipped,
	}
	l.rn.resumeT0 = t0
	l.rn.thenRun = running
	if target > tr.Step {
		l.setPhase(seq, protocol.PhaseReplaying)
		return
	}
	l.finishResume(ctx)
}

// noCheckpoint ends the resume of run, which has no valid checkpoint: a
// compared child forked just before a reload is forked again, any other
// run cannot resume.
func (l *loop) noCheckpoint(ctx context.Context, seq int64, run string, skipped []protocol.Skipped) {
	if len(skipped) == 0 && l.cmp.follow && l.cmp.target(run) != 0 {
		l.compareNext(ctx)
		return
	}
	for _, sk := range skipped {
		l.warn(seq, "checkpoint at step %s was %s (%s) and skipped", commas(sk.Step), sk.Unusable, shortError(sk.Error))
	}
	l.release()
	l.rn.tr = nil
	l.fail(seq, "run %s has no checkpoint this page can resume (%d skipped)", run, len(skipped))
	l.setPhase(seq, protocol.PhaseIdle)
}

// newestValid returns the newest checkpoint of run at or below step limit
// that decodes and restores (nil if none), and the damaged ones it passed
// over.
func newestValid(ctx context.Context, st persist.Store, tb *tables, run string, limit uint64) (*persist.Checkpoint, *engine.Trainer, []protocol.Skipped, error) {
	var tr *engine.Trainer
	var missing error // the run's dataset is not here
	opt := persist.NewestOptions{Accept: func(c *persist.Checkpoint) (err error) {
		tr, err = tb.restore(ctx, c.State)
		if errors.Is(err, errNoData) {
			missing = err
		}
		return err
	}}
	if limit != ^uint64(0) {
		opt.AtMost = &limit
	}
	c, sk, err := persist.NewestWith(ctx, st, run, opt)
	var skipped []protocol.Skipped
	for _, k := range sk {
		if errors.Is(k.Err, persist.ErrNotExist) {
			continue // deleted meanwhile (retention), not damaged
		}
		step, _ := persist.StepOfID(k.ID)
		skipped = append(skipped, protocol.Skipped{ID: k.ID, Step: step, Error: k.Err.Error(), Unusable: persist.Unusable(k.Err)})
	}
	if missing != nil && (err != nil || c == nil) {
		return nil, nil, nil, missing
	}
	if errors.Is(err, persist.ErrNotExist) {
		return nil, nil, skipped, nil
	}
	if err != nil {
		return nil, nil, skipped, err
	}
	return c, tr, skipped, nil
}

// adopt makes tr, restored from c, the active trainer.
func (l *loop) adopt(tr *engine.Trainer, c *persist.Checkpoint) {
	l.rn.adopt(tr, c.Curve)
	l.head = head{id: c.ID, step: c.State.Step, has: true}
	l.auto.restart()
	l.stopAt, l.rn.diverged = 0, 0
}

// finishResume reports the resumed run once the replay reached its target
// and checkpoints the replayed state, so the replay never happens twice.
func (l *loop) finishResume(ctx context.Context) {
	r := l.rn.resumed
	l.rn.resumed = nil
	r.Millis = ms(l.env.Now().Sub(l.rn.resumeT0))
	l.emit(protocol.Event{Type: protocol.EvResumed, Resumed: r})
	if r.Replayed > 0 {
		l.snapshot(0, persist.KindAutosave, true, afterSave{})
	}
	l.running = l.rn.thenRun && !(l.pauseAt != 0 && l.rn.tr.Step == l.pauseAt)
	if l.running {
		l.setPhase(0, protocol.PhaseRunning)
	} else {
		l.setPhase(0, protocol.PhasePaused)
	}
	l.progress(l.env.Now(), !l.running) // the run's history, whole
	if l.cmp.follow {
		l.compareNext(ctx)
	}
}

// startNew starts a new run of spec at step 0, checkpointing its origin.
func (l *loop) startNew(ctx context.Context, seq int64, spec spec.Spec, running bool) {
	tr, err := l.data.tables.trainer(ctx, spec)
	if err != nil {
		l.fail(seq, "start: %v", err)
		return
	}
	l.becomeNew(ctx, seq, tr, persist.NewRunID(tr.Spec.Name), "", &persist.Checkpoint{}, "", running)
}

// here is the active run's head with the history up to its step: what a
// fork of the active state (continue, edit) descends from.
func (l *loop) here() *persist.Checkpoint {
	return &persist.Checkpoint{Meta: persist.Meta{ID: l.head.id}, Curve: l.rn.hist}
}

// becomeNew makes tr the active trainer of the new run, whose first
// checkpoint (kept as a milestone) descends from parentRun/parent.ID and
// continues its history; edit, if any, is the edit that made it.
func (l *loop) becomeNew(ctx context.Context, seq int64, tr *engine.Trainer, run, parentRun string, parent *persist.Checkpoint, edit string, running bool) bool {
	if ok, err := l.acquire(ctx, run, false); err != nil || !ok {
		l.fail(seq, "lock for new run %s: %v", run, err)
		return false
	}
	l.run, l.owner = run, true
	l.adopt(tr, parent)
	l.head.has = false
	l.head.parentRun, l.head.edit = parentRun, edit
	l.snapshot(seq, persist.KindMilestone, true, afterSave{})
	l.running = running
	if running {
		l.setPhase(seq, protocol.PhaseRunning)
	} else {
		l.setPhase(seq, protocol.PhasePaused)
	}
	l.progress(l.env.Now(), !running) // the history it continues
	// The next progress goes out after the first slice: a new run shows
	// its first steps at once, not ProgressEvery later.
	l.rn.lastProgress, l.rn.progressStep = time.Time{}, tr.Step
	return true
}

// restore continues from checkpoint c.Run/c.ID: in place when it is its
// run's newest, else as a fork with the same spec.
func (l *loop) restore(ctx context.Context, c protocol.Command) {
	objs, err := l.env.Store.List(ctx, c.Run)
	if err != nil {
		l.fail(c.Seq, "restore: %v", err)
		return
	}
	if len(objs) == 0 || objs[len(objs)-1].ID != c.ID {
		l.fork(ctx, c)
		return
	}
	step, _ := persist.StepOfID(c.ID)
	if c.Run != l.run || !l.owner {
		ok, err := l.acquire(ctx, c.Run, false)
		if err != nil || !ok {
			l.fail(c.Seq, "restore: run %s is trained in another tab", c.Run)
			return
		}
	}
	l.resumeRun(ctx, c.Seq, c.Run, step, false, true, l.env.Now())
}

// fork starts a new run from checkpoint c.Run/c.ID, with c.Spec if given.
func (l *loop) fork(ctx context.Context, c protocol.Command) {
	if err := l.forkTo(ctx, c.Seq, c.Run, c.ID, c.Spec, "", false); err != nil && err != errReported {
		l.fail(c.Seq, "fork: %v", err)
	}
}

// cmdContinue continues the active state with c.Spec as a new run forked
// at the current step: the state is checkpointed first (when no
// checkpoint holds it yet), so the new run's lineage names it.
func (l *loop) cmdContinue(ctx context.Context, c protocol.Command, _ []byte) {
	if !l.needOwner(c) {
		return
	}
	sp, err := spec.ParseSpec(c.Spec)
	if err == nil {
		err = continuable(l.rn.tr.Spec, sp)
	}
	if err == nil {
		st := l.rn.tr.State()
		st.Spec = sp
		err = l.forkHere(ctx, c.Seq, st, "", c.Autostart)
	}
	if err != nil {
		l.fail(c.Seq, "continue: these settings cannot continue step %s (start a new run): %v", commas(l.rn.tr.Step), err)
	}
}

// continuable says why a state of spec old cannot continue under new
// besides its tensors (engine.Restore checks those): the data and the
// batch size (which maps steps to epochs) must stay.
func continuable(old, new spec.Spec) error {
	o, n := old.Dataset, new.Dataset
	switch {
	case o.Kind != n.Kind || o.Samples != n.Samples || o.TestRatio != n.TestRatio:
		return errors.New("the dataset, its size or its test share changed")
	case old.BatchSize != new.BatchSize:
		return errors.New("the batch size changed")
	}
	return nil
}

// errReported is an error already posted to the page.
var errReported = errors.New("reported")

// forkTo makes a new run (newRun, or a fresh id) from checkpoint run/id
// with specJSON (its own when empty) the active one, training with running.
func (l *loop) forkTo(ctx context.Context, seq int64, run, id string, specJSON json.RawMessage, newRun string, running bool) error {
	b, err := persist.ReadAll(ctx, l.env.Store, run, id)
	if err != nil {
		return err
	}
	ck, err := persist.Decode(b)
	if err != nil {
		return err
	}
	st := ck.State
	if len(specJSON) > 0 {
		if st.Spec, err = spec.ParseSpec(specJSON); err != nil {
			return err
		}
	}
	tr, err := l.data.tables.restore(ctx, st)
	if err != nil {
		return fmt.Errorf("the new spec cannot continue this checkpoint: %v", err)
	}
	if newRun == "" {
		newRun = persist.NewRunID(tr.Spec.Name)
	}
	if !l.becomeNew(ctx, seq, tr, newRun, run, &persist.Checkpoint{Meta: persist.Meta{ID: id}, Curve: ck.Curve}, "", running) {
		return errReported
	}
	return nil
}

// importFile continues a checkpoint file from elsewhere (the native
// trainer): stored as it is, in its own run, which becomes the active one.
func (l *loop) importFile(ctx context.Context, c protocol.Command, b []byte) {
	ck, err := persist.Decode(b)
	if err != nil {
		l.fail(c.Seq, "import: not a usable checkpoint: %v", err)
		return
	}
	tr, err := l.data.tables.restore(ctx, ck.State)
	if err != nil {
		l.fail(c.Seq, "import: %v", err)
		return
	}
	ok, err := l.acquire(ctx, ck.RunID, false)
	if err != nil || !ok {
		l.fail(c.Seq, "import: run %s is trained in another tab", ck.RunID)
		return
	}
	l.run, l.owner = ck.RunID, true
	reply := make(chan error, 1)
	l.writes.push(putOp{run: ck.RunID, file: b, id: ck.ID, setHead: true, reply: reply})
	if err := <-reply; err != nil {
		l.fail(c.Seq, "import: %v", err)
		return
	}
	l.adopt(tr, ck)
	l.running = false
	l.emit(protocol.Event{Type: protocol.EvResumed, Seq: c.Seq, Resumed: &protocol.Resumed{
		Run: ck.RunID, Step: ck.State.Step, From: ck.State.Step, FromID: ck.ID,
	}})
	l.setPhase(c.Seq, protocol.PhasePaused)
	l.progress(l.env.Now(), true) // the file's history
}

// ownsRun says whether there is an active run this tab trains, else
// fails command seq (what) saying why not.
func (l *loop) ownsRun(seq int64, what string) bool {
	switch {
	case l.rn.tr == nil:
		l.fail(seq, "%s: no run", what)
		return false
	case !l.owner:
		l.fail(seq, "%s: run %s is trained in another tab", what, l.run)
		return false
	}
	return true
}

// export sends checkpoint c.Run/c.ID, or the current state (saved first
// unless a checkpoint of it exists).
func (l *loop) export(ctx context.Context, c protocol.Command) {
	run, id := c.Run, c.ID
	if id == "" {
		if !l.ownsRun(c.Seq, "export") {
			return
		}
		run = l.run
		if l.unsaved() || l.auto.inflight > 0 || l.head.id == "" {
			l.snapshot(c.Seq, persist.KindAutosave, true, afterSave{export: true})
			return
		}
		id = l.head.id // the checkpoint of the current state
	} else if run == "" {
		run = l.run
	}
	go readExport(ctx, l.env.Store, l.env.Emit, c.Seq, run, id)
}

// readExport posts checkpoint run/id of st; it only reads the store, in a
// goroutine of its own.
func readExport(ctx context.Context, st persist.Store, emit func(protocol.Event, []byte), seq int64, run, id string) {
	b, err := persist.ReadAll(ctx, st, run, id)
	if err != nil {
		emit(protocol.Event{Type: protocol.EvError, Seq: seq, Message: fmt.Sprintf("export: %v", err)}, nil)
		return
	}
	postExport(emit, seq, run, id, b)
}

// postExport posts checkpoint run/id's file b.
func postExport(emit func(protocol.Event, []byte), seq int64, run, id string, b []byte) {
	step, _ := persist.StepOfID(id)
	emit(protocol.Event{Type: protocol.EvExport, Seq: seq, Export: &protocol.Export{
		Run: run, ID: id, Step: step, Filename: run + "-" + id + ".safetensors",
	}}, b)
}

// pinOrDelete pins or deletes a checkpoint, taking its run's lock for the
// write when it is not the active run: after the writes queued before it
// (a release of that run among them).
func (l *loop) pinOrDelete(c protocol.Command) {
	e := edit{seq: c.Seq, run: c.Run, id: c.ID, claim: c.Run != l.run || !l.owner}
	if c.Type == protocol.CmdPin {
		l.writes.push(pinOp{edit: e})
	} else {
		l.writes.push(deleteOp{edit: e})
	}
}

// listRuns posts every run of st with its checkpoints (headers only) and
// lineage. It only reads the store, in a goroutine of its own.
func listRuns(ctx context.Context, st persist.Store, emit func(protocol.Event, []byte), seq int64) {
	fail := func(format string, a ...any) {
		emit(protocol.Event{Type: protocol.EvError, Seq: seq, Message: fmt.Sprintf(format, a...)}, nil)
	}
	runs, err := st.Runs(ctx)
	if err != nil {
		fail("list: %v", err)
		return
	}
	out := []protocol.RunInfo{}
	for _, run := range runs {
		ls, err := persist.ListInfo(ctx, st, run)
		if err != nil {
			fail("list %s: %v", run, err)
			return
		}
		out = append(out, runInfo(ctx, st, run, ls))
	}
	emit(protocol.Event{Type: protocol.EvRuns, Seq: seq, Runs: out}, nil)
}

// runInfo is run's listing of its checkpoints ls.
func runInfo(ctx context.Context, st persist.Store, run string, ls []persist.Listed) protocol.RunInfo {
	ri := protocol.RunInfo{Run: run, Checkpoints: []protocol.Checkpoint{}}
	if h, err := st.Head(ctx, run); err == nil {
		ri.Head = h
	}
	for _, l := range ls {
		cp := protocol.Checkpoint{Run: run, ID: l.ID, Size: l.Size}
		if l.Err != nil {
			cp.Step, _ = persist.StepOfID(l.ID)
			cp.Error, cp.Unusable = l.Err.Error(), persist.Unusable(l.Err)
		} else {
			in := l.Info
			cp.Step, cp.Epoch, cp.Kind = in.Step, in.Epoch, in.Kind
			cp.Created = in.Created.Format(time.RFC3339Nano)
			cp.Parent, cp.ParentRun = in.Parent, in.ParentRun
			ri.Name = in.Spec.Name
			if in.ParentRun != "" {
				ri.Parent, ri.ParentRun = in.Parent, in.ParentRun
			}
		}
		ri.Checkpoints = append(ri.Checkpoints, cp)
	}
	return ri
}

// adoptPulled stores a pulled checkpoint as its run's newest (unless the
// local copy is ahead) and resumes the run there, paused.
func (l *loop) adoptPulled(ctx context.Context, p pulled) {
	run, seq, ck := p.op.run, p.op.seq, p.ck
	var localStep uint64
	has := false
	if run == l.run && l.owner && l.rn.tr != nil {
		// Stop, and save where this tab got to: nothing is lost if the
		// local copy is ahead (the save goes before the pulled one).
		l.running, l.stopAt = false, 0
		if l.unsaved() {
			l.snapshot(seq, persist.KindAutosave, true, afterSave{})
		}
		localStep, has = l.rn.tr.Step, true
	} else if ok, err := l.acquire(ctx, run, false); err != nil || !ok {
		l.fail(seq, "pull: run %s is trained in another tab (take it over there, or close it)", run)
		return
	}
	if local, err := newestInfo(ctx, l.env.Store, run); err == nil && (!has || local.Step > localStep) {
		localStep, has = local.Step, true
	}
	kept := has && localStep > ck.State.Step
	reply := make(chan error, 1)
	l.writes.push(putOp{run: run, file: p.b, id: ck.ID, setHead: !kept, reply: reply})
	if err := <-reply; err != nil {
		l.fail(seq, "pull %s: storing the checkpoint: %v", run, err)
		return
	}
	l.syncs.push(pulledOp{run: run, head: p.head})
	sy := &protocol.Synced{
		Op: protocol.SyncPull, Run: run, Head: ck.ID, Step: ck.State.Step, Sent: 1, Bytes: int64(len(p.b)),
		Millis: ms(l.env.Now().Sub(p.op.t0)), URL: p.url, Kept: kept, LocalStep: ck.State.Step,
	}
	if kept {
		sy.LocalStep = localStep
		l.warn(seq, "pull: your copy of run %s (step %s) is ahead of the server's (step %s) and was kept; push it to update the server", run, commas(localStep), commas(ck.State.Step))
	}
	l.emit(protocol.Event{Type: protocol.EvSynced, Seq: seq, Synced: sy})
	l.resumeRun(ctx, seq, run, 0, false, true, p.op.t0)
}

// pushCmd pushes run c.Run (default: the active one), saving the active
// run's current state first when no checkpoint has it yet.
func (l *loop) pushCmd(c protocol.Command) {
	run, ok := l.runOf(c)
	if !ok {
		return
	}
	op := pushOp{seq: c.Seq, run: run, t0: l.env.Now()}
	if run == l.run && l.owner && l.rn.tr != nil && l.unsaved() {
		l.snapshot(c.Seq, persist.KindAutosave, true, afterSave{push: &op})
		return
	}
	// After the writes already queued, so the newest save goes too.
	l.writes.push(forwardOp{op: op})
}

// shortError is the first two clauses of a decoding error ("checkpoint
// corrupt: checksum mismatch"), for the status line; the rest (hashes,
// offsets) stays in the Resumed event.
func shortError(e string) string {
	parts := strings.SplitN(e, ": ", 3)
	return strings.Join(parts[:min(2, len(parts))], ": ")
}
