package ui

import (
	"strings"
	"testing"

	"playground/spec"
	"playground/wasm/protocol"
)

// A zero typed into a setting whose absence means a default is what the
// run gets; switching the optimizer starts from its defaults again.
func TestZeroSettingsKept(t *testing.T) {
	a, h := running(t)
	a.SetField("optimizer", "adamw")
	if o := a.Draft.Optimizer; o.Beta1 != 0.9 || o.WeightDecay != 0.01 {
		t.Fatalf("adamw starts from %+v", o)
	}
	a.SetField("decay", "0")
	a.SetField("beta1", "0")
	if a.DraftErr != "" || a.Draft.Optimizer.WeightDecay != 0 || a.Draft.Optimizer.Beta1 != 0 {
		t.Fatalf("draft %+v (%s)", a.Draft.Optimizer, a.DraftErr)
	}
	a.Play()
	c := h.last()
	sent, err := spec.ParseSpec(c.Spec)
	if c.Type != protocol.CmdStart || err != nil || sent.Optimizer.WeightDecay != 0 || sent.Optimizer.Beta1 != 0 {
		t.Fatalf("play sent %+v: %+v, %v", c, sent.Optimizer, err)
	}
	a.SetField("optimizer", "rmsprop")
	a.SetField("optimizer", "adamw")
	if o := a.Draft.Optimizer; o.Beta1 != 0.9 || o.WeightDecay != 0.01 {
		t.Errorf("adamw again starts from %+v", o)
	}
	if !strings.Contains(string(c.Spec), `"weight_decay":0`) {
		t.Errorf("the spec sent does not say weight_decay 0: %s", c.Spec)
	}
}
