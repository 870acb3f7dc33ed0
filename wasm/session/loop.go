package session

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"playground/persist"
	"playground/spec"
	"playground/wasm/protocol"
)

// loop is the session's run: the only goroutine that touches it. It
// dispatches the page's commands and the writer's and syncer's reports,
// drives the phase state machine, and trains in slices between them.
type loop struct {
	env    Env
	opt    Options
	inbox  *Inbox
	writes *queue[writeOp] // the writer's operations
	syncs  *queue[syncOp]  // the syncer's
	wakes  *atomic.Int64   // the writer's resumptions (writer.wakes)

	phase    string
	run      string
	owner    bool // this session holds run's writer lock
	running  bool
	pauseAt  uint64
	stopAt   uint64 // one-shot stop of CmdStep
	autoPush bool
	head     head // the newest checkpoint of the active state

	rn    runner    // the trainer, its slices, progress and replay
	auto  autosave  // when to checkpoint, and what saves cost
	view  viewer    // the pictures of the active model
	scrub scrubber  // time travel
	cmp   comparing // the comparison in progress

	data customData // the custom datasets read, a command waiting for one
}

// customData is what the loop keeps of custom datasets (a CSV): the ones
// read, shared with the syncer, and a command held up by a missing one.
type customData struct {
	tables  *tables   // the custom datasets read (shared, guarded)
	waiting *waitData // a command held up by a missing dataset
}

// head is the checkpoint the active state descends from.
type head struct {
	id        string // the next checkpoint's parent
	parentRun string // run of id, for a new run's first checkpoint only
	edit      string // how that checkpoint was edited from id's state ("" if not)
	step      uint64 // step of the newest checkpoint written or restored
	has       bool   // false: no checkpoint of this run's state yet
}

func newLoop(env Env, opt Options, inbox *Inbox, tb *tables) *loop {
	return &loop{
		data: customData{tables: tb},
		env:  env, opt: opt, inbox: inbox,
		phase: protocol.PhaseIdle, rn: runner{perSlice: 1, pace: pacer{set: protocol.PaceDefault}},
		auto:  newAutosave(opt.Autosave, opt.SaveShare),
		scrub: scrubber{store: env.Store, tables: tb, emit: env.Emit, now: env.Now, slice: opt.Slice, every: opt.ProgressEvery},
	}
}

func (l *loop) serve(ctx context.Context) {
	l.loadComparison(ctx)
	for {
		for _, in := range l.inbox.q.take() {
			l.handle(ctx, in)
		}
		if ctx.Err() != nil {
			return
		}
		trained := l.training()
		var wait time.Duration
		if trained {
			wait = l.slice(ctx)
		}
		if wait > 0 && !l.scrub.busy() {
			// Paced: nothing to do until the next step is due.
			t := time.NewTimer(wait)
			select {
			case <-l.inbox.q.notify:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		if l.scrub.busy() {
			// Time travel shares the thread, slice for slice.
			l.scrub.step(ctx, &l.view, l.flushIf)
		}
		if trained || l.scrub.busy() {
			t0, w0 := l.env.Now(), l.wakes.Load()
			l.env.Yield()
			l.auto.gap(l.env.Now().Sub(t0), l.wakes.Load() != w0)
			continue
		}
		select {
		case <-l.inbox.q.notify:
		case <-ctx.Done():
			return
		}
	}
}

func (l *loop) training() bool {
	return l.rn.tr != nil && l.owner && !l.auto.full() &&
		(l.phase == protocol.PhaseReplaying || l.phase == protocol.PhaseRunning)
}

// handle is one input: a report of the writer or the syncer, a lost lock,
// or a command of the page.
func (l *loop) handle(ctx context.Context, in Input) {
	switch {
	case in.res != nil:
		l.report(ctx, in.res)
		return
	case in.Err != nil:
		l.fail(0, "%v", in.Err)
		return
	case in.Lost != "":
		l.lost(in.Lost)
		return
	}
	c := in.Cmd
	if c.Type == protocol.CmdOpen && c.Query != "" {
		l.specFromQuery(&c)
	}
	if err := c.Validate(); err != nil {
		l.fail(c.Seq, "%v", err)
		return
	}
	if c.Autosave != nil {
		l.auto.set(*c.Autosave)
	}
	if c.PauseAt != nil {
		l.pauseAt = *c.PauseAt
	}
	if c.Pace != nil {
		l.rn.pace.set = *c.Pace
	}
	if c.Sync != nil && l.setSync(*c.Sync) && c.Type != protocol.CmdOpen && l.run != "" && l.owner {
		// Auto-push just turned on: the active run goes now, after the
		// writes queued.
		l.writes.push(forwardOp{op: autoPushOp{run: l.run, t0: l.env.Now(), keep: l.auto.cfg.Keep}})
	}
	l.data.tables.takeMissed()
	commands[c.Type](l, ctx, c, in.Data)
	l.noteMissed(c)
}

// commands are the handlers of the page's commands, by type.
var commands = map[string]func(l *loop, ctx context.Context, c protocol.Command, data []byte){
	protocol.CmdOpen:     func(l *loop, ctx context.Context, c protocol.Command, _ []byte) { l.open(ctx, c, false) },
	protocol.CmdTakeover: func(l *loop, ctx context.Context, c protocol.Command, _ []byte) { l.open(ctx, c, true) },
	protocol.CmdStart:    (*loop).cmdStart,
	protocol.CmdReset:    (*loop).cmdReset,
	protocol.CmdContinue: (*loop).cmdContinue,
	protocol.CmdPause:    (*loop).cmdPause,
	protocol.CmdResume:   (*loop).cmdResume,
	protocol.CmdStep:     (*loop).cmdStep,
	protocol.CmdSave:     (*loop).cmdSave,
	protocol.CmdHidden:   (*loop).cmdHidden,
	protocol.CmdSettings: func(l *loop, _ context.Context, c protocol.Command, _ []byte) { l.status(c.Seq) },
	protocol.CmdRestore:  func(l *loop, ctx context.Context, c protocol.Command, _ []byte) { l.restore(ctx, c) },
	protocol.CmdFork:     func(l *loop, ctx context.Context, c protocol.Command, _ []byte) { l.fork(ctx, c) },
	protocol.CmdList: func(l *loop, ctx context.Context, c protocol.Command, _ []byte) {
		go listRuns(ctx, l.env.Store, l.env.Emit, c.Seq)
	},
	protocol.CmdExport:     func(l *loop, ctx context.Context, c protocol.Command, _ []byte) { l.export(ctx, c) },
	protocol.CmdImport:     (*loop).importFile,
	protocol.CmdPin:        func(l *loop, _ context.Context, c protocol.Command, _ []byte) { l.pinOrDelete(c) },
	protocol.CmdDelete:     func(l *loop, _ context.Context, c protocol.Command, _ []byte) { l.pinOrDelete(c) },
	protocol.CmdScrub:      (*loop).cmdScrub,
	protocol.CmdPush:       func(l *loop, _ context.Context, c protocol.Command, _ []byte) { l.pushCmd(c) },
	protocol.CmdPull:       (*loop).cmdPull,
	protocol.CmdServerRuns: func(l *loop, _ context.Context, c protocol.Command, _ []byte) { l.syncs.push(serverRunsOp{seq: c.Seq}) },
	protocol.CmdCompare:    (*loop).cmdCompare,
	protocol.CmdData:       (*loop).cmdData,
	protocol.CmdEdit:       (*loop).cmdEdit,
	protocol.CmdPredict:    (*loop).cmdPredict,
	protocol.CmdDataset:    (*loop).cmdDataset,
}

func (l *loop) cmdStart(ctx context.Context, c protocol.Command, _ []byte) {
	spec, err := specOf(c)
	if err != nil {
		l.fail(c.Seq, "start: %v", err)
		return
	}
	l.startNew(ctx, c.Seq, spec, true)
}

func (l *loop) cmdReset(ctx context.Context, c protocol.Command, _ []byte) {
	if l.rn.tr == nil {
		l.fail(c.Seq, "reset: no run")
		return
	}
	sp := l.rn.tr.Spec
	if len(c.Spec) > 0 {
		var err error
		if sp, err = spec.ParseSpec(c.Spec); err != nil {
			l.fail(c.Seq, "reset: %v", err)
			return
		}
	}
	l.startNew(ctx, c.Seq, sp, l.running)
}

func (l *loop) cmdPause(ctx context.Context, c protocol.Command, _ []byte) {
	if l.needOwner(c) {
		l.pause(c.Seq)
	}
}

func (l *loop) cmdResume(_ context.Context, c protocol.Command, _ []byte) {
	if l.needOwner(c) {
		l.train(c.Seq, 0)
	}
}

func (l *loop) cmdStep(_ context.Context, c protocol.Command, _ []byte) {
	if !l.needOwner(c) {
		return
	}
	tr := l.rn.tr
	to := tr.Step + max(c.Steps, 1)
	if c.Epoch {
		to = tr.Step + uint64(tr.BatchesPerEpoch()-tr.Batch)
	}
	l.train(c.Seq, to)
}

// train trains on, up to stopAt when not 0.
func (l *loop) train(seq int64, stopAt uint64) {
	l.stopAt = stopAt
	l.running = true
	if l.phase == protocol.PhasePaused {
		l.setPhase(seq, protocol.PhaseRunning)
	}
}

func (l *loop) cmdSave(_ context.Context, c protocol.Command, _ []byte) {
	if l.needOwner(c) {
		kind := persist.KindAutosave
		if c.Kind == "pinned" {
			kind = persist.KindPinned
		}
		l.snapshot(c.Seq, kind, true, afterSave{})
	}
}

func (l *loop) cmdHidden(_ context.Context, c protocol.Command, _ []byte) {
	if l.rn.tr != nil && l.owner && l.unsaved() {
		l.snapshot(c.Seq, persist.KindAutosave, true, afterSave{})
	}
}

func (l *loop) cmdScrub(_ context.Context, c protocol.Command, _ []byte) {
	if run, ok := l.runOf(c); ok {
		l.scrub.start(c.Seq, run, c.At)
	}
}

func (l *loop) cmdPull(_ context.Context, c protocol.Command, _ []byte) {
	if run, ok := l.runOf(c); ok {
		l.syncs.push(pullOp{seq: c.Seq, run: run, t0: l.env.Now()})
	}
}

// flushIf waits for the writer to finish the writes queued for run when
// some are in flight: a fork's first checkpoints may still be on their way
// to the store.
func (l *loop) flushIf(run string) {
	if run != l.run || l.auto.inflight == 0 {
		return
	}
	reply := make(chan struct{})
	l.writes.push(flushOp{reply: reply})
	<-reply
}

// report handles a report of the writer or the syncer.
func (l *loop) report(ctx context.Context, r any) {
	switch r := r.(type) {
	case saved:
		l.saved(r)
	case retained:
		if r.err != nil {
			l.warn(0, "retention of run %s: %v", r.run, r.err)
		}
		if len(r.deleted) > 0 {
			go listRuns(ctx, l.env.Store, l.env.Emit, 0) // the page's listing may predate the deletions
		}
	case edited:
		if r.err != nil {
			l.fail(r.seq, "%s %s/%s: %v", r.verb, r.run, r.id, r.err)
			return
		}
		go listRuns(ctx, l.env.Store, l.env.Emit, r.seq)
	case forwarded:
		l.syncs.push(r.op)
	case pulled:
		l.adoptPulled(ctx, r)
	default:
		panic(fmt.Sprintf("session: unknown report %T", r))
	}
}

// setSync applies the page's sync settings; true when auto-push just
// turned on.
func (l *loop) setSync(c protocol.SyncSettings) (enabled bool) {
	l.syncs.push(syncSettingsOp{token: c.Token, autoPush: c.AutoPush})
	if c.AutoPush == nil {
		return false
	}
	was := l.autoPush
	l.autoPush = *c.AutoPush
	return l.autoPush && !was
}

func (l *loop) emit(ev protocol.Event) { l.env.Emit(ev, nil) }

func (l *loop) warn(seq int64, format string, a ...any) {
	l.emit(protocol.Event{Type: protocol.EvWarning, Seq: seq, Message: fmt.Sprintf(format, a...)})
}

func (l *loop) fail(seq int64, format string, a ...any) {
	l.emit(protocol.Event{Type: protocol.EvError, Seq: seq, Message: fmt.Sprintf(format, a...)})
}

// baseStatus is the session's status without the trainer's part.
func (l *loop) baseStatus() *protocol.Status {
	return &protocol.Status{Phase: l.phase, Run: l.run, Owner: l.owner, PauseAt: l.pauseAt, Autosave: l.auto.cfg,
		AutoPush: l.autoPush, Server: l.env.Server, Pace: l.rn.pace.set, Diverged: l.rn.diverged}
}

// status posts the session's state; when paused it carries the state's
// fingerprint.
func (l *loop) status(seq int64) {
	st := l.baseStatus()
	if tr := l.rn.tr; tr != nil {
		st.Name = tr.Spec.Name
		st.Spec = json.RawMessage(tr.Spec.JSON())
		st.Step, st.Epoch = tr.Step, tr.Epoch
		st.PaceNow = l.paceOf(tr)
		if l.phase == protocol.PhasePaused {
			st.Fingerprint = l.rn.fingerprint()
		}
	}
	l.emit(protocol.Event{Type: protocol.EvStatus, Seq: seq, Status: st})
	if l.phase == protocol.PhasePaused || l.phase == protocol.PhaseRunning {
		l.postView()
	}
}

func (l *loop) setPhase(seq int64, phase string) {
	l.phase = phase
	l.status(seq)
}

// runOf is the run a command names, by default the active one; false
// (and the command failed) when there is none.
func (l *loop) runOf(c protocol.Command) (string, bool) {
	run := c.Run
	if run == "" {
		run = l.run
	}
	if run == "" {
		l.fail(c.Seq, "%s: no run (none is active)", c.Type)
	}
	return run, run != ""
}

func (l *loop) needOwner(c protocol.Command) bool {
	switch {
	case l.run != "" && !l.owner:
		l.fail(c.Seq, "%s: run %s is trained in another tab (take it over first)", c.Type, l.run)
	case l.rn.tr == nil:
		l.fail(c.Seq, "%s: no run", c.Type)
	case !l.owner:
		l.fail(c.Seq, "%s: run %s is trained in another tab (take it over first)", c.Type, l.run)
	case l.phase == protocol.PhaseReplaying:
		// The command applies once the replay is done.
		switch c.Type {
		case protocol.CmdPause:
			l.rn.thenRun = false
		case protocol.CmdResume:
			l.rn.thenRun = true
		}
		return false
	default:
		return true
	}
	return false
}

func specOf(c protocol.Command) (spec.Spec, error) {
	if c.Preset != "" {
		return spec.Preset(c.Preset)
	}
	return spec.ParseSpec(c.Spec)
}

// lost stops a run whose lock another tab took.
func (l *loop) lost(run string) {
	l.writes.push(releaseOp{run: run})
	if run != l.run || !l.owner {
		return
	}
	l.owner, l.running = false, false
	if l.env.Locks != nil {
		l.env.Locks.Release(run) // a no-op when the lock was stolen
	}
	l.setPhase(0, protocol.PhaseLost)
}

// postView posts the active model's view unless it was posted for this
// run and step already.
func (l *loop) postView() {
	if tr := l.rn.tr; tr != nil && l.owner {
		l.view.post(tr, l.run, l.env.Emit)
	}
}

// unsaved says whether no checkpoint holds the active state's step yet.
func (l *loop) unsaved() bool { return !l.head.has || l.head.step != l.rn.tr.Step }
