package ui

import (
	"encoding/json"
	"testing"

	"playground/spec"
	"playground/wasm/protocol"
)

// The pad asks the worker once at a time, for the drawing as it is when
// the answer comes; it asks the time-travelled state while travelling and
// the live one again as the run trains.
func TestPadAsks(t *testing.T) {
	h := newFakeHost()
	a := NewApp(h)
	sp, _ := spec.Preset("digits")
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{
		Phase: protocol.PhasePaused, Run: "r", Name: "digits", Owner: true, Step: 50, Spec: json.RawMessage(sp.JSON()),
	}}, nil)
	if !a.PadOn() {
		t.Fatal("no pad for a digits run")
	}
	predicts := func() []protocol.Command {
		var out []protocol.Command
		for _, c := range h.sent {
			if c.Type == protocol.CmdPredict {
				out = append(out, c)
			}
		}
		return out
	}
	a.PadDown(0.3, 0.2)
	a.PadMove(0.7, 0.2)
	a.PadMove(0.5, 0.9)
	a.PadUp()
	if n := len(predicts()); n != 1 {
		t.Fatalf("%d predict commands in flight, want 1", n)
	}
	first := predicts()[0]
	if len(first.Input) != 784 || first.Travel {
		t.Fatalf("asked %+v", first)
	}
	answer := func(c protocol.Command, step uint64) {
		a.Apply(protocol.Event{Type: protocol.EvPredict, Seq: c.Seq, Predict: &protocol.Predict{
			Run: "r", Step: step, Travel: c.Travel, Outputs: []float32{0.1, 0, 0, 0, 0, 0, 0, 0.8, 0, 0.1},
		}}, nil)
	}
	answer(first, 50)
	// The drawing moved on since: asked again, and the stale answer is not shown.
	if n := len(predicts()); n != 2 || a.Pad.Result != nil {
		t.Fatalf("%d asks, result %+v", n, a.Pad.Result)
	}
	answer(predicts()[1], 50)
	if p := a.PadProbs(); len(p) != 10 || !p[7].Best || p[7].Text != "80.0%" {
		t.Fatalf("probs %+v", p)
	}
	if got := a.PadText(); got != "The model at step 50 reads a 7." {
		t.Errorf("status %q", got)
	}
	a.Paint()
	if h.painted["pad"] != [3]int{28, 28, 4 * 784} || h.painted["pad-input"] != [3]int{28, 28, 4 * 784} {
		t.Errorf("painted %v", h.painted)
	}

	// Time travel: asked once the replay is done, of that state.
	a.ScrubTo(20)
	if n := len(predicts()); n != 2 {
		t.Fatalf("asked before the replay was done (%d)", n)
	}
	a.Apply(protocol.Event{Type: protocol.EvScrub, Seq: a.Scrub.seq, Scrub: &protocol.Scrub{Run: "r", At: 20, Step: 20, Done: true}}, nil)
	if c := predicts()[len(predicts())-1]; len(predicts()) != 3 || !c.Travel || c.At != 20 || c.Run != "r" {
		t.Fatalf("travel asked %+v", c)
	}
	answer(predicts()[2], 20)
	if got := a.PadText(); got != "The model at step 20 (time travel) reads a 7." {
		t.Errorf("status %q", got)
	}
	a.ScrubLive()
	if c := predicts()[len(predicts())-1]; len(predicts()) != 4 || c.Travel {
		t.Fatalf("back to live asked %+v", c)
	}
	// An error is shown and not retried in a loop.
	a.Apply(protocol.Event{Type: protocol.EvError, Seq: predicts()[3].Seq, Message: "predict: no model"}, nil)
	if len(predicts()) != 4 || a.PadText() != "predict: no model" {
		t.Fatalf("after an error: %d asks, %q", len(predicts()), a.PadText())
	}
}

// The keyboard moves a cursor within the pad, toggles the pixel under it
// and clears the drawing.
func TestPadKeyboard(t *testing.T) {
	a := NewApp(newFakeHost())
	for range 40 {
		a.PadKey("ArrowRight")
	}
	a.PadKey("ArrowDown")
	if a.Pad.CurX != 27 || a.Pad.CurY != 1 {
		t.Fatalf("cursor at %d,%d", a.Pad.CurX, a.Pad.CurY)
	}
	if !a.PadKey(" ") || a.Pad.Input == nil || a.Pad.Shown[1*28+27] != 1 {
		t.Fatal("space did not ink the pixel under the cursor")
	}
	a.PadKey(" ")
	if a.Pad.Input != nil {
		t.Fatal("space again did not clear it")
	}
	a.PadKey("Enter")
	a.PadKey("Delete")
	if a.Pad.Input != nil || a.PadKey("x") {
		t.Fatal("Delete did not clear, or x was taken")
	}
}
