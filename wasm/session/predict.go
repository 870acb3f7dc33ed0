package session

import (
	"context"

	"playground/engine"
	"playground/wasm/protocol"
)

// predict answers CmdPredict: the outputs of the active model (or of the
// time-travelled state the command names) on the page's one sample, the
// digit drawn on its pad. It only reads the parameters: training goes on
// exactly as without it.
func (l *loop) cmdPredict(_ context.Context, c protocol.Command, _ []byte) {
	tr, run := l.rn.tr, l.run
	if c.Travel {
		tr, run = l.scrub.state(c.Run, c.At), c.Run
		if tr == nil {
			l.fail(c.Seq, "predict: step %s of run %s is not recomputed (time travel there first)", commas(c.At), c.Run)
			return
		}
	}
	if tr == nil {
		l.fail(c.Seq, "predict: no model (start a run first)")
		return
	}
	if n := tr.Data.Inputs; len(c.Input) != n {
		l.fail(c.Seq, "predict: %d input features, the model takes %d", len(c.Input), n)
		return
	}
	l.env.Emit(protocol.Event{Type: protocol.EvPredict, Seq: c.Seq, Predict: &protocol.Predict{
		Run: run, Step: tr.Step, Travel: c.Travel, Outputs: tr.Predict(c.Input, 1),
	}}, nil)
}

// state is the trainer of the last finished time travel when it holds
// run's state at step at, else nil.
func (sc *scrubber) state(run string, at uint64) *engine.Trainer {
	if j := sc.side; j != nil && j.run == run && j.tr != nil && j.tr.Step == at {
		return j.tr
	}
	return nil
}
