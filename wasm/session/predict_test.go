package session

import (
	"math/rand/v2"
	"slices"
	"testing"

	"playground/engine"
	"playground/spec"
	"playground/wasm/protocol"
)

// CmdPredict answers with the outputs of the model at the step the page
// shows, bit for bit those of a native trainer at that step: live, and of
// a time-travelled state. A state not recomputed and an input that does
// not fit the model get errors.
func TestPredict(t *testing.T) {
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "digits", Autostart: true, PauseAt: u64(40)})
	st, _ := h.wait(0, "pause at 40", pausedAt(40))
	run := st.Status.Run

	pixels, _ := engine.GenDigits(rand.New(rand.NewPCG(7, 8)), 3, 0)
	input := pixels[2*spec.DigitSize*spec.DigitSize:] // a 2
	native := func(step uint64) []float32 {
		sp, _ := spec.Preset("digits")
		tr, err := engine.NewTrainer(sp)
		if err != nil {
			t.Fatal(err)
		}
		for tr.Step < step {
			tr.TrainStep()
		}
		return tr.Predict(input, 1)
	}
	predict := func(c protocol.Command) protocol.Event {
		t.Helper()
		c.Type = protocol.CmdPredict
		seq := h.send(c)
		ev, _ := h.wait(0, "predict answer", func(ev protocol.Event) bool {
			return (ev.Type == protocol.EvPredict || ev.Type == protocol.EvError) && ev.Seq == seq
		})
		return ev
	}

	ev := predict(protocol.Command{Input: input})
	if ev.Predict == nil || ev.Predict.Run != run || ev.Predict.Step != 40 || !slices.Equal(ev.Predict.Outputs, native(40)) {
		t.Fatalf("live: %s, want step 40 %v", protocol.Encode(ev), native(40))
	}
	var sum float32
	for _, p := range ev.Predict.Outputs {
		sum += p
	}
	if len(ev.Predict.Outputs) != 10 || sum < 0.999 || sum > 1.001 {
		t.Errorf("outputs %v are not 10 probabilities", ev.Predict.Outputs)
	}

	seq := h.send(protocol.Command{Type: protocol.CmdScrub, Run: run, At: 15})
	h.wait(0, "scrub", func(ev protocol.Event) bool { return ev.Type == protocol.EvScrub && ev.Seq == seq && ev.Scrub.Done })
	ev = predict(protocol.Command{Input: input, Travel: true, Run: run, At: 15})
	if ev.Predict == nil || ev.Predict.Step != 15 || !ev.Predict.Travel || !slices.Equal(ev.Predict.Outputs, native(15)) {
		t.Fatalf("travelled: %s, want step 15 %v", protocol.Encode(ev), native(15))
	}

	for _, c := range []protocol.Command{
		{Input: input, Travel: true, Run: run, At: 16}, // not recomputed
		{Input: input[:100]},                           // not the model's input
		{},                                             // no input
		{Input: input, Travel: true},                   // travel without a run
	} {
		if ev := predict(c); ev.Type != protocol.EvError || ev.Message == "" {
			t.Errorf("%+v answered %s", c, protocol.Encode(ev))
		}
	}
}
