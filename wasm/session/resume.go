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
	"playground/wasm/protocol"
)

// open resumes the run the command names (or the most recent one, or the
// most recent of its preset) at max(its newest valid checkpoint, the page's
// mark), or starts the command's preset or spec when there is none.
func (s *Session) open(ctx context.Context, c protocol.Command, steal bool) {
	t0 := s.env.Now()
	run, mark, err := s.chooseRun(ctx, c, steal)
	if err != nil {
		s.fail(c.Seq, "open: %v", err)
		return
	}
	if run == "" {
		if c.Preset == "" && len(c.Spec) == 0 {
			s.release()
			s.tr, s.run = nil, ""
			s.setPhase(c.Seq, protocol.PhaseIdle)
			return
		}
		spec, err := specOf(c)
		if err != nil {
			s.fail(c.Seq, "open: %v", err)
			return
		}
		s.startNew(ctx, c.Seq, spec, c.Autostart)
		return
	}
	if run == s.run && s.owner && s.tr != nil {
		s.status(c.Seq) // already ours
		return
	}
	ok, err := s.acquire(ctx, run, steal)
	if err != nil {
		s.fail(c.Seq, "open: lock %s: %v", run, err)
		return
	}
	if !ok {
		s.release()
		s.run, s.owner, s.running = run, false, false
		s.tr = nil
		s.phase = protocol.PhaseLocked
		st := s.baseStatus()
		if mark != nil {
			st.Step = mark.Step
		}
		if info, err := newestInfo(ctx, s.env.Store, run); err == nil {
			st.Name = info.Spec.Name
			st.Spec = json.RawMessage(info.Spec.JSON()) // the page shows the run's settings
			st.Step = max(st.Step, info.Step)
		}
		s.emit(protocol.Event{Type: protocol.EvStatus, Seq: c.Seq, Status: st})
		return
	}
	var target uint64
	running := c.Autostart
	if mark != nil {
		target = mark.Step
		running = running || mark.Running
	}
	s.resumeRun(ctx, c.Seq, run, target, running, false, t0)
}

// chooseRun picks the run to resume: c.Run; else the one most recently
// marked (or, unmarked, most recently saved), among runs of c.Preset when
// given. "" when there is none.
func (s *Session) chooseRun(ctx context.Context, c protocol.Command, takeover bool) (string, *protocol.Mark, error) {
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
	if takeover && s.run != "" {
		return s.run, markOf(s.run), nil
	}
	runs, err := s.env.Store.Runs(ctx)
	if err != nil {
		return "", nil, err
	}
	var wantSpec string
	if c.Preset == "" && len(c.Spec) > 0 {
		spec, err := engine.ParseSpec(c.Spec)
		if err != nil {
			return "", nil, err
		}
		wantSpec = string(spec.JSON())
	}
	best, bestT := "", int64(-1)
	for _, run := range runs {
		info, err := newestInfo(ctx, s.env.Store, run)
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
func (s *Session) acquire(ctx context.Context, run string, steal bool) (bool, error) {
	if run == s.run && s.owner {
		return true, nil
	}
	head, ok, err := s.lockAtHead(ctx, run, steal)
	if err != nil || !ok {
		return false, err
	}
	if s.run != run {
		s.release()
	}
	s.w.own(run, head, steal)
	// Apply retention to what earlier sessions left, in the writer (off the
	// resume's critical path) before any save of the run.
	s.w.q.push(job{run: run, keep: s.opt.Autosave.Keep, retainAll: true})
	return true, nil
}

// release gives up the current run's lock.
func (s *Session) release() {
	if s.run == "" || !s.owner {
		return
	}
	// Writes already queued for it still go out: they precede the release
	// in the writer's queue.
	run := s.run
	s.w.q.push(job{run: run, release: true})
	s.owner = false
}

// resumeRun restores run's newest valid checkpoint (at or below pauseAt,
// when set and not exact) and replays up to target (capped by pauseAt).
func (s *Session) resumeRun(ctx context.Context, seq int64, run string, target uint64, running, exact bool, t0 time.Time) {
	s.run, s.owner, s.tr = run, true, nil
	s.setPhase(seq, protocol.PhaseLoading)
	// pauseAt wins over the mark: a run asked to pause behind where it was
	// goes back there (the later steps can always be recomputed).
	pauseAt := s.pauseAt
	if exact {
		pauseAt = 0
	}
	limit := ^uint64(0)
	if pauseAt > 0 {
		limit = pauseAt
	}
	base, tr, skipped, err := s.newestValid(ctx, run, limit)
	if err == nil && base == nil && limit != ^uint64(0) {
		// Every checkpoint is past pauseAt: the run cannot go back there.
		s.warn(seq, "pause at step %s is before every checkpoint of run %s; ignoring it", commas(pauseAt), run)
		s.pauseAt, pauseAt = 0, 0
		var more []protocol.Skipped
		base, tr, more, err = s.newestValid(ctx, run, ^uint64(0))
		skipped = append(skipped, more...)
	}
	if err != nil {
		s.fail(seq, "resume %s: %v", run, err)
		return
	}
	if base == nil {
		for _, sk := range skipped {
			s.warn(seq, "checkpoint at step %s was damaged (%s) and skipped", commas(sk.Step), shortError(sk.Error))
		}
		s.release()
		s.tr = nil
		s.fail(seq, "run %s has no valid checkpoint to resume (%d damaged)", run, len(skipped))
		s.setPhase(seq, protocol.PhaseIdle)
		return
	}
	for _, sk := range skipped {
		s.warn(seq, "checkpoint at step %s was damaged (%s) and skipped; resumed from the one at step %s",
			commas(sk.Step), shortError(sk.Error), commas(base.State.Step))
	}
	target = max(target, base.State.Step)
	if pauseAt > 0 && pauseAt >= base.State.Step && pauseAt < target {
		target = pauseAt
	}
	s.adopt(tr, base)
	s.resumed = &protocol.Resumed{
		Run: run, Step: target, From: base.State.Step, FromID: base.ID,
		Replayed: target - base.State.Step, Skipped: skipped,
	}
	s.resumeT0 = t0
	s.thenRun = running
	if target > tr.Step {
		s.setPhase(seq, protocol.PhaseReplaying)
		return
	}
	s.finishResume(ctx)
}

// newestValid returns the newest checkpoint of run at or below step limit
// that decodes and restores (nil if none), and the damaged ones it passed
// over.
func (s *Session) newestValid(ctx context.Context, run string, limit uint64) (*persist.Checkpoint, *engine.Trainer, []protocol.Skipped, error) {
	var tr *engine.Trainer
	opt := persist.NewestOptions{Accept: func(c *persist.Checkpoint) (err error) {
		tr, err = engine.Restore(c.State)
		return err
	}}
	if limit != ^uint64(0) {
		opt.AtMost = &limit
	}
	c, sk, err := persist.NewestWith(ctx, s.env.Store, run, opt)
	var skipped []protocol.Skipped
	for _, k := range sk {
		if errors.Is(k.Err, persist.ErrNotExist) {
			continue // deleted meanwhile (retention), not damaged
		}
		step, _ := persist.StepOfID(k.ID)
		skipped = append(skipped, protocol.Skipped{ID: k.ID, Step: step, Error: k.Err.Error()})
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
func (s *Session) adopt(tr *engine.Trainer, c *persist.Checkpoint) {
	s.tr = tr
	s.parent, s.parentRun = c.ID, ""
	s.snapStep, s.hasSnap = c.State.Step, true
	s.sinceSave, s.sinceMilestone = 0, 0
	s.stopAt = 0
	s.curve = s.curve[:0]
	s.lastProgress, s.nextEval = time.Time{}, time.Time{}
	s.testLoss, s.accuracy = nil, nil
}

// finishResume reports the resumed run once the replay reached its target
// and checkpoints the replayed state, so the replay never happens twice.
func (s *Session) finishResume(ctx context.Context) {
	r := s.resumed
	s.resumed = nil
	r.Millis = ms(s.env.Now().Sub(s.resumeT0))
	s.emit(protocol.Event{Type: protocol.EvResumed, Resumed: r})
	if r.Replayed > 0 {
		s.snapshot(0, persist.KindAutosave, true, nil)
	}
	s.running = s.thenRun && !(s.pauseAt != 0 && s.tr.Step == s.pauseAt)
	s.lastProgress = s.env.Now()
	s.progressStep = s.tr.Step
	if s.running {
		s.setPhase(0, protocol.PhaseRunning)
	} else {
		s.setPhase(0, protocol.PhasePaused)
	}
}

// startNew starts a new run of spec at step 0, checkpointing its origin.
func (s *Session) startNew(ctx context.Context, seq int64, spec engine.Spec, running bool) {
	tr, err := engine.NewTrainer(spec)
	if err != nil {
		s.fail(seq, "start: %v", err)
		return
	}
	s.becomeNew(ctx, seq, tr, persist.NewRunID(tr.Spec.Name), "", "", running)
}

// becomeNew makes tr the active trainer of the new run, whose first
// checkpoint (kept as a milestone) descends from parentRun/parent.
func (s *Session) becomeNew(ctx context.Context, seq int64, tr *engine.Trainer, run, parentRun, parent string, running bool) {
	if ok, err := s.acquire(ctx, run, false); err != nil || !ok {
		s.fail(seq, "lock for new run %s: %v", run, err)
		return
	}
	s.run, s.owner = run, true
	s.adopt(tr, &persist.Checkpoint{Meta: persist.Meta{ID: parent}})
	s.hasSnap = false
	s.parentRun = parentRun
	s.snapshot(seq, persist.KindMilestone, true, nil)
	s.running = running
	// The first progress goes out after the first slice: a new run shows
	// its first steps at once, not ProgressEvery later.
	s.lastProgress, s.progressStep = time.Time{}, tr.Step
	if running {
		s.setPhase(seq, protocol.PhaseRunning)
	} else {
		s.setPhase(seq, protocol.PhasePaused)
	}
}

// restore continues from checkpoint c.Run/c.ID: in place when it is its
// run's newest, else as a fork with the same spec.
func (s *Session) restore(ctx context.Context, c protocol.Command) {
	objs, err := s.env.Store.List(ctx, c.Run)
	if err != nil {
		s.fail(c.Seq, "restore: %v", err)
		return
	}
	if len(objs) == 0 || objs[len(objs)-1].ID != c.ID {
		s.fork(ctx, c)
		return
	}
	step, _ := persist.StepOfID(c.ID)
	if c.Run != s.run || !s.owner {
		ok, err := s.acquire(ctx, c.Run, false)
		if err != nil || !ok {
			s.fail(c.Seq, "restore: run %s is trained in another tab", c.Run)
			return
		}
	}
	s.resumeRun(ctx, c.Seq, c.Run, step, false, true, s.env.Now())
}

// fork starts a new run from checkpoint c.Run/c.ID, with c.Spec if given.
func (s *Session) fork(ctx context.Context, c protocol.Command) {
	b, err := persist.ReadAll(ctx, s.env.Store, c.Run, c.ID)
	if err != nil {
		s.fail(c.Seq, "fork: %v", err)
		return
	}
	ck, err := persist.Decode(b)
	if err != nil {
		s.fail(c.Seq, "fork: %v", err)
		return
	}
	st := ck.State
	if len(c.Spec) > 0 {
		if st.Spec, err = engine.ParseSpec(c.Spec); err != nil {
			s.fail(c.Seq, "fork: %v", err)
			return
		}
	}
	tr, err := engine.Restore(st)
	if err != nil {
		s.fail(c.Seq, "fork: the new spec cannot continue this checkpoint: %v", err)
		return
	}
	s.becomeNew(ctx, c.Seq, tr, persist.NewRunID(tr.Spec.Name), c.Run, c.ID, false)
}

// importFile continues a checkpoint file from elsewhere (the native
// trainer): stored as it is, in its own run, which becomes the active one.
func (s *Session) importFile(ctx context.Context, c protocol.Command, b []byte) {
	ck, err := persist.Decode(b)
	if err != nil {
		s.fail(c.Seq, "import: not a usable checkpoint: %v", err)
		return
	}
	tr, err := engine.Restore(ck.State)
	if err != nil {
		s.fail(c.Seq, "import: %v", err)
		return
	}
	ok, err := s.acquire(ctx, ck.RunID, false)
	if err != nil || !ok {
		s.fail(c.Seq, "import: run %s is trained in another tab", ck.RunID)
		return
	}
	s.run, s.owner = ck.RunID, true
	reply := make(chan error, 1)
	s.w.q.push(job{seq: c.Seq, run: ck.RunID, file: b, id: ck.ID, setHead: true, reply: reply})
	if err := <-reply; err != nil {
		s.fail(c.Seq, "import: %v", err)
		return
	}
	s.adopt(tr, ck)
	s.running = false
	s.emit(protocol.Event{Type: protocol.EvResumed, Seq: c.Seq, Resumed: &protocol.Resumed{
		Run: ck.RunID, Step: ck.State.Step, From: ck.State.Step, FromID: ck.ID,
	}})
	s.setPhase(c.Seq, protocol.PhasePaused)
}

// export sends checkpoint c.Run/c.ID, or the current state (saved first
// unless a checkpoint of it exists).
func (s *Session) export(ctx context.Context, c protocol.Command) {
	send := func(run, id string, b []byte) {
		step, _ := persist.StepOfID(id)
		s.env.Emit(protocol.Event{Type: protocol.EvExport, Seq: c.Seq, Export: &protocol.Export{
			Run: run, ID: id, Step: step, Filename: run + "-" + id + ".safetensors",
		}}, b)
	}
	run, id := c.Run, c.ID
	if id == "" {
		switch {
		case s.tr == nil:
			s.fail(c.Seq, "export: no run")
			return
		case !s.owner:
			s.fail(c.Seq, "export: run %s is trained in another tab", s.run)
			return
		}
		run = s.run
		if s.unsaved() || s.inflight > 0 || s.parent == "" {
			s.snapshot(c.Seq, persist.KindAutosave, true, func(id string, b []byte) { send(run, id, b) })
			return
		}
		id = s.parent // the checkpoint of the current state
	} else if run == "" {
		run = s.run
	}
	go func() {
		b, err := persist.ReadAll(ctx, s.env.Store, run, id)
		if err != nil {
			s.fail(c.Seq, "export: %v", err)
			return
		}
		send(run, id, b)
	}()
}

// pinOrDelete pins or deletes a checkpoint, taking its run's lock for the
// write when it is not the active run.
func (s *Session) pinOrDelete(ctx context.Context, c protocol.Command) {
	j := job{seq: c.Seq, run: c.Run, reply: make(chan error, 1)}
	if c.Type == protocol.CmdPin {
		j.pin = c.ID
	} else {
		j.del = c.ID
	}
	if c.Run != s.run || !s.owner {
		// Another run: the writer takes its lock for this job only, after
		// the writes queued before it (a release of that run among them).
		j.claim = true
	}
	s.w.q.push(j)
	go func() {
		if err := <-j.reply; err != nil {
			s.fail(c.Seq, "%s %s/%s: %v", c.Type, c.Run, c.ID, err)
			return
		}
		s.list(ctx, c.Seq)
	}()
}

// list posts every run with its checkpoints (headers only) and lineage.
func (s *Session) list(ctx context.Context, seq int64) {
	st := s.env.Store
	runs, err := st.Runs(ctx)
	if err != nil {
		s.fail(seq, "list: %v", err)
		return
	}
	out := []protocol.RunInfo{}
	for _, run := range runs {
		ls, err := persist.ListInfo(ctx, st, run)
		if err != nil {
			s.fail(seq, "list %s: %v", run, err)
			return
		}
		ri := protocol.RunInfo{Run: run, Checkpoints: []protocol.Checkpoint{}}
		if h, err := st.Head(ctx, run); err == nil {
			ri.Head = h
		}
		for _, l := range ls {
			cp := protocol.Checkpoint{Run: run, ID: l.ID, Size: l.Size}
			if l.Err != nil {
				cp.Step, _ = persist.StepOfID(l.ID)
				cp.Error = l.Err.Error()
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
		out = append(out, ri)
	}
	s.emit(protocol.Event{Type: protocol.EvRuns, Seq: seq, Runs: out})
}

// shortError is the first two clauses of a decoding error ("checkpoint
// corrupt: checksum mismatch"), for the status line; the rest (hashes,
// offsets) stays in the Resumed event.
func shortError(e string) string {
	parts := strings.SplitN(e, ": ", 3)
	return strings.Join(parts[:min(2, len(parts))], ": ")
}
