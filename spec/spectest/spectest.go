// Package spectest holds the spec fixtures tests share.
package spectest

import (
	"testing"

	"playground/spec"
)

// Preset returns the named built-in spec, failing tb when there is none.
func Preset(tb testing.TB, name string) spec.Spec {
	tb.Helper()
	s, err := spec.Preset(name)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// runner is *testing.T or *testing.B.
type runner[T any] interface {
	testing.TB
	Run(name string, f func(T)) bool
}

// EachPreset runs f on every built-in spec, each in a subtest (or
// sub-benchmark) named after its preset.
func EachPreset[T runner[T]](tb T, f func(tb T, s spec.Spec)) {
	for _, name := range spec.PresetNames() {
		tb.Run(name, func(tb T) { f(tb, Preset(tb, name)) })
	}
}

// Big returns a spec whose checkpoints are 50 MB: a 2-2048-2048-1 MLP
// with Adam, 4.2 M parameters and 12.6 M float32 values with the
// optimizer state.
func Big() spec.Spec {
	return spec.Spec{
		Name:      "big",
		Seed:      1,
		Dataset:   spec.DatasetSpec{Kind: "gauss", Samples: 100, Noise: 0.1, TestRatio: 0.2},
		Model:     spec.ModelSpec{Layers: []spec.LayerSpec{{Units: 2048, Activation: "tanh"}, {Units: 2048, Activation: "tanh"}, {Units: 1, Activation: "sigmoid"}}},
		Loss:      "bce",
		Optimizer: spec.OptimizerSpec{Kind: "adam", LR: 0.001},
		BatchSize: 10,
	}
}
