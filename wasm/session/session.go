// Package session is the engine worker's logic in pure Go: one training run
// driven by protocol commands, checkpointed to a persist.Store on an
// autosave policy, resumed after a reload by restoring the newest valid
// checkpoint and replaying deterministically up to the page's mark, and
// guarded by a per-run writer lock. The js/wasm main in wasm/worker only
// wires it to the browser (messages, IndexedDB, WebCrypto, Web Locks).
package session

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/spec"
	"playground/wasm/protocol"
)

// Env is what the session needs from its host.
type Env struct {
	Store persist.Store
	// Emit posts an event (with a file in data for EvExport). It is called
	// from the session's goroutines and must not block for long.
	Emit func(ev protocol.Event, data []byte)
	// Sum is the SHA-256 of header then data; nil uses crypto/sha256. The
	// browser passes WebCrypto so hashing leaves the training thread.
	Sum func(header, data []byte) ([]byte, error)
	// Locks grants one writer per run; nil grants every lock.
	Locks Locker
	// Yield lets the host's event loop run between training slices; nil
	// uses runtime.Gosched (time.Sleep on js).
	Yield func()
	// IsQuota reports a write refused for lack of space.
	IsQuota func(error) bool
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Server is the base URL of the sync server (playground/server) that
	// push, pull and auto-push talk to; "" for none.
	Server string
}

// Locker is the per-run writer lock (Web Locks in the browser). Losing a
// lock to another holder is reported by pushing Input{Lost: run}.
type Locker interface {
	// Acquire takes run's lock; with steal it takes it from its holder,
	// otherwise it reports false when another holder has it.
	Acquire(ctx context.Context, run string, steal bool) (bool, error)
	// Release gives run's lock up.
	Release(run string)
}

// Options tune a Session.
type Options struct {
	Autosave      protocol.Autosave
	SaveShare     float64       // largest share of training time spent on time-based autosaves
	Slice         time.Duration // training time between yields to the event loop
	ProgressEvery time.Duration // how often progress is posted while training
	EvalShare     float64       // largest share of time spent evaluating the test split
}

// NewOptions returns the defaults. Autosave after 0.5 s of training, or
// up to 2 s when saving would take more than 1% of the training thread's
// time (measured: each save's pause is a few milliseconds). A reload replays
// the steps since the last autosave, so the interval bounds the replay and
// keeps navigation to the first resumed step under 1.5 s. Step-based
// autosave is off by default: time bounds the replay whatever the model.
func NewOptions() Options {
	return Options{
		Autosave:      protocol.Autosave{EveryMillis: 500, Keep: 5, MilestoneMs: 60_000},
		SaveShare:     0.01,
		Slice:         10 * time.Millisecond,
		ProgressEvery: 250 * time.Millisecond,
		EvalShare:     0.02,
	}
}

// Session is one page's engine: at most one active run at a time.
type Session struct {
	env   Env
	opt   Options
	inbox *Inbox
	w     *writer
	sync  *syncer

	phase     string
	tr        *engine.Trainer
	run       string
	parent    string // checkpoint the next one descends from
	parentRun string // run of parent, for a new run's first checkpoint only
	owner     bool
	running   bool
	pauseAt   uint64
	stopAt    uint64 // one-shot stop of CmdStep

	// replay in progress, up to resumed.Step
	resumed  *protocol.Resumed
	resumeT0 time.Time
	thenRun  bool

	// autosave
	snapStep       uint64 // step of the newest checkpoint written or restored
	hasSnap        bool
	inflight       int           // autosaves handed to the writer, not yet done
	sinceSave      time.Duration // training time since the last autosave
	sinceMilestone time.Duration
	pauseAcc       time.Duration   // training-thread time spent on the save in flight
	pauses         []time.Duration // that time for the last few autosaves
	saveEvery      time.Duration   // the time-based autosave interval (setSaveEvery)
	baseGap        time.Duration   // usual yield gap without a save in flight

	// progress
	lastProgress time.Time
	progressStep uint64
	nextEval     time.Time
	evalStep     uint64
	testLoss     *float64
	accuracy     *float64
	perSlice     int // steps per slice, adapted to Slice

	fp struct { // the last fingerprint (fingerprint)
		tr   *engine.Trainer
		step uint64
		sum  string
	}

	ext // the page's pictures and time travel (view.go, scrub.go)
}

// New returns a session reading its inputs from inbox.
func New(env Env, opt Options, inbox *Inbox) *Session {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Sum == nil {
		env.Sum = func(header, data []byte) ([]byte, error) {
			h := sha256.New()
			h.Write(header)
			h.Write(data)
			return h.Sum(nil), nil
		}
	}
	if env.Yield == nil {
		env.Yield = defaultYield
	}
	if env.IsQuota == nil {
		env.IsQuota = func(error) bool { return false }
	}
	def := NewOptions()
	if opt.Slice <= 0 {
		opt.Slice = def.Slice
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = def.ProgressEvery
	}
	if opt.EvalShare <= 0 {
		opt.EvalShare = def.EvalShare
	}
	if opt.SaveShare <= 0 {
		opt.SaveShare = def.SaveShare
	}
	if opt.Autosave.Keep <= 0 {
		opt.Autosave.Keep = def.Autosave.Keep
	}
	s := &Session{env: env, opt: opt, inbox: inbox, phase: protocol.PhaseIdle, perSlice: 1}
	s.w = newWriter(s)
	s.sync = newSyncer(s)
	s.setSaveEvery()
	return s
}

// Run handles inputs and trains until ctx ends.
func (s *Session) Run(ctx context.Context) {
	wdone, ydone := make(chan struct{}), make(chan struct{})
	go func() { s.w.loop(ctx); close(wdone) }()
	go func() { s.sync.loop(ctx); close(ydone) }()
	defer func() { <-wdone; <-ydone }()
	for {
		for _, in := range s.inbox.q.take() {
			s.handle(ctx, in)
		}
		if ctx.Err() != nil {
			return
		}
		trained := s.training()
		if trained {
			s.slice(ctx)
		}
		if s.scrub != nil {
			s.scrubSlice(ctx) // time travel shares the thread, slice for slice
		}
		if trained || s.scrub != nil {
			t0, w0 := s.env.Now(), s.w.wakes.Load()
			s.env.Yield()
			s.accountGap(s.env.Now().Sub(t0), s.w.wakes.Load() != w0)
			continue
		}
		select {
		case <-s.inbox.q.notify:
		case <-ctx.Done():
			return
		}
	}
}

// maxInflight bounds the checkpoints waiting for the writer: training
// waits rather than queueing states faster than storage takes them.
const maxInflight = 3

func (s *Session) training() bool {
	return s.tr != nil && s.owner && s.inflight < maxInflight &&
		(s.phase == protocol.PhaseReplaying || s.phase == protocol.PhaseRunning)
}

// accountGap charges a save in flight with the time a yield in which the
// writer ran took over the mean gap without a save: the training thread's
// share of encoding, hashing and handing the checkpoint to the writer
// worker. Yields while the writer only waits (for WebCrypto, IndexedDB)
// cost the save nothing.
func (s *Session) accountGap(gap time.Duration, writerRan bool) {
	if s.inflight > 0 {
		if writerRan {
			s.pauseAcc += gap - s.baseGap
		}
		return
	}
	if s.baseGap == 0 {
		s.baseGap = gap
	} else {
		s.baseGap += (gap - s.baseGap) / 16
	}
}

func (s *Session) emit(ev protocol.Event) { s.env.Emit(ev, nil) }

func (s *Session) warn(seq int64, format string, a ...any) {
	s.emit(protocol.Event{Type: protocol.EvWarning, Seq: seq, Message: fmt.Sprintf(format, a...)})
}

func (s *Session) fail(seq int64, format string, a ...any) {
	s.emit(protocol.Event{Type: protocol.EvError, Seq: seq, Message: fmt.Sprintf(format, a...)})
}

// baseStatus is the session's status without the trainer's part.
func (s *Session) baseStatus() *protocol.Status {
	return &protocol.Status{Phase: s.phase, Run: s.run, Owner: s.owner, PauseAt: s.pauseAt, Autosave: s.opt.Autosave,
		AutoPush: s.sync.autoPush.Load(), Server: s.env.Server}
}

// fingerprint is the active state's fingerprint, computed once per
// trainer and step (a paused session answers every command with a status).
func (s *Session) fingerprint() string {
	if s.fp.tr != s.tr || s.fp.step != s.tr.Step {
		s.fp.tr, s.fp.step, s.fp.sum = s.tr, s.tr.Step, persist.Fingerprint(s.tr.State())
	}
	return s.fp.sum
}

// status posts the session's state; when paused it carries the state's
// fingerprint.
func (s *Session) status(seq int64) {
	st := s.baseStatus()
	if s.tr != nil {
		st.Name = s.tr.Spec.Name
		st.Spec = json.RawMessage(s.tr.Spec.JSON())
		st.Step, st.Epoch = s.tr.Step, s.tr.Epoch
		if s.phase == protocol.PhasePaused {
			st.Fingerprint = s.fingerprint()
		}
	}
	s.emit(protocol.Event{Type: protocol.EvStatus, Seq: seq, Status: st})
	if s.phase == protocol.PhasePaused || s.phase == protocol.PhaseRunning {
		s.postView()
	}
}

func (s *Session) setPhase(seq int64, phase string) {
	s.phase = phase
	s.status(seq)
}

func (s *Session) handle(ctx context.Context, in Input) {
	switch {
	case in.fn != nil:
		in.fn(ctx)
		return
	case in.Err != nil:
		s.fail(0, "%v", in.Err)
		return
	case in.Lost != "":
		s.lost(in.Lost)
		return
	}
	c := in.Cmd
	if c.Type == protocol.CmdOpen && c.Query != "" {
		s.specFromQuery(&c)
	}
	if err := c.Validate(); err != nil {
		s.fail(c.Seq, "%v", err)
		return
	}
	if c.Autosave != nil {
		s.setAutosave(*c.Autosave)
	}
	if c.PauseAt != nil {
		s.pauseAt = *c.PauseAt
	}
	if c.Sync != nil && s.sync.set(*c.Sync) && c.Type != protocol.CmdOpen && s.run != "" && s.owner {
		// Auto-push just turned on: the active run goes now.
		j := syncJob{op: opAutoPush, run: s.run, t0: s.env.Now(), keep: s.opt.Autosave.Keep}
		s.w.q.push(job{run: s.run, after: func() { s.sync.q.push(j) }})
	}
	switch c.Type {
	case protocol.CmdOpen:
		s.open(ctx, c, false)
	case protocol.CmdTakeover:
		s.open(ctx, c, true)
	case protocol.CmdStart:
		spec, err := specOf(c)
		if err != nil {
			s.fail(c.Seq, "start: %v", err)
			return
		}
		s.startNew(ctx, c.Seq, spec, true)
	case protocol.CmdReset:
		if s.tr == nil {
			s.fail(c.Seq, "reset: no run")
			return
		}
		s.startNew(ctx, c.Seq, s.tr.Spec, s.running)
	case protocol.CmdPause:
		if s.needOwner(c) {
			s.pause(c.Seq)
		}
	case protocol.CmdResume:
		if s.needOwner(c) {
			s.stopAt = 0
			s.running = true
			if s.phase == protocol.PhasePaused {
				s.setPhase(c.Seq, protocol.PhaseRunning)
			}
		}
	case protocol.CmdStep:
		if s.needOwner(c) {
			n := max(c.Steps, 1)
			s.stopAt = s.tr.Step + n
			s.running = true
			if s.phase == protocol.PhasePaused {
				s.setPhase(c.Seq, protocol.PhaseRunning)
			}
		}
	case protocol.CmdSave:
		if s.needOwner(c) {
			kind := persist.KindAutosave
			if c.Kind == "pinned" {
				kind = persist.KindPinned
			}
			s.snapshot(c.Seq, kind, true, nil)
		}
	case protocol.CmdHidden:
		if s.tr != nil && s.owner && s.unsaved() {
			s.snapshot(c.Seq, persist.KindAutosave, true, nil)
		}
	case protocol.CmdSettings:
		s.status(c.Seq)
	case protocol.CmdRestore:
		s.restore(ctx, c)
	case protocol.CmdFork:
		s.fork(ctx, c)
	case protocol.CmdList:
		go s.list(ctx, c.Seq)
	case protocol.CmdExport:
		s.export(ctx, c)
	case protocol.CmdImport:
		s.importFile(ctx, c, in.Data)
	case protocol.CmdPin, protocol.CmdDelete:
		s.pinOrDelete(ctx, c)
	case protocol.CmdScrub:
		s.startScrub(c)
	case protocol.CmdPush:
		s.pushCmd(c)
	case protocol.CmdPull:
		if run, ok := s.runOf(c); ok {
			s.sync.q.push(syncJob{op: opPull, seq: c.Seq, run: run, t0: s.env.Now()})
		}
	case protocol.CmdServerRuns:
		s.sync.q.push(syncJob{op: opList, seq: c.Seq})
	case protocol.CmdData:
		s.data(c)
	}
}

// runOf is the run a command names, by default the active one; false
// (and the command failed) when there is none.
func (s *Session) runOf(c protocol.Command) (string, bool) {
	run := c.Run
	if run == "" {
		run = s.run
	}
	if run == "" {
		s.fail(c.Seq, "%s: no run (none is active)", c.Type)
	}
	return run, run != ""
}

func (s *Session) needOwner(c protocol.Command) bool {
	switch {
	case s.run != "" && !s.owner:
		s.fail(c.Seq, "%s: run %s is trained in another tab (take it over first)", c.Type, s.run)
	case s.tr == nil:
		s.fail(c.Seq, "%s: no run", c.Type)
	case !s.owner:
		s.fail(c.Seq, "%s: run %s is trained in another tab (take it over first)", c.Type, s.run)
	case s.phase == protocol.PhaseReplaying:
		// The command applies once the replay is done.
		switch c.Type {
		case protocol.CmdPause:
			s.thenRun = false
		case protocol.CmdResume:
			s.thenRun = true
		}
		return false
	default:
		return true
	}
	return false
}

func (s *Session) setAutosave(a protocol.Autosave) {
	if a.EverySteps > 0 {
		s.opt.Autosave.EverySteps = a.EverySteps
	}
	if a.EveryMillis > 0 {
		s.opt.Autosave.EveryMillis = a.EveryMillis
	}
	if a.Keep > 0 {
		s.opt.Autosave.Keep = a.Keep
	}
	if a.MilestoneMs > 0 {
		s.opt.Autosave.MilestoneMs = a.MilestoneMs
	}
	s.setSaveEvery()
}

func specOf(c protocol.Command) (spec.Spec, error) {
	if c.Preset != "" {
		return spec.Preset(c.Preset)
	}
	return spec.ParseSpec(c.Spec)
}

// slice trains for about opt.Slice, stopping exactly at the replay target,
// pauseAt and a CmdStep's end.
func (s *Session) slice(ctx context.Context) {
	tr := s.tr
	limit := ^uint64(0)
	replaying := s.phase == protocol.PhaseReplaying
	if replaying {
		limit = s.resumed.Step
	} else {
		if s.pauseAt > tr.Step {
			limit = min(limit, s.pauseAt)
		}
		if s.stopAt > tr.Step {
			limit = min(limit, s.stopAt)
		}
		if n := s.opt.Autosave.EverySteps; n > 0 {
			limit = min(limit, (tr.Step/n+1)*n) // step-based autosaves land on multiples of n
		}
	}
	n := uint64(s.perSlice)
	if limit-tr.Step < n {
		n = limit - tr.Step
	}
	t0 := s.env.Now()
	for range n {
		loss := tr.TrainStep()
		if !replaying {
			s.curve = append(s.curve, loss)
		}
	}
	d := s.env.Now().Sub(t0)
	s.perSlice = adaptSlice(s.perSlice, int(n), d, s.opt.Slice)
	if replaying {
		if tr.Step >= s.resumed.Step {
			s.finishResume(ctx)
		}
		return
	}
	s.sinceSave += d
	s.sinceMilestone += d
	now := s.env.Now()
	atStop := (s.pauseAt != 0 && tr.Step == s.pauseAt) || (s.stopAt != 0 && tr.Step == s.stopAt)
	if atStop {
		s.stopAt = 0
		s.progress(now)
		s.pause(0)
		return
	}
	if s.autosaveDue() {
		kind := persist.KindAutosave
		if s.opt.Autosave.MilestoneMs > 0 && s.sinceMilestone >= time.Duration(s.opt.Autosave.MilestoneMs)*time.Millisecond {
			kind = persist.KindMilestone
		}
		s.snapshot(0, kind, false, nil)
	}
	if now.Sub(s.lastProgress) >= s.opt.ProgressEvery {
		s.progress(now)
	}
}

// adaptSlice is the steps per slice after a slice of n steps (per asked
// for) took d: about slice's worth at that speed, growing at most 4× at a
// time. A slice cut short by a stop says nothing about speed.
func adaptSlice(per, n int, d, slice time.Duration) int {
	if n < per {
		return per
	}
	want := per * 4
	if d > 0 {
		want = int(float64(n) * float64(slice) / float64(d))
	}
	return min(max(want, 1), per*4, 1<<20)
}

// autosaveDue says whether to checkpoint now: on every multiple of
// EverySteps, or after EveryMillis of training (stretched so saving stays
// within SaveShare of the time) unless a save is still in flight.
func (s *Session) autosaveDue() bool {
	a := s.opt.Autosave
	step := s.tr.Step
	if !s.unsaved() {
		return false
	}
	if a.EverySteps > 0 && step%a.EverySteps == 0 {
		return true
	}
	return s.inflight == 0 && a.EveryMillis > 0 && s.sinceSave >= s.saveEvery
}

// setSaveEvery sets saveEvery: EveryMillis, stretched (up to 4×) so the
// typical save pause stays within SaveShare of training time. The median
// of the last few pauses ignores one slowed by another process. It runs
// when the setting or the pauses change, not on every slice.
func (s *Session) setSaveEvery() {
	every := time.Duration(s.opt.Autosave.EveryMillis) * time.Millisecond
	s.saveEvery = every
	if len(s.pauses) == 0 {
		return
	}
	p := slices.Clone(s.pauses)
	slices.Sort(p)
	s.saveEvery = min(max(every, time.Duration(float64(p[len(p)/2])/s.opt.SaveShare)), 4*every)
}

func (s *Session) progress(now time.Time) {
	tr := s.tr
	if now.After(s.nextEval) && tr.Data.Test.N > 0 {
		t0 := s.env.Now()
		m := tr.Evaluate(&tr.Data.Test)
		d := s.env.Now().Sub(t0)
		s.testLoss, s.accuracy, s.evalStep = protocol.Float(float64(m.Loss)), protocol.Float(float64(m.Accuracy)), tr.Step
		s.nextEval = now.Add(max(time.Second, time.Duration(float64(d)/s.opt.EvalShare)))
	}
	p := &protocol.Progress{
		Run: s.run, Step: tr.Step, Epoch: tr.Epoch, Batch: tr.Batch,
		TestLoss: s.testLoss, Accuracy: s.accuracy, EvalStep: s.evalStep,
	}
	curve, total, n := s.takeCurve(tr.Step)
	p.Curve = curve
	if n > 0 {
		p.Loss = protocol.Float(total / float64(n))
	}
	if el := now.Sub(s.lastProgress).Seconds(); el > 0 && !s.lastProgress.IsZero() && tr.Step >= s.progressStep {
		p.StepsPerSec = float64(tr.Step-s.progressStep) / el
	}
	s.lastProgress, s.progressStep = now, tr.Step
	s.emit(protocol.Event{Type: protocol.EvProgress, Progress: p})
	s.postView()
}

// unsaved says whether no checkpoint holds the active state's step yet.
func (s *Session) unsaved() bool { return !s.hasSnap || s.snapStep != s.tr.Step }

// pause stops training and checkpoints the exact state.
func (s *Session) pause(seq int64) {
	s.running = false
	s.stopAt = 0
	if s.unsaved() {
		s.snapshot(seq, persist.KindAutosave, true, nil)
	}
	s.lastProgress = time.Time{}
	s.setPhase(seq, protocol.PhasePaused)
}

// snapshot copies the training state and hands it to the writer. forced
// saves (pause, hidden, save now) queue behind one in flight; autosaves
// wait for it. then runs in the writer after the commit.
func (s *Session) snapshot(seq int64, kind string, forced bool, then func(id string, b []byte)) {
	t0 := s.env.Now()
	st := s.tr.State()
	c := &persist.Checkpoint{
		Meta: persist.Meta{
			RunID: s.run, ID: persist.NewID(st.Step), Parent: s.parent, ParentRun: s.parentRun,
			Created: s.env.Now().UTC(), EngineVersion: engine.Version, Kind: kind,
		},
		State: st,
	}
	s.parent, s.parentRun = c.ID, ""
	s.snapStep, s.hasSnap = st.Step, true
	s.sinceSave = 0
	if kind == persist.KindMilestone {
		s.sinceMilestone = 0
	}
	if s.inflight == 0 {
		s.pauseAcc = 0
	}
	s.inflight++
	s.pauseAcc += s.env.Now().Sub(t0)
	s.w.q.push(job{seq: seq, run: s.run, ckpt: c, taken: t0, forced: forced, then: then, keep: s.opt.Autosave.Keep})
}

// writeDone is a finished write, back in the loop.
func (s *Session) writeDone(d *writeDone) {
	s.inflight--
	pause := max(s.pauseAcc, 0)
	if s.inflight == 0 {
		s.pauseAcc = 0
	}
	if d.err != nil {
		if !errors.Is(d.err, errNotOwner) {
			s.warn(d.job.seq, "checkpoint at step %s was not saved: %v", commas(d.job.ckpt.State.Step), d.err)
		}
		if errors.Is(d.err, errNotOwner) && d.job.run == s.run && s.owner {
			s.lost(s.run)
		}
		return
	}
	if d.note != "" {
		s.warn(d.job.seq, "%s", d.note)
	}
	if !d.job.forced {
		s.pauses = append(s.pauses, pause)
		if len(s.pauses) > 5 {
			s.pauses = s.pauses[1:]
		}
		s.setSaveEvery()
	}
	c := d.job.ckpt
	s.emit(protocol.Event{Type: protocol.EvSaved, Seq: d.job.seq, Saved: &protocol.Saved{
		Checkpoint: protocol.Checkpoint{
			Run: c.RunID, ID: c.ID, Step: c.State.Step, Epoch: c.State.Epoch, Kind: c.Kind,
			Size: int64(d.size), Created: c.Created.Format(time.RFC3339Nano),
			Parent: c.Parent, ParentRun: c.ParentRun,
		},
		Millis:      ms(d.at.Sub(d.job.taken)),
		PauseMillis: ms(pause),
		Deleted:     d.deleted,
	}})
}

// lost stops a run whose lock another tab took.
func (s *Session) lost(run string) {
	s.w.disown(run)
	if run != s.run || !s.owner {
		return
	}
	s.owner, s.running = false, false
	if s.env.Locks != nil {
		s.env.Locks.Release(run) // a no-op when the lock was stolen
	}
	s.setPhase(0, protocol.PhaseLost)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// commas formats n with thousands separators, as the status line shows it.
func commas(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
