package engine_test

import (
	"math"
	"slices"
	"testing"

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
