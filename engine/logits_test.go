package engine_test

import (
	"math"
	"slices"
	"testing"

	"playground/engine"
	"playground/engine/enginetest"
)

// The reported softmax_ce loss is -log_softmax(z)[label] from the logits,
// also where the softmax's output is exactly 0.
func TestSoftmaxCELossFromLogits(t *testing.T) {
	tr := enginetest.Logits(t)
	rows := [][]float32{
		{-300, 0, 0, 0, 0, 0, 0, 0, 0, 500}, // label 0: wrong by 800
		{40, -40, 0, 0, 0, 0, 0, 0, 0, 0},   // label 0: right, tiny
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},     // label 3
	}
	labels := []int{0, 0, 3}
	sp := enginetest.LogitSplit(tr, rows, labels)
	var want float64
	for i, r := range rows {
		mx, s := float64(slices.Max(r)), 0.0
		for _, v := range r {
			s += math.Exp(float64(v) - mx)
		}
		want += mx - float64(r[labels[i]]) + math.Log(s)
	}
	want /= float64(len(rows))
	if got := float64(tr.Evaluate(sp).Loss); math.Abs(got-want) > 1e-6*want {
		t.Fatalf("loss %g, want %g", got, want)
	}
}

// The reported BCE loss is computed from the logits: where the sigmoid's
// output is exactly 0 or 1 it is still -log(sigmoid(±z)), not a clamp.
func TestBCELossFromLogits(t *testing.T) {
	tr := enginetest.Logistic(t)
	for _, c := range []struct{ z, y []float32 }{
		{[]float32{-5000, 5000}, []float32{1, 0}}, // wrong and saturated: 5000
		{[]float32{-90, 120, 3, -0.5}, []float32{1, 0, 1, 0}},
		{[]float32{30, -30, 17, -17}, []float32{1, 0, 1, 0}}, // right and saturated: tiny
		{[]float32{0.25, -2, 40}, []float32{0, 1, 0}},
	} {
		sp := &engine.Split{N: len(c.z), X: c.z, Y: c.y, Label: c.y}
		got := float64(tr.Evaluate(sp).Loss)
		var want float64
		for i, z := range c.z {
			s := float64(z)
			if c.y[i] == 1 {
				s = -s
			}
			want += math.Max(s, 0) + math.Log1p(math.Exp(-math.Abs(s))) // log(1+e^s)
		}
		want /= float64(len(c.z))
		if math.Abs(got-want) > 1e-6*want {
			t.Errorf("logits %v labels %v: loss %g, want %g", c.z, c.y, got, want)
		}
	}
}
