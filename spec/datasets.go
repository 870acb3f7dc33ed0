package spec

import "slices"

// DatasetKind is what a spec needs to know of a dataset kind: the shape
// of its samples, the loss it trains with and how many samples it takes.
// The engine generates the samples.
type DatasetKind struct {
	TwoD           bool   // points in the plane, featurized by Features
	Inputs         int    // inputs per sample when not TwoD
	Outputs        int    // targets per sample (one-hot for classes)
	Classes        int    // 0 for regression
	Loss           string // the loss it trains with
	DefaultSamples int
	MaxSamples     int // bounds the memory a spec (maybe from a file) can ask for
}

var datasetKinds = map[string]DatasetKind{
	"spiral":     {TwoD: true, Outputs: 1, Classes: 2, Loss: "bce", DefaultSamples: 1000, MaxSamples: 200_000},
	"circle":     {TwoD: true, Outputs: 1, Classes: 2, Loss: "bce", DefaultSamples: 1000, MaxSamples: 200_000},
	"xor":        {TwoD: true, Outputs: 1, Classes: 2, Loss: "bce", DefaultSamples: 1000, MaxSamples: 200_000},
	"gauss":      {TwoD: true, Outputs: 1, Classes: 2, Loss: "bce", DefaultSamples: 1000, MaxSamples: 200_000},
	"regression": {TwoD: true, Outputs: 1, Classes: 0, Loss: "mse", DefaultSamples: 1000, MaxSamples: 200_000},
	// TensorFlow Playground's two regression sets.
	"plane":          {TwoD: true, Outputs: 1, Classes: 0, Loss: "mse", DefaultSamples: 1000, MaxSamples: 200_000},
	"multi-gaussian": {TwoD: true, Outputs: 1, Classes: 0, Loss: "mse", DefaultSamples: 1000, MaxSamples: 200_000},
	"digits":         {Inputs: DigitSize * DigitSize, Outputs: 10, Classes: 10, Loss: "softmax_ce", DefaultSamples: 2000, MaxSamples: 20_000},
}

// Dataset returns what a spec needs to know of the dataset kind, false
// for an unknown kind.
func Dataset(kind string) (DatasetKind, bool) {
	k, ok := datasetKinds[kind]
	return k, ok
}

// DatasetKinds lists the dataset kinds a spec may name.
func DatasetKinds() []string { return sortedKeys(datasetKinds) }

// FeatureNames are the input features the 2-D datasets can offer.
var FeatureNames = []string{"x", "y", "x2", "y2", "xy", "sinx", "siny"}

// Domain is the half-width of the square [-Domain, Domain]² the 2-D
// datasets live in (TensorFlow Playground's).
const Domain = 6

// DigitSize is the side of the square digit images.
const DigitSize = 28

// Activations lists the activations a layer may name.
func Activations() []string { return slices.Clone(activations) }

var activations = []string{"leaky_relu", "linear", "relu", "sigmoid", "softmax", "tanh"}
