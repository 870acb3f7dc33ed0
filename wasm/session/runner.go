package session

import (
	"context"
	"errors"
	"math"
	"time"

	"playground/curve"
	"playground/engine"
	"playground/persist"
	"playground/wasm/protocol"
)

// runner is the active trainer with what training it reports: the steps
// per slice, the losses since the last progress report, the run's history
// (evaluated on curve's schedule, replays included), and the replay in
// progress after a resume. The loop owns it.
type runner struct {
	tr       *engine.Trainer
	perSlice int       // steps per slice, adapted to Options.Slice
	pace     pacer     // steps per second: how many steps a slice may train
	diverged uint64    // the step whose loss was not finite (0: none)
	curve    []float32 // training loss per step since the last progress report

	hist    curve.History // the run's history up to tr.Step
	sent    int           // points of hist the page has
	sendAll bool          // the page's history is to be replaced

	lastProgress time.Time
	progressStep uint64
	paused       struct { // the evaluation at the step where training paused
		step               uint64
		testLoss, accuracy *float64
	}

	// replay in progress, up to resumed.Step
	resumed  *protocol.Resumed
	resumeT0 time.Time
	thenRun  bool

	fp struct { // the last fingerprint (fingerprint)
		tr   *engine.Trainer
		step uint64
		sum  string
	}
}

// adopt makes tr, with its run's history h, the trainer, reporting afresh.
func (r *runner) adopt(tr *engine.Trainer, h curve.History) {
	r.tr = tr
	r.curve = r.curve[:0]
	r.hist, r.sent, r.sendAll = h.Clone(), 0, true
	r.lastProgress = time.Time{}
	r.paused.step, r.paused.testLoss, r.paused.accuracy = ^uint64(0), nil, nil
}

// want is how many steps the next slice trains up to limit: at most
// perSlice.
func (r *runner) want(limit uint64) uint64 {
	return min(uint64(r.perSlice), limit-r.tr.Step)
}

// train runs up to limit (at most perSlice steps, recording their losses
// with record) and returns the time it took; when record, it stops after
// a step whose loss is not finite (diverged). The history follows every
// step, replayed ones included.
func (r *runner) train(limit uint64, record bool, now func() time.Time, slice time.Duration) (d time.Duration, diverged bool) {
	tr := r.tr
	n := r.want(limit)
	t0 := now()
	done := n
	for i := range n {
		loss := tr.TrainStep()
		if r.hist.Observe(tr, loss) {
			r.sendAll = true // the page's history is thinned too
		}
		if record {
			r.curve = append(r.curve, loss)
			if l := float64(loss); math.IsNaN(l) || math.IsInf(l, 0) {
				done, diverged = i+1, true
				break
			}
		}
	}
	d = now().Sub(t0)
	r.perSlice = adaptSlice(r.perSlice, int(done), d, slice)
	return d, diverged
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

// fingerprint is the trainer's state's fingerprint, computed once per
// trainer and step (a paused session answers every command with a status).
func (r *runner) fingerprint() string {
	if r.fp.tr != r.tr || r.fp.step != r.tr.Step {
		r.fp.tr, r.fp.step, r.fp.sum = r.tr, r.tr.Step, persist.Fingerprint(r.tr.State())
	}
	return r.fp.sum
}

// progress is the report of training since the last one, at now: the
// history's new points, and the test loss of its newest point, or of the
// step itself when training stops there (exact): a pure function of the
// step either way.
func (r *runner) progress(run string, now time.Time, exact bool) *protocol.Progress {
	tr := r.tr
	p := &protocol.Progress{Run: run, Step: tr.Step, Epoch: tr.Epoch, Batch: tr.Batch}
	r.evaluation(p, exact)
	p.Points, p.History = r.newPoints()
	curve, total, n := r.takeCurve(tr.Step)
	p.Curve = curve
	if n > 0 {
		p.Loss = protocol.Float(total / float64(n))
	} else if pts := r.hist.Points; len(pts) > 0 {
		// No step since the last report (a resume, a pause): the history's
		// newest training loss, rather than none.
		p.Loss = protocol.Float(float64(pts[len(pts)-1].Train))
	}
	if el := now.Sub(r.lastProgress).Seconds(); el > 0 && !r.lastProgress.IsZero() && tr.Step >= r.progressStep {
		p.StepsPerSec = float64(tr.Step-r.progressStep) / el
	}
	r.lastProgress, r.progressStep = now, tr.Step
	return p
}

// evaluation sets p's test loss and accuracy: the newest point's, or with
// exact an evaluation at the step (once per step).
func (r *runner) evaluation(p *protocol.Progress, exact bool) {
	tr := r.tr
	if pts := r.hist.Points; len(pts) > 0 && (!exact || pts[len(pts)-1].Step == tr.Step) {
		last := pts[len(pts)-1]
		p.TestLoss, p.Accuracy, p.EvalStep = protocol.Float(float64(last.Test)), protocol.Float(float64(last.Accuracy)), last.Step
	}
	if !exact || tr.Data.Test.N == 0 || p.EvalStep == tr.Step {
		return
	}
	if r.paused.step != tr.Step {
		m := tr.Evaluate(&tr.Data.Test)
		r.paused.step = tr.Step
		r.paused.testLoss, r.paused.accuracy = protocol.Float(float64(m.Loss)), protocol.Float(float64(m.Accuracy))
	}
	p.TestLoss, p.Accuracy, p.EvalStep = r.paused.testLoss, r.paused.accuracy, tr.Step
}

// newPoints are the history's points the page lacks, and whether they
// are the whole history.
func (r *runner) newPoints() ([]protocol.CurvePoint, bool) {
	all := r.sendAll
	if all {
		r.sent = 0
	}
	out := make([]protocol.CurvePoint, 0, len(r.hist.Points)-r.sent)
	for _, p := range r.hist.Points[r.sent:] {
		out = append(out, curvePoint(p))
	}
	r.sent, r.sendAll = len(r.hist.Points), false
	return out, all
}

// curvePoint is p in the protocol's form.
func curvePoint(p curve.Point) protocol.CurvePoint {
	finite := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	return protocol.CurvePoint{
		Step: p.Step, Train: protocol.Float(float64(p.Train)), Test: protocol.Float(float64(p.Test)),
		Accuracy: protocol.Float(float64(p.Accuracy)),
		Diverged: !finite(p.Train) || math.IsInf(float64(p.Test), 0),
	}
}

// takeCurve turns the per-step losses since the last report into at most
// protocol.CurvePoints spans of equal length ending at step, and returns
// their sum (added in step order) and count too.
func (r *runner) takeCurve(step uint64) (curve [][2]float64, total float64, n int) {
	n = len(r.curve)
	if n == 0 {
		return nil, 0, 0
	}
	k := min(n, protocol.CurvePoints)
	out := make([][2]float64, 0, k)
	for j := 0; j < k; j++ {
		lo, hi := j*n/k, (j+1)*n/k
		var sum float64
		for _, l := range r.curve[lo:hi] {
			sum += float64(l)
			total += float64(l)
		}
		m := sum / float64(hi-lo)
		if math.IsNaN(m) || math.IsInf(m, 0) {
			continue
		}
		out = append(out, [2]float64{float64(step - uint64(n-hi)), m})
	}
	r.curve = r.curve[:0]
	return out, total, n
}

// slice trains for about opt.Slice (fewer steps at a pace: then it
// returns how long until the next step is due), stopping exactly at the
// replay target, pauseAt, a CmdStep's end, a compared child's target and
// a step whose loss is not finite.
func (l *loop) slice(ctx context.Context) time.Duration {
	tr := l.rn.tr
	replaying := l.phase == protocol.PhaseReplaying
	limit := ^uint64(0)
	if replaying {
		limit = l.rn.resumed.Step
	} else {
		for _, stop := range []uint64{l.pauseAt, l.stopAt, l.cmp.target(l.run)} {
			if stop > tr.Step {
				limit = min(limit, stop)
			}
		}
		limit = l.auto.limit(tr.Step, limit)
		n, wait := l.paced(l.rn.want(limit))
		if n == 0 {
			return wait
		}
		limit = tr.Step + n
	}
	d, diverged := l.rn.train(limit, !replaying, l.env.Now, l.opt.Slice)
	if replaying {
		if tr.Step >= l.rn.resumed.Step {
			l.finishResume(ctx)
		}
		return 0
	}
	now := l.env.Now()
	l.auto.trained(l.rn.pace.span(d, now))
	if diverged {
		l.diverge(ctx)
		return 0
	}
	if l.atStop(tr.Step) {
		compared := l.cmp.target(l.run) == tr.Step
		l.stopAt = 0
		l.pause(0)
		if compared {
			l.compareNext(ctx)
		}
		return 0
	}
	if kind, ok := l.auto.due(tr.Step, l.unsaved()); ok {
		l.snapshot(0, kind, false, afterSave{})
	}
	if now.Sub(l.rn.lastProgress) >= l.opt.ProgressEvery {
		l.progress(now, false)
	}
	return 0
}

// paceOf is the pace tr trains at (0: full speed).
func (l *loop) paceOf(tr *engine.Trainer) int {
	return l.rn.pace.effective(tr.Spec.Dataset.Kind, l.opt.WatchPace)
}

// paced is how many of want steps the pace lets train now, and when none,
// how long until one may. Pacing starts afresh when the pace changed or
// training had stopped.
func (l *loop) paced(want uint64) (uint64, time.Duration) {
	now := l.env.Now()
	if rate := l.paceOf(l.rn.tr); rate != l.rn.pace.rate || l.rn.pace.stopped(now) {
		l.rn.pace.restart(rate, now)
	}
	return l.rn.pace.take(want, now)
}

// diverge pauses at the step whose training loss was NaN or infinite and
// says what happened; a compared child that diverges is done.
func (l *loop) diverge(ctx context.Context) {
	tr := l.rn.tr
	l.rn.diverged = tr.Step
	what := "infinite"
	if n := len(l.rn.curve); n > 0 && math.IsNaN(float64(l.rn.curve[n-1])) {
		what = "NaN (not a number)"
	}
	compared := l.cmp.target(l.run) != 0
	l.stopAt = 0
	l.warn(0, "Training diverged at step %s: the training loss became %s. The learning rate (%g) is too high for this setup: lower it (try %g) and press Reset to start again, or restore a checkpoint from before step %s.",
		commas(tr.Step), what, tr.Spec.Optimizer.LR, tr.Spec.Optimizer.LR/10, commas(tr.Step))
	l.pause(0)
	if compared {
		l.cmp.current().Done = true
		l.compareNext(ctx)
	}
}

// atStop says whether training stops at step: pauseAt, a CmdStep's end,
// or the end of a compared child.
func (l *loop) atStop(step uint64) bool {
	t := l.cmp.target(l.run)
	return (l.pauseAt != 0 && step == l.pauseAt) || (l.stopAt != 0 && step == l.stopAt) || (t != 0 && step == t)
}

// progress reports training; exact evaluates the test split at the step
// itself (a pause).
func (l *loop) progress(now time.Time, exact bool) {
	l.emit(protocol.Event{Type: protocol.EvProgress, Progress: l.rn.progress(l.run, now, exact)})
	l.postView()
}

// pause stops training, reports the step it stopped at (evaluated there)
// and checkpoints the exact state.
func (l *loop) pause(seq int64) {
	l.running = false
	l.stopAt = 0
	if l.rn.tr != nil {
		l.progress(l.env.Now(), true)
	}
	if l.unsaved() {
		l.snapshot(seq, persist.KindAutosave, true, afterSave{})
	}
	l.rn.lastProgress = time.Time{}
	l.setPhase(seq, protocol.PhasePaused)
}

// snapshot copies the training state and hands it to the writer. forced
// saves (pause, hidden, save now) queue behind one in flight; autosaves
// wait for it. then says what the loop does with it once committed.
func (l *loop) snapshot(seq int64, kind string, forced bool, then afterSave) {
	t0 := l.env.Now()
	st := l.rn.tr.State()
	c := &persist.Checkpoint{
		Meta: persist.Meta{
			RunID: l.run, ID: persist.NewID(st.Step), Parent: l.head.id, ParentRun: l.head.parentRun,
			Created: l.env.Now().UTC(), EngineVersion: engine.Version, Kind: kind, Edit: l.head.edit,
		},
		State: st,
		Curve: l.rn.hist.Clone(),
	}
	l.head = head{id: c.ID, step: st.Step, has: true}
	l.auto.taking(kind, l.env.Now().Sub(t0))
	l.writes.push(saveOp{seq: seq, run: l.run, ckpt: c, taken: t0, forced: forced, then: then, keep: l.auto.cfg.Keep})
}

// saved is a finished checkpoint write, back in the loop.
func (l *loop) saved(d saved) {
	op := d.op
	pause := l.auto.done(op.forced, d.err == nil)
	if d.err != nil {
		if !errors.Is(d.err, errNotOwner) {
			l.warn(op.seq, "checkpoint at step %s was not saved: %v", commas(op.ckpt.State.Step), d.err)
		}
		if errors.Is(d.err, errNotOwner) && op.run == l.run && l.owner {
			l.lost(l.run)
		}
		return
	}
	l.committed(op, d.file)
	if d.note != "" {
		l.warn(op.seq, "%s", d.note)
	}
	c := op.ckpt
	l.emit(protocol.Event{Type: protocol.EvSaved, Seq: op.seq, Saved: &protocol.Saved{
		Checkpoint: protocol.Checkpoint{
			Run: c.RunID, ID: c.ID, Step: c.State.Step, Epoch: c.State.Epoch, Kind: c.Kind,
			Size: int64(d.size), Created: c.Created.Format(time.RFC3339Nano),
			Parent: c.Parent, ParentRun: c.ParentRun,
		},
		Millis:      ms(d.at.Sub(op.taken)),
		PauseMillis: ms(pause),
		Deleted:     d.deleted,
	}})
}

// committed does what a save was for besides keeping the state: the
// export or push it was made for, and the auto-push.
func (l *loop) committed(op saveOp, b []byte) {
	if op.then.export {
		postExport(l.env.Emit, op.seq, op.run, op.ckpt.ID, b)
	}
	if op.then.push != nil {
		l.syncs.push(*op.then.push)
	}
	if l.autoPush {
		l.syncs.push(autoPushOp{
			run: op.run, t0: op.taken, id: op.ckpt.ID, kind: op.ckpt.Kind,
			step: op.ckpt.State.Step, file: b, keep: op.keep,
		})
	}
}
