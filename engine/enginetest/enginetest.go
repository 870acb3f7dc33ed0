// Package enginetest holds the engine fixtures that several packages'
// tests share: trainers of a spec or preset, trained some steps, and a
// logistic and a softmax model whose logits are their inputs.
package enginetest

import (
	"testing"

	"playground/engine"
	"playground/spec"
	"playground/spec/spectest"
)

// Trained returns a trainer of s after steps updates (0: a fresh one).
func Trained(tb testing.TB, s spec.Spec, steps int) *engine.Trainer {
	tb.Helper()
	tr, err := engine.NewTrainer(s)
	if err != nil {
		tb.Fatal(err)
	}
	for range steps {
		tr.TrainStep()
	}
	return tr
}

// PresetTrained returns a trainer of the named preset after steps updates.
func PresetTrained(tb testing.TB, name string, steps int) *engine.Trainer {
	tb.Helper()
	return Trained(tb, spectest.Preset(tb, name), steps)
}

// Logistic returns logistic regression on one input with weight 1 and
// bias 0, so a sample's logit is its input.
func Logistic(tb testing.TB) *engine.Trainer {
	tb.Helper()
	tr := Trained(tb, spec.Spec{
		Dataset:   spec.DatasetSpec{Kind: "circle", Samples: 40, TestRatio: 0.5, Features: []string{"x"}},
		Model:     spec.ModelSpec{Layers: []spec.LayerSpec{{Units: 1, Activation: "sigmoid"}}},
		Optimizer: spec.OptimizerSpec{Kind: "sgd", LR: 0.1},
	}, 0)
	copy(tr.Model.Params.Data, []float32{1, 0})
	return tr
}

// Logits returns a trainer of one 10-unit softmax layer over the digits'
// inputs whose weights make logit c input c: evaluating a split made by
// LogitSplit reports the loss of those logits.
func Logits(tb testing.TB) *engine.Trainer {
	tb.Helper()
	tr := Trained(tb, spec.Spec{
		Dataset:   spec.DatasetSpec{Kind: "digits", Samples: 20},
		Model:     spec.ModelSpec{Layers: []spec.LayerSpec{{Units: 10, Activation: "softmax"}}},
		Optimizer: spec.OptimizerSpec{Kind: "sgd", LR: 0.1},
	}, 0)
	in := tr.Data.Inputs
	clear(tr.Model.Params.Data)
	for c := 0; c < 10; c++ {
		tr.Model.Params.Data[c*in+c] = 1
	}
	return tr
}

// LogitSplit returns the split for tr (made by Logits) whose samples have
// the given logits and labels.
func LogitSplit(tr *engine.Trainer, logits [][]float32, labels []int) *engine.Split {
	in, n := tr.Data.Inputs, len(logits)
	sp := &engine.Split{N: n, X: make([]float32, n*in), Y: make([]float32, n*10), Label: make([]float32, n)}
	for i, z := range logits {
		copy(sp.X[i*in:], z)
		sp.Y[i*10+labels[i]] = 1
		sp.Label[i] = float32(labels[i])
	}
	return sp
}
