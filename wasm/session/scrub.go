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

// scrubJob is one CmdScrub in progress (or, finished, kept as s.side so a
// later scrub further along the same run continues it instead of
// restoring a checkpoint again).
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

// startScrub queues a scrub; it supersedes one still replaying.
func (s *Session) startScrub(c protocol.Command) {
	run, ok := s.runOf(c)
	if !ok {
		return
	}
	if old := s.scrub; old != nil && old.tr != nil {
		s.side = old
	}
	now := s.env.Now()
	s.scrub = &scrubJob{seq: c.Seq, run: run, at: c.At, t0: now, last: now, perSlice: 1}
}

// scrubSlice advances the scrub by about one slice of time.
func (s *Session) scrubSlice(ctx context.Context) {
	j := s.scrub
	if j.tr == nil {
		if err := s.scrubBase(ctx, j); err != nil {
			s.scrub = nil
			s.env.Emit(protocol.Event{Type: protocol.EvScrub, Seq: j.seq, Scrub: &protocol.Scrub{
				Run: j.run, At: j.at, Done: true, Error: err.Error(), Millis: ms(s.env.Now().Sub(j.t0)),
			}}, nil)
			return
		}
	}
	tr := j.tr
	n := min(uint64(j.perSlice), j.at-tr.Step)
	t0 := s.env.Now()
	for range n {
		tr.TrainStep()
	}
	d := s.env.Now().Sub(t0)
	j.perSlice = adaptSlice(j.perSlice, int(n), d, s.opt.Slice)
	if tr.Step >= j.at {
		s.finishScrub(j)
		return
	}
	if now := s.env.Now(); now.Sub(j.last) >= s.opt.ProgressEvery {
		j.last = now
		s.env.Emit(protocol.Event{Type: protocol.EvScrub, Seq: j.seq, Scrub: j.report(s)}, nil)
	}
}

func (j *scrubJob) report(s *Session) *protocol.Scrub {
	return &protocol.Scrub{
		Run: j.run, At: j.at, Step: j.tr.Step, FromRun: j.fromRun, FromID: j.fromID, From: j.from,
		Millis: ms(s.env.Now().Sub(j.t0)),
	}
}

// finishScrub posts the state reached: fingerprint, losses and view.
func (s *Session) finishScrub(j *scrubJob) {
	tr := j.tr
	r := j.report(s)
	r.Done = true
	r.Fingerprint = persist.Fingerprint(tr.State())
	train := tr.Evaluate(&tr.Data.Train)
	r.Loss = protocol.Float(float64(train.Loss))
	if tr.Data.Test.N > 0 {
		test := tr.Evaluate(&tr.Data.Test)
		r.TestLoss, r.Accuracy = protocol.Float(float64(test.Loss)), protocol.Float(float64(test.Accuracy))
	}
	v, data := s.view(tr, j.run)
	r.Millis = ms(s.env.Now().Sub(j.t0))
	s.env.Emit(protocol.Event{Type: protocol.EvScrub, Seq: j.seq, Scrub: r, View: v}, data)
	s.scrub, s.side = nil, j
}

// scrubBase finds where to replay from: the newest valid checkpoint at or
// before j.at in j.run, else in its parent run (a fork's history before
// its first checkpoint is its parent's), and so on up the lineage. A
// previous scrub's trainer on the same history, between that checkpoint
// and j.at, is continued instead.
func (s *Session) scrubBase(ctx context.Context, j *scrubJob) error {
	run := j.run
	for range maxLineage {
		objs, err := s.env.Store.List(ctx, run)
		if err != nil {
			return err
		}
		if run == s.run && s.inflight > 0 && (len(objs) == 0 || objs[0].ID > persist.NewID(j.at)) {
			// The run's first checkpoints may still be on their way to
			// the store (a fork's is): let the writer finish them.
			s.flush(run)
			if objs, err = s.env.Store.List(ctx, run); err != nil {
				return err
			}
		}
		var cands []persist.Object
		for _, o := range objs {
			if step, ok := persist.StepOfID(o.ID); ok && step <= j.at {
				cands = append(cands, o)
			}
		}
		if side := s.side; side != nil && side.fromRun == run && side.tr.Step <= j.at && len(cands) > 0 {
			newest, _ := persist.StepOfID(cands[len(cands)-1].ID)
			if side.tr.Step >= newest {
				j.tr, j.fromRun, j.fromID, j.from = side.tr, side.fromRun, side.fromID, side.from
				s.side = nil
				return nil
			}
		}
		// A damaged one is passed over: the one before it will do.
		c, tr, _, err := s.newestValid(ctx, run, j.at)
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
		info, err := persist.ReadInfo(ctx, s.env.Store, run, objs[0].ID)
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

// flush waits until the writer has done every write queued before it.
func (s *Session) flush(run string) {
	reply := make(chan struct{})
	s.w.ops.push(flushOp{reply})
	<-reply
}
