// Package spec is what a run is: the Spec (dataset, model, loss,
// optimizer, schedule, regularization, batch size and seed), its JSON, the
// defaults and checks of Normalize, the built-in presets, the learning
// rate the schedule gives at a step, and the names and shapes of the
// tensors a training state of a spec holds. The engine trains a Spec; the
// page's UI edits one without carrying the engine.
package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Spec fully describes a run: with the same Spec, training to step n always
// yields the same bits.
//
// A field says what it means: a number present in the JSON is honoured,
// zero included, and only an absent one takes its default (an empty
// string names nothing and is absent). In Go, a zero number of a spec not
// decoded from JSON is absent; Normalize records every field as given, so
// a normalized spec keeps its zeros through later edits and its JSON.
type Spec struct {
	Name           string         `json:"name,omitempty"`
	Seed           uint64         `json:"seed"`
	Dataset        DatasetSpec    `json:"dataset"`
	Model          ModelSpec      `json:"model"`
	Loss           string         `json:"loss"`
	Optimizer      OptimizerSpec  `json:"optimizer"`
	Schedule       ScheduleSpec   `json:"schedule"`
	Regularization Regularization `json:"regularization"`
	BatchSize      int            `json:"batch_size"`

	given given // batch_size
}

// DatasetSpec describes a dataset generated from the run's seed, or (kind
// csv) names custom data by content and gives its shape.
type DatasetSpec struct {
	Kind      string   `json:"kind"`               // spiral, circle, xor, gauss, regression, digits, csv
	Samples   int      `json:"samples"`            // train + test
	Noise     float64  `json:"noise"`              // 0..1, meaning depends on the kind
	TestRatio float64  `json:"test_ratio"`         // fraction held out for testing
	Features  []string `json:"features,omitempty"` // 2-D sets: x, y, x2, y2, xy, sinx, siny (nil: x, y)

	// Custom data (kind csv) only; absent from the JSON of other kinds.
	SHA256  string `json:"sha256,omitempty"`  // the data's name: SHA-256 of its canonical bytes, hex
	Inputs  int    `json:"inputs,omitempty"`  // numeric features per row
	Classes int    `json:"classes,omitempty"` // 0: the label is a regression target
	Split   bool   `json:"split,omitempty"`   // the data's split column decides train and test
	Test    int    `json:"test,omitempty"`    // with Split: the rows marked test

	given given // samples
}

// ModelSpec is a multilayer perceptron: dense layers in order.
type ModelSpec struct {
	Layers []LayerSpec `json:"layers"`
}

// LayerSpec is one dense layer and the activation applied after it.
type LayerSpec struct {
	Units      int    `json:"units"`
	Activation string `json:"activation"` // linear, tanh, sigmoid, relu, leaky_relu, softmax (output only)
}

// OptimizerSpec selects an optimizer and its settings; unused fields are
// zero. Absent, beta1, beta2, eps, alpha and (adamw) weight_decay take
// PyTorch's defaults (optimizerDefaults).
type OptimizerSpec struct {
	Kind        string  `json:"kind"` // sgd, adam, adamw, rmsprop
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum,omitempty"` // sgd, rmsprop
	Nesterov    bool    `json:"nesterov,omitempty"` // sgd
	Beta1       float64 `json:"beta1,omitempty"`    // adam, adamw
	Beta2       float64 `json:"beta2,omitempty"`    // adam, adamw
	Alpha       float64 `json:"alpha,omitempty"`    // rmsprop smoothing
	Eps         float64 `json:"eps,omitempty"`
	WeightDecay float64 `json:"weight_decay,omitempty"`

	given given // beta1, beta2, alpha, eps, weight_decay
}

// ScheduleSpec maps the global step to a learning-rate factor.
type ScheduleSpec struct {
	Kind     string  `json:"kind"`                // constant, step, cosine
	StepSize int     `json:"step_size,omitempty"` // step: decay every StepSize steps
	Gamma    float64 `json:"gamma,omitempty"`     // step: factor per decay
	Warmup   int     `json:"warmup,omitempty"`    // cosine: linear warm-up steps
	Total    int     `json:"total,omitempty"`     // cosine: steps until the minimum
	MinLR    float64 `json:"min_lr,omitempty"`    // cosine: final learning rate
}

// Regularization adds a penalty on the weights (never the biases).
type Regularization struct {
	Kind string  `json:"kind"` // none, l1, l2
	Rate float64 `json:"rate,omitempty"`
}

// ErrSpec marks an invalid spec.
var ErrSpec = errors.New("invalid spec")

// ParseSpec decodes a JSON spec strictly (unknown fields are errors), fills
// the defaults of absent fields and validates it.
func ParseSpec(b []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("%w: %v", ErrSpec, err)
	}
	if dec.More() {
		return Spec{}, fmt.Errorf("%w: trailing data after the JSON object", ErrSpec)
	}
	return s.Normalize()
}

// JSON returns the spec's canonical JSON encoding.
func (s Spec) JSON() []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a Spec of plain fields always marshals
	}
	return b
}

// Normalize fills defaults and validates the spec.
func (s Spec) Normalize() (Spec, error) {
	for _, step := range []func(*Spec) error{
		(*Spec).normalizeDataset,
		(*Spec).normalizeModel,
		(*Spec).normalizeOptimizer,
		(*Spec).normalizeSchedule,
		(*Spec).normalizeRegularization,
		(*Spec).normalizeBatch,
	} {
		if err := step(&s); err != nil {
			return Spec{}, err
		}
	}
	return s, nil
}

// bad is an ErrSpec saying what is wrong.
func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSpec, fmt.Sprintf(format, a...))
}

// normalizeDataset checks the dataset (its kind first: the other steps
// depend on it) and fills its defaults, and the loss it trains with.
func (s *Spec) normalizeDataset() error {
	d := &s.Dataset
	if d.Kind == CustomKind {
		err := s.normalizeCustom()
		d.given = givenAll
		return err
	}
	info, ok := datasetKinds[d.Kind]
	if !ok {
		return bad("unknown dataset %q (want one of %v or %s)", d.Kind, sortedKeys(datasetKinds), CustomKind)
	}
	if d.SHA256 != "" || d.Inputs != 0 || d.Classes != 0 || d.Split || d.Test != 0 {
		return bad("dataset %s is generated: sha256, inputs, classes, split and test are for csv", d.Kind)
	}
	if d.Samples == 0 && d.given&givenSamples == 0 {
		d.Samples = info.DefaultSamples
	}
	d.given = givenAll
	if d.Samples < 4 || d.Samples > info.MaxSamples {
		return bad("dataset samples %d out of range [4, %d]", d.Samples, info.MaxSamples)
	}
	if !finite(d.Noise) || d.Noise < 0 || d.Noise > 1 {
		return bad("dataset noise %v out of range [0, 1]", d.Noise)
	}
	if !finite(d.TestRatio) || d.TestRatio < 0 || d.TestRatio > 0.9 {
		return bad("dataset test_ratio %v out of range [0, 0.9]", d.TestRatio)
	}
	if err := d.normalizeFeatures(info); err != nil {
		return err
	}
	if s.Loss == "" {
		s.Loss = info.Loss
	}
	if s.Loss != info.Loss {
		return bad("dataset %s needs loss %q, not %q", d.Kind, info.Loss, s.Loss)
	}
	return nil
}

func (d *DatasetSpec) normalizeFeatures(info DatasetKind) error {
	if !info.TwoD {
		if len(d.Features) != 0 {
			return bad("dataset %s takes no features", d.Kind)
		}
		return nil
	}
	if d.Features == nil {
		d.Features = []string{"x", "y"}
	}
	if len(d.Features) == 0 {
		return bad("dataset %s needs at least one feature", d.Kind)
	}
	seen := map[string]bool{}
	for _, f := range d.Features {
		if !slices.Contains(FeatureNames, f) {
			return bad("unknown feature %q (want some of %v)", f, FeatureNames)
		}
		if seen[f] {
			return bad("feature %q listed twice", f)
		}
		seen[f] = true
	}
	return nil
}

// normalizeModel checks the layers, and that the output layer fits the
// dataset and the loss.
func (s *Spec) normalizeModel() error {
	if len(s.Model.Layers) == 0 || len(s.Model.Layers) > 16 {
		return bad("model needs 1 to 16 layers, has %d", len(s.Model.Layers))
	}
	for i, l := range s.Model.Layers {
		if l.Units < 1 || l.Units > 4096 {
			return bad("layer %d has %d units (want 1..4096)", i, l.Units)
		}
		if !slices.Contains(activations, l.Activation) {
			return bad("layer %d: unknown activation %q (want one of %v)", i, l.Activation, activations)
		}
		last := i == len(s.Model.Layers)-1
		if l.Activation == "softmax" && !last {
			return bad("layer %d: softmax is allowed on the output layer only", i)
		}
	}
	out := s.Model.Layers[len(s.Model.Layers)-1]
	if want := s.Outputs(); out.Units != want {
		return bad("output layer has %d units, dataset %s has %d outputs", out.Units, s.Dataset.Kind, want)
	}
	switch s.Loss {
	case "bce":
		if out.Activation != "sigmoid" {
			return bad("loss bce needs a sigmoid output layer, not %s", out.Activation)
		}
	case "softmax_ce":
		if out.Activation != "softmax" {
			return bad("loss softmax_ce needs a softmax output layer, not %s", out.Activation)
		}
	case "mse":
		if out.Activation == "softmax" {
			return bad("loss mse does not take a softmax output layer")
		}
	}
	return nil
}

// normalizeOptimizer checks the optimizer and fills its defaults.
func (s *Spec) normalizeOptimizer() error {
	o := &s.Optimizer
	for _, v := range []float64{o.LR, o.Momentum, o.Beta1, o.Beta2, o.Alpha, o.Eps, o.WeightDecay, s.Schedule.Gamma, s.Schedule.MinLR, s.Regularization.Rate} {
		if !finite(v) {
			return bad("optimizer, schedule and regularization settings must be finite numbers")
		}
	}
	defaults, ok := optimizerDefaults[o.Kind]
	if !ok {
		return bad("unknown optimizer %q (want sgd, adam, adamw or rmsprop)", o.Kind)
	}
	for _, d := range defaults {
		if f := o.field(d.field); *f == 0 && o.given&d.field == 0 {
			*f = d.value
		}
	}
	o.given = givenAll
	switch o.Kind {
	case "sgd":
		if o.Momentum < 0 || o.Momentum >= 1 {
			return bad("sgd momentum %v out of range [0, 1)", o.Momentum)
		}
		if o.Nesterov && o.Momentum == 0 {
			return bad("sgd nesterov needs a momentum > 0")
		}
	case "adam", "adamw":
		if o.Beta1 < 0 || o.Beta1 >= 1 || o.Beta2 < 0 || o.Beta2 >= 1 {
			return bad("%s betas (%v, %v) out of range [0, 1)", o.Kind, o.Beta1, o.Beta2)
		}
	case "rmsprop":
		if o.Alpha < 0 || o.Alpha >= 1 {
			return bad("rmsprop alpha %v out of range [0, 1)", o.Alpha)
		}
		if o.Momentum != 0 {
			return bad("rmsprop momentum is not supported")
		}
	}
	if o.Kind != "sgd" && o.Nesterov {
		return bad("nesterov applies to sgd only")
	}
	if !finite(o.LR) || o.LR <= 0 || o.LR > 10 {
		return bad("learning rate %v out of range (0, 10]", o.LR)
	}
	if !finite(o.Eps) || o.Eps < 0 || !finite(o.WeightDecay) || o.WeightDecay < 0 || o.WeightDecay > 1 {
		return bad("optimizer eps %v / weight_decay %v out of range", o.Eps, o.WeightDecay)
	}
	return nil
}

// normalizeSchedule checks the schedule; no kind is constant.
func (s *Spec) normalizeSchedule() error {
	sc := &s.Schedule
	switch sc.Kind {
	case "", "constant":
		sc.Kind = "constant"
	case "step":
		if sc.StepSize < 1 {
			return bad("step schedule needs step_size >= 1")
		}
		if !finite(sc.Gamma) || sc.Gamma <= 0 || sc.Gamma > 1 {
			return bad("step schedule gamma %v out of range (0, 1]", sc.Gamma)
		}
	case "cosine":
		if sc.Warmup < 0 || sc.Total < 1 || sc.Warmup >= sc.Total {
			return bad("cosine schedule needs 0 <= warmup < total, got warmup %d total %d", sc.Warmup, sc.Total)
		}
		if !finite(sc.MinLR) || sc.MinLR < 0 || sc.MinLR > s.Optimizer.LR {
			return bad("cosine min_lr %v out of range [0, lr]", sc.MinLR)
		}
	default:
		return bad("unknown schedule %q (want constant, step or cosine)", sc.Kind)
	}
	return nil
}

// normalizeRegularization checks the penalty; no kind is none.
func (s *Spec) normalizeRegularization() error {
	r := &s.Regularization
	switch r.Kind {
	case "", "none":
		r.Kind, r.Rate = "none", 0
	case "l1", "l2":
		if !finite(r.Rate) || r.Rate < 0 || r.Rate > 1 {
			return bad("regularization rate %v out of range [0, 1]", r.Rate)
		}
	default:
		return bad("unknown regularization %q (want none, l1 or l2)", r.Kind)
	}
	return nil
}

// normalizeBatch checks the batch size against the training samples.
func (s *Spec) normalizeBatch() error {
	if s.BatchSize == 0 && s.given&givenBatch == 0 {
		s.BatchSize = 10
	}
	s.given = givenAll
	train := s.Dataset.TrainSamples()
	if s.BatchSize < 1 || s.BatchSize > train {
		return bad("batch size %d out of range [1, %d training samples]", s.BatchSize, train)
	}
	return nil
}

// TestSamples is how many of the samples are held out for testing.
func (d DatasetSpec) TestSamples() int {
	if d.Kind == CustomKind && d.Split {
		return d.Test
	}
	return int(float64(d.Samples) * d.TestRatio)
}

// TrainSamples is how many of the samples are trained on.
func (d DatasetSpec) TrainSamples() int { return d.Samples - d.TestSamples() }

// Inputs is the number of model inputs the spec's dataset produces.
func (s Spec) Inputs() int {
	if s.Dataset.Kind == CustomKind {
		return s.Dataset.Inputs
	}
	if datasetKinds[s.Dataset.Kind].TwoD {
		return len(s.Dataset.Features)
	}
	return datasetKinds[s.Dataset.Kind].Inputs
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
