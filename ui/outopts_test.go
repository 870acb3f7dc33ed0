package ui

import (
	"testing"

	"playground/wasm/protocol"
)

func opaque(rgba []byte) int {
	n := 0
	for i := 3; i < len(rgba); i += 4 {
		if rgba[i] != 0 {
			n++
		}
	}
	return n
}

// "Show test data" leaves the test points out; "discretize output" paints
// the heat map in two colors.
func TestOutputToggles(t *testing.T) {
	var data []byte
	data = protocol.AppendPoint(data, -3, 3, 0)
	data = protocol.AppendPoint(data, 3, -3, 1) // a test point
	both, train := drawPoints(data, 1, 2, true), drawPoints(data, 1, 2, false)
	if opaque(both) < 2*opaque(train)*9/10 || opaque(train) == 0 {
		t.Errorf("%d pixels with the test point, %d without", opaque(both), opaque(train))
	}
	v := NewViewImage(&protocol.View{Kind: protocol.ViewGrid, W: 3, H: 1, Hi: 1}, []byte{0, 100, 255})
	colors := map[[3]byte]bool{}
	rgba := v.DiscreteRGBA()
	for i := 0; i < len(rgba); i += 4 {
		colors[[3]byte{rgba[i], rgba[i+1], rgba[i+2]}] = true
	}
	if len(colors) != 2 {
		t.Errorf("the discretized map has %d colors", len(colors))
	}
	a, h := running(t)
	a.Apply(protocol.Event{Type: protocol.EvView, View: &protocol.View{Run: "circle-sgd-1", Step: 1200, Kind: protocol.ViewGrid, W: 3, H: 1, Hi: 1}}, []byte{0, 100, 255})
	a.Paint()
	n := h.paints
	a.Paint()
	a.Discretize = true
	a.Paint()
	if h.paints != n+1 {
		t.Errorf("%d paints after discretizing, want 1", h.paints-n)
	}
}

// The problem type follows the dataset; new data keep the weights' seed.
func TestProblemTypeAndDataSeed(t *testing.T) {
	a := NewApp(nil)
	a.UsePreset("circle-sgd")
	if a.ProblemType() != "classification" || a.DataSeedText() != "1" {
		t.Errorf("%s, data seed %s", a.ProblemType(), a.DataSeedText())
	}
	for _, kind := range []string{"plane", "multi-gaussian", "regression"} {
		a.SetDataset(kind)
		if a.ProblemType() != "regression" || a.Draft.Model.Layers[len(a.Draft.Model.Layers)-1].Activation != "linear" || a.DraftErr != "" {
			t.Errorf("%s: %s, %+v %s", kind, a.ProblemType(), a.Draft.Model.Layers, a.DraftErr)
		}
	}
	a.RegenerateData()
	if a.Draft.Seed != 1 || a.DataSeedText() == "1" || a.Draft.Dataset.Seed == nil {
		t.Errorf("seed %d, data seed %s", a.Draft.Seed, a.DataSeedText())
	}
}
