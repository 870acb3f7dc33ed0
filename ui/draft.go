package ui

import (
	"fmt"
	"slices"
	"strconv"

	"playground/spec"
	"playground/wasm/protocol"
)

// The settings editor: every control changes the draft spec; Play trains
// it as a new run (when it differs from the active run's) and Fork
// continues a checkpoint with it.

// Choice lists offered by the controls.
var (
	Datasets      = []string{"circle", "xor", "gauss", "spiral", "regression", "plane", "multi-gaussian", "digits"}
	Activations   = []string{"tanh", "relu", "leaky_relu", "sigmoid", "linear"}
	Optimizers    = []string{"sgd", "adam", "adamw", "rmsprop"}
	Schedules     = []string{"constant", "step", "cosine"}
	Regs          = []string{"none", "l1", "l2"}
	LearningRates = []float64{0.00001, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3}
	RegRates      = []float64{0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1}
	SampleCounts  = []int{200, 500, 1000, 2000, 3000}
	FeatureLabels = map[string]string{"x": "x", "y": "y", "x2": "x²", "y2": "y²", "xy": "x·y", "sinx": "sin x", "siny": "sin y"}
)

// MaxHidden bounds the hidden layers the editor adds.
const MaxHidden = 6

// TwoD says whether the draft's dataset lives in the plane.
func (a *App) TwoD() bool {
	d := a.Draft.Dataset
	return d.Kind != "digits" && (d.Kind != spec.CustomKind || d.Inputs == 2)
}

// Hidden returns the draft's hidden layers (all but the output layer).
func (a *App) Hidden() []spec.LayerSpec {
	l := a.Draft.Model.Layers
	if len(l) == 0 {
		return nil
	}
	return l[:len(l)-1]
}

// HiddenActivation is the activation of the hidden layers ("" when mixed
// or none).
func (a *App) HiddenActivation() string {
	h := a.Hidden()
	if len(h) == 0 {
		return ""
	}
	for _, l := range h[1:] {
		if l.Activation != h[0].Activation {
			return ""
		}
	}
	return h[0].Activation
}

// Edited says whether the draft differs from the active run's spec.
func (a *App) Edited() bool {
	return a.Spec == nil || string(a.Spec.JSON()) != string(a.Draft.JSON())
}

// Forkable says whether a checkpoint of the active run can continue with
// the draft: the same tensors, and the same position (data size and batch
// size fix how steps map to epochs).
func (a *App) Forkable() bool {
	if a.Spec == nil || a.DraftErr != "" {
		return false
	}
	d, s := a.Draft, *a.Spec
	if !sameLayout(d, s) {
		return false
	}
	return d.Dataset.Kind == s.Dataset.Kind && d.Dataset.Samples == s.Dataset.Samples &&
		d.Dataset.TestRatio == s.Dataset.TestRatio && d.BatchSize == s.BatchSize
}

// edit applies f to a copy of the draft, normalizes it, and keeps it (with
// the error, if the result is invalid) and the URL in step.
func (a *App) edit(f func(s *spec.Spec)) {
	a.dropBad()
	s := a.Draft
	s.Dataset.Features = slices.Clone(s.Dataset.Features)
	s.Model.Layers = slices.Clone(s.Model.Layers)
	f(&s)
	if slices.Contains(spec.PresetNames(), s.Name) {
		if p, err := spec.Preset(s.Name); err != nil || string(p.JSON()) != string(s.JSON()) {
			s.Name = "custom"
		}
	}
	n, err := s.Normalize()
	a.edited = true
	if err != nil {
		a.Draft, a.DraftErr = s, err.Error()
		return
	}
	a.Draft, a.DraftErr = n, ""
	if a.Host != nil {
		a.Host.SetQuery(protocol.EncodeSpecQuery(n))
	}
}

// ProblemType is what the draft's dataset asks of the model:
// "classification" or "regression".
func (a *App) ProblemType() string {
	if info, ok := spec.Dataset(a.Draft.Dataset.Kind); ok && info.Classes == 0 {
		return "regression"
	}
	return "classification"
}

// DataSeedText is the seed the draft's data come from.
func (a *App) DataSeedText() string { return fmt.Sprint(a.Draft.DataSeed()) }

// RegenerateData gives the draft's dataset a new seed of its own: new
// data, the same initial weights (the run's seed).
func (a *App) RegenerateData() {
	seed := uint64(a.Now().UnixNano())%100000 + 1
	if seed == a.Draft.DataSeed() {
		seed++
	}
	a.edit(func(s *spec.Spec) { s.Dataset.Seed = &seed })
}

// Revert makes the draft the active run's spec again.
func (a *App) Revert() {
	if a.Spec != nil {
		a.Draft, a.DraftErr, a.edited = *a.Spec, "", false
		a.typing, a.badField = nil, "" // every field shows the run's spec
		if a.Host != nil {
			a.Host.SetQuery(protocol.EncodeSpecQuery(a.Draft))
		}
	}
}

// UsePreset makes the draft a built-in preset.
func (a *App) UsePreset(name string) {
	p, err := spec.Preset(name)
	if err != nil {
		a.DraftErr = err.Error()
		return
	}
	a.edit(func(s *spec.Spec) { *s = p })
}

// SetDataset switches the dataset, adapting the output layer, loss and
// features it needs and keeping the hidden layers.
func (a *App) SetDataset(kind string) {
	a.edit(func(s *spec.Spec) {
		if s.Dataset.Kind == kind {
			return
		}
		was := s.Dataset.Kind
		if was == spec.CustomKind {
			s.Dataset = spec.DatasetSpec{Features: []string{"x", "y"}}
		}
		s.Dataset.Kind = kind
		info, _ := spec.Dataset(kind)
		s.Dataset.Samples = info.DefaultSamples
		s.Loss = ""
		layers := s.Model.Layers
		if len(layers) == 0 {
			layers = []spec.LayerSpec{{Units: 8, Activation: "tanh"}, {}}
		}
		out := &layers[len(layers)-1]
		switch kind {
		case "digits":
			s.Dataset.Features = nil
			*out = spec.LayerSpec{Units: 10, Activation: "softmax"}
		case "regression", "plane", "multi-gaussian":
			*out = spec.LayerSpec{Units: 1, Activation: "linear"}
		default:
			*out = spec.LayerSpec{Units: 1, Activation: "sigmoid"}
		}
		if kind != "digits" && (was == "digits" || len(s.Dataset.Features) == 0) {
			s.Dataset.Features = []string{"x", "y"}
		}
		s.Model.Layers = layers
		if kind == "digits" || was == "digits" {
			s.Dataset.Samples = 3000
			if kind != "digits" {
				s.Dataset.Samples = 1000
			}
		}
		s.BatchSize = min(max(s.BatchSize, 1), 64)
	})
}

// ToggleFeature adds or removes an input feature (at least one stays).
func (a *App) ToggleFeature(f string) {
	a.edit(func(s *spec.Spec) {
		fs := s.Dataset.Features
		if i := slices.Index(fs, f); i >= 0 {
			if len(fs) > 1 {
				s.Dataset.Features = slices.Delete(fs, i, i+1)
			}
			return
		}
		// Keep the canonical order of spec.FeatureNames.
		var out []string
		for _, name := range spec.FeatureNames {
			if name == f || slices.Contains(fs, name) {
				out = append(out, name)
			}
		}
		s.Dataset.Features = out
	})
}

// HasFeature says whether the draft uses an input feature.
func (a *App) HasFeature(f string) bool { return slices.Contains(a.Draft.Dataset.Features, f) }

// AddLayer adds a hidden layer like the last one before the output.
func (a *App) AddLayer() {
	a.edit(func(s *spec.Spec) {
		n := len(s.Model.Layers)
		if n-1 >= MaxHidden {
			return
		}
		l := spec.LayerSpec{Units: 4, Activation: "tanh"}
		if n >= 2 {
			l = s.Model.Layers[n-2]
		}
		s.Model.Layers = slices.Insert(s.Model.Layers, n-1, l)
	})
}

// RemoveLayer removes hidden layer i.
func (a *App) RemoveLayer(i int) {
	a.edit(func(s *spec.Spec) {
		if i >= 0 && i < len(s.Model.Layers)-1 {
			s.Model.Layers = slices.Delete(s.Model.Layers, i, i+1)
		}
	})
}

// SetUnits sets hidden layer i's width (1..512).
func (a *App) SetUnits(i, units int) {
	a.edit(func(s *spec.Spec) {
		if i >= 0 && i < len(s.Model.Layers)-1 {
			s.Model.Layers[i].Units = min(max(units, 1), 512)
		}
	})
}

// SetActivation sets every hidden layer's activation.
func (a *App) SetActivation(act string) {
	a.edit(func(s *spec.Spec) {
		for i := 0; i < len(s.Model.Layers)-1; i++ {
			s.Model.Layers[i].Activation = act
		}
	})
}

// SetField sets one named setting from a control's text: the page's
// controls and the compare panel's varied parameter all go through it.
func (a *App) SetField(name, value string) {
	delete(a.typing, name)
	// Text that does not parse changes nothing: edit would have kept the
	// field at zero and cleared the error once the rest normalized. The
	// field keeps showing it, with the error, until it is mended or
	// another change is taken.
	probe := a.Draft
	if err := setField(&probe, name, value); err != nil {
		a.dropBad()
		a.Typing(name, value)
		a.badField, a.DraftErr = name, err.Error()
		return
	}
	a.edit(func(s *spec.Spec) { setField(s, name, value) })
}

// dropBad forgets the text of the field that did not parse: the field
// shows the draft again.
func (a *App) dropBad() {
	if a.badField != "" {
		delete(a.typing, a.badField)
		a.badField = ""
	}
}

// floatFields and intFields are the settings that are just a number: the
// text parsed and assigned, nothing else.
var (
	floatFields = map[string]func(*spec.Spec) *float64{
		"noise":   func(s *spec.Spec) *float64 { return &s.Dataset.Noise },
		"test":    func(s *spec.Spec) *float64 { return &s.Dataset.TestRatio },
		"beta1":   func(s *spec.Spec) *float64 { return &s.Optimizer.Beta1 },
		"beta2":   func(s *spec.Spec) *float64 { return &s.Optimizer.Beta2 },
		"alpha":   func(s *spec.Spec) *float64 { return &s.Optimizer.Alpha },
		"decay":   func(s *spec.Spec) *float64 { return &s.Optimizer.WeightDecay },
		"gamma":   func(s *spec.Spec) *float64 { return &s.Schedule.Gamma },
		"minLR":   func(s *spec.Spec) *float64 { return &s.Schedule.MinLR },
		"regRate": func(s *spec.Spec) *float64 { return &s.Regularization.Rate },
	}
	intFields = map[string]func(*spec.Spec) *int{
		"samples":  func(s *spec.Spec) *int { return &s.Dataset.Samples },
		"batch":    func(s *spec.Spec) *int { return &s.BatchSize },
		"stepSize": func(s *spec.Spec) *int { return &s.Schedule.StepSize },
		"warmup":   func(s *spec.Spec) *int { return &s.Schedule.Warmup },
		"total":    func(s *spec.Spec) *int { return &s.Schedule.Total },
	}
)

// setField sets one named setting of s from text (on an error, the field
// holds what strconv returned: SetField then drops that copy).
func setField(s *spec.Spec, name, value string) error {
	var err error
	if field, ok := floatFields[name]; ok {
		*field(s), err = strconv.ParseFloat(value, 64)
	} else if field, ok := intFields[name]; ok {
		*field(s), err = strconv.Atoi(value)
	} else {
		switch name {
		case "seed":
			s.Seed, err = strconv.ParseUint(value, 10, 64)
		case "optimizer":
			o := spec.OptimizerSpec{Kind: value, LR: s.Optimizer.LR}
			if value == "sgd" {
				o.Momentum = 0.9
			}
			s.Optimizer = o
		case "lr":
			var v float64
			v, err = strconv.ParseFloat(value, 64)
			s.Optimizer.LR = v
			if s.Schedule.Kind == "cosine" && s.Schedule.MinLR > v {
				s.Schedule.MinLR = v / 20
			}
		case "momentum":
			var v float64
			v, err = strconv.ParseFloat(value, 64)
			s.Optimizer.Momentum = v
			if v == 0 {
				s.Optimizer.Nesterov = false
			}
		case "nesterov":
			s.Optimizer.Nesterov = value == "true"
		case "schedule":
			sc := spec.ScheduleSpec{Kind: value}
			switch value {
			case "step":
				sc.StepSize, sc.Gamma = 1000, 0.5
			case "cosine":
				sc.Warmup, sc.Total, sc.MinLR = 100, 10000, s.Optimizer.LR/20
			}
			s.Schedule = sc
		case "reg":
			s.Regularization.Kind = value
			if value != "none" && s.Regularization.Rate == 0 {
				s.Regularization.Rate = 0.001
			}
		default:
			return fmt.Errorf("unknown setting %q", name)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %q is not a number", name, value)
	}
	return nil
}

// ScheduleCurve samples the draft's learning rate over its first steps:
// polyline points in a w×h box, and the step range shown.
func (a *App) ScheduleCurve(w, h float64) (points string, last int) {
	s := a.Draft
	if a.DraftErr != "" || (s.Schedule.Kind == "step" && s.Schedule.StepSize < 1) {
		return "", 0
	}
	switch s.Schedule.Kind {
	case "step":
		last = max(s.Schedule.StepSize*4, 100)
	case "cosine":
		last = max(s.Schedule.Total+s.Schedule.Total/5, 100)
	default:
		last = 1000
	}
	const n = 80
	var xs, ys []float64
	top := 0.0
	for k := 0; k <= n; k++ {
		step := uint64(k * last / n)
		lr := float64(spec.LearningRate(s.Optimizer, s.Schedule, step))
		xs, ys = append(xs, float64(k)/n*w), append(ys, lr)
		top = max(top, lr)
	}
	if top <= 0 {
		top = 1
	}
	var pts []byte
	for k := range xs {
		pts = fmt.Appendf(pts, "%.1f,%.1f ", xs[k], h-2-ys[k]/top*(h-10))
	}
	return string(pts), last
}

// NewSeed gives the draft a fresh random seed.
func (a *App) NewSeed() {
	seed := uint64(a.Now().UnixNano()) % 100000
	a.edit(func(s *spec.Spec) { s.Seed = seed })
}

// Text is what a field shows: the text being typed into it, else value.
// The page re-renders several times a second while training, and a field
// must not lose what is being typed.
func (a *App) Text(field, value string) string {
	if t, ok := a.typing[field]; ok {
		return t
	}
	return value
}

// Typing records the text of a field being edited (until its change).
func (a *App) Typing(field, text string) {
	if a.typing == nil {
		a.typing = map[string]string{}
	}
	a.typing[field] = text
}

// Typed ends the editing of a field.
func (a *App) Typed(field string) { delete(a.typing, field) }

// Blurred is a field losing the focus: what was typed is over (a field
// whose text comes back to what it was fires no change), unless it is the
// text that did not parse, which stays shown with its error.
func (a *App) Blurred(field string) {
	if field != a.badField {
		delete(a.typing, field)
	}
}

// sameLayout says whether two specs hold the same tensors (names, shapes,
// dtypes), so a state of one continues under the other.
func sameLayout(x, y spec.Spec) bool {
	return slices.EqualFunc(x.Layout(), y.Layout(), func(a, b spec.Tensor) bool {
		return a.Name == b.Name && slices.Equal(a.Shape, b.Shape) && a.Int64 == b.Int64
	})
}
