package session

import (
	"context"
	"fmt"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/wasm/protocol"
)

// Time travel: the state of a run at any past step, recomputed by
// deterministic replay from the nearest checkpoint at or before it, on a
// trainer of its own, in slices between the active run's (whose state it
// never touches).

// scrubber is time travel: the scrub in progress and the last one
// finished, whose trainer a later scrub further along the same history
// continues instead of restoring a checkpoint again. The loop owns it; it
// only reads the store.
type scrubber struct {
	store  persist.Store
	tables *tables
	emit   func(protocol.Event, []byte)
	now    func() time.Time
	slice  time.Duration // training time per slice
	every  time.Duration // interim reports

	cur  *scrubJob
	side *scrubJob
}

// scrubJob is one CmdScrub.
type scrubJob struct {
	seq      int64
	run      string // the run asked about
	at       uint64
	t0       time.Time
	tr       *engine.Trainer
	fromRun  string // the run of the checkpoint replayed from (an ancestor when at precedes a fork)
	fromID   string
	from     uint64
	last     time.Time // the last interim report
	perSlice int
}

// maxLineage bounds the walk up a run's ancestors.
const maxLineage = 64

func (sc *scrubber) busy() bool { return sc.cur != nil }

// start queues a scrub; it supersedes one still replaying.
func (sc *scrubber) start(seq int64, run string, at uint64) {
	if old := sc.cur; old != nil && old.tr != nil {
		sc.side = old
	}
	now := sc.now()
	sc.cur = &scrubJob{seq: seq, run: run, at: at, t0: now, last: now, perSlice: 1}
}

// step advances the scrub by about one slice of time. flush waits for the
// writes of a run in flight.
func (sc *scrubber) step(ctx context.Context, v *viewer, flush func(run string)) {
	j := sc.cur
	if j.tr == nil {
		if err := sc.base(ctx, j, flush); err != nil {
			sc.cur = nil
			sc.emit(protocol.Event{Type: protocol.EvScrub, Seq: j.seq, Scrub: &protocol.Scrub{
				Run: j.run, At: j.at, Done: true, Error: err.Error(), Millis: ms(sc.now().Sub(j.t0)),
			}}, nil)
			return
		}
	}
	tr := j.tr
	n := min(uint64(j.perSlice), j.at-tr.Step)
	t0 := sc.now()
	for range n {
		tr.TrainStep()
	}
	d := sc.now().Sub(t0)
	j.perSlice = adaptSlice(j.perSlice, int(n), d, sc.slice)
	if tr.Step >= j.at {
		sc.finish(j, v)
		return
	}
	if now := sc.now(); now.Sub(j.last) >= sc.every {
		j.last = now
		sc.emit(protocol.Event{Type: protocol.EvScrub, Seq: j.seq, Scrub: sc.report(j)}, nil)
	}
}

func (sc *scrubber) report(j *scrubJob) *protocol.Scrub {
	return &protocol.Scrub{
		Run: j.run, At: j.at, Step: j.tr.Step, FromRun: j.fromRun, FromID: j.fromID, From: j.from,
		Millis: ms(sc.now().Sub(j.t0)),
	}
}

// finish posts the state reached: fingerprint, losses and view.
func (sc *scrubber) finish(j *scrubJob, v *viewer) {
	tr := j.tr
	r := sc.report(j)
	r.Done = true
	r.Fingerprint = persist.Fingerprint(tr.State())
	train := tr.Evaluate(&tr.Data.Train)
	r.Loss = protocol.Float(float64(train.Loss))
	if tr.Data.Test.N > 0 {
		test := tr.Evaluate(&tr.Data.Test)
		r.TestLoss, r.Accuracy = protocol.Float(float64(test.Loss)), protocol.Float(float64(test.Accuracy))
	}
	view, data := v.of(tr, j.run)
	r.Millis = ms(sc.now().Sub(j.t0))
	emitView(sc.emit, protocol.Event{Type: protocol.EvScrub, Seq: j.seq, Scrub: r, View: view}, data)
	sc.cur, sc.side = nil, j
}

// base finds where to replay from: the newest valid checkpoint at or
// before j.at in j.run, else in its parent run (a fork's history before
// its first checkpoint is its parent's), and so on up the lineage. A
// previous scrub's trainer on the same history, between that checkpoint
// and j.at, is continued instead.
func (sc *scrubber) base(ctx context.Context, j *scrubJob, flush func(run string)) error {
	run := j.run
	for range maxLineage {
		objs, err := sc.store.List(ctx, run)
		if err != nil {
			return err
		}
		if len(objs) == 0 || objs[0].ID > persist.NewID(j.at) {
			// The run's first checkpoints may still be on their way to
			// the store (a fork's is): let the writer finish them.
			flush(run)
			if objs, err = sc.store.List(ctx, run); err != nil {
				return err
			}
		}
		if sc.continueSide(j, run, objs) {
			return nil
		}
		// A damaged one is passed over: the one before it will do.
		c, tr, _, err := newestValid(ctx, sc.store, sc.tables, run, j.at)
		if err != nil {
			return err
		}
		if c != nil {
			j.tr, j.fromRun, j.fromID, j.from = tr, run, c.ID, c.State.Step
			return nil
		}
		if len(objs) == 0 {
			return fmt.Errorf("run %s has no checkpoints", run)
		}
		info, err := persist.ReadInfo(ctx, sc.store, run, objs[0].ID)
		if err != nil {
			return fmt.Errorf("run %s: %v", run, err)
		}
		if info.ParentRun == "" {
			return fmt.Errorf("no checkpoint of run %s at or before step %s", j.run, commas(j.at))
		}
		run = info.ParentRun
	}
	return fmt.Errorf("run %s: lineage deeper than %d runs", j.run, maxLineage)
}

// continueSide takes over the last finished scrub's trainer for j when it
// replays run at or past its newest checkpoint (objs) at or before j.at.
func (sc *scrubber) continueSide(j *scrubJob, run string, objs []persist.Object) bool {
	side := sc.side
	if side == nil || side.fromRun != run || side.tr.Step > j.at {
		return false
	}
	var newest uint64
	found := false
	for _, o := range objs {
		if step, ok := persist.StepOfID(o.ID); ok && step <= j.at {
			newest, found = step, true
		}
	}
	if !found || side.tr.Step < newest {
		return false
	}
	j.tr, j.fromRun, j.fromID, j.from = side.tr, side.fromRun, side.fromID, side.from
	sc.side = nil
	return true
}
