package spec

import (
	"fmt"
	"slices"
)

// presets are the built-in specs. Together they use every optimizer,
// schedule, activation, loss and dataset at least once.
var presets = []Spec{
	{
		// W1 of the benchmarks: TensorFlow Playground's default network.
		Name:      "circle-sgd",
		Seed:      1,
		Dataset:   DatasetSpec{Kind: "circle", Samples: 1000, Noise: 0.1, TestRatio: 0.5},
		Model:     mlp("tanh", 16, 16).out(1, "sigmoid"),
		Loss:      "bce",
		Optimizer: OptimizerSpec{Kind: "sgd", LR: 0.03},
		Schedule:  ScheduleSpec{Kind: "constant"},
		BatchSize: 10,
	},
	{
		Name:      "spiral-adam",
		Seed:      2,
		Dataset:   DatasetSpec{Kind: "spiral", Samples: 1000, Noise: 0.1, TestRatio: 0.5, Features: []string{"x", "y", "x2", "y2", "xy", "sinx", "siny"}},
		Model:     mlp("tanh", 16, 16, 8).out(1, "sigmoid"),
		Loss:      "bce",
		Optimizer: OptimizerSpec{Kind: "adam", LR: 0.01},
		Schedule:  ScheduleSpec{Kind: "cosine", Warmup: 100, Total: 20000, MinLR: 0.0005},
		BatchSize: 10,
	},
	{
		Name:           "xor-momentum",
		Seed:           3,
		Dataset:        DatasetSpec{Kind: "xor", Samples: 600, Noise: 0.05, TestRatio: 0.3},
		Model:          mlp("relu", 8, 8).out(1, "sigmoid"),
		Loss:           "bce",
		Optimizer:      OptimizerSpec{Kind: "sgd", LR: 0.03, Momentum: 0.9},
		Schedule:       ScheduleSpec{Kind: "step", StepSize: 1000, Gamma: 0.5},
		Regularization: Regularization{Kind: "l2", Rate: 0.001},
		BatchSize:      16,
	},
	{
		Name:           "gauss-nesterov",
		Seed:           4,
		Dataset:        DatasetSpec{Kind: "gauss", Samples: 500, Noise: 0.3, TestRatio: 0.2},
		Model:          mlp("sigmoid", 4).out(1, "sigmoid"),
		Loss:           "bce",
		Optimizer:      OptimizerSpec{Kind: "sgd", LR: 0.05, Momentum: 0.8, Nesterov: true},
		Schedule:       ScheduleSpec{Kind: "constant"},
		Regularization: Regularization{Kind: "l1", Rate: 0.0005},
		BatchSize:      25,
	},
	{
		Name:      "spiral-rmsprop",
		Seed:      5,
		Dataset:   DatasetSpec{Kind: "spiral", Samples: 800, Noise: 0.2, TestRatio: 0.25, Features: []string{"x", "y", "sinx", "siny"}},
		Model:     mlp("leaky_relu", 24, 12).out(1, "sigmoid"),
		Loss:      "bce",
		Optimizer: OptimizerSpec{Kind: "rmsprop", LR: 0.003},
		Schedule:  ScheduleSpec{Kind: "step", StepSize: 2000, Gamma: 0.7},
		BatchSize: 20,
	},
	{
		Name:      "regression-adamw",
		Seed:      6,
		Dataset:   DatasetSpec{Kind: "regression", Samples: 1000, Noise: 0.1, TestRatio: 0.3},
		Model:     mlp("tanh", 16, 8).out(1, "linear"),
		Loss:      "mse",
		Optimizer: OptimizerSpec{Kind: "adamw", LR: 0.01, WeightDecay: 0.01},
		Schedule:  ScheduleSpec{Kind: "cosine", Warmup: 50, Total: 5000},
		BatchSize: 32,
	},
	{
		Name:      "digits",
		Seed:      7,
		Dataset:   DatasetSpec{Kind: "digits", Samples: 3000, Noise: 0.2, TestRatio: 0.2},
		Model:     mlp("relu", 64, 32).out(10, "softmax"),
		Loss:      "softmax_ce",
		Optimizer: OptimizerSpec{Kind: "adam", LR: 0.001},
		Schedule:  ScheduleSpec{Kind: "constant"},
		BatchSize: 32,
	},
	{
		Name:      "plane-sgd",
		Seed:      8,
		Dataset:   DatasetSpec{Kind: "plane", Samples: 1000, Noise: 0.1, TestRatio: 0.5},
		Model:     mlp("tanh", 4, 2).out(1, "linear"),
		Loss:      "mse",
		Optimizer: OptimizerSpec{Kind: "sgd", LR: 0.01},
		Schedule:  ScheduleSpec{Kind: "constant"},
		BatchSize: 10,
	},
	{
		Name:      "multi-gaussian-adam",
		Seed:      9,
		Dataset:   DatasetSpec{Kind: "multi-gaussian", Seed: dataSeed(11), Samples: 1000, Noise: 0.05, TestRatio: 0.5, Features: []string{"x", "y", "x2", "y2", "sinx", "siny"}},
		Model:     mlp("tanh", 12, 8).out(1, "linear"),
		Loss:      "mse",
		Optimizer: OptimizerSpec{Kind: "adam", LR: 0.01},
		Schedule:  ScheduleSpec{Kind: "constant"},
		BatchSize: 10,
	},
}

// dataSeed is a preset's data seed.
func dataSeed(v uint64) *uint64 { return &v }

type layers []LayerSpec

func mlp(act string, units ...int) layers {
	var ls layers
	for _, u := range units {
		ls = append(ls, LayerSpec{Units: u, Activation: act})
	}
	return ls
}

func (ls layers) out(units int, act string) ModelSpec {
	return ModelSpec{Layers: append(slices.Clone(ls), LayerSpec{Units: units, Activation: act})}
}

// PresetNames lists the built-in presets in a stable order.
func PresetNames() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return names
}

// Preset returns the named built-in spec, normalized.
func Preset(name string) (Spec, error) {
	for _, p := range presets {
		if p.Name == name {
			// Deep-copy through JSON so callers cannot change the table.
			return ParseSpec(p.JSON())
		}
	}
	return Spec{}, fmt.Errorf("unknown preset %q (want one of %v)", name, PresetNames())
}
