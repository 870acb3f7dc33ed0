package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
)

// given records which numbers whose absence means a default were given:
// present in the JSON a spec was decoded from, or (after Normalize) all
// of them. A zero that was given is honoured.
type given uint8

const (
	givenSamples given = 1 << iota // DatasetSpec
	givenBatch                     // Spec
	givenBeta1                     // OptimizerSpec, as the four below
	givenBeta2
	givenAlpha
	givenEps
	givenWeightDecay

	givenAll given = 1<<iota - 1
)

// optimizerDefaults are the values an absent setting takes, by optimizer
// kind (PyTorch's defaults); a kind missing here is unknown.
var optimizerDefaults = map[string][]struct {
	field given
	value float64
}{
	"sgd":     nil,
	"adam":    {{givenBeta1, 0.9}, {givenBeta2, 0.999}, {givenEps, 1e-8}},
	"adamw":   {{givenBeta1, 0.9}, {givenBeta2, 0.999}, {givenEps, 1e-8}, {givenWeightDecay, 0.01}},
	"rmsprop": {{givenAlpha, 0.99}, {givenEps, 1e-8}},
}

// field is the setting a bit of given stands for.
func (o *OptimizerSpec) field(g given) *float64 {
	switch g {
	case givenBeta1:
		return &o.Beta1
	case givenBeta2:
		return &o.Beta2
	case givenAlpha:
		return &o.Alpha
	case givenEps:
		return &o.Eps
	case givenWeightDecay:
		return &o.WeightDecay
	}
	panic("spec: not an optimizer setting")
}

// hasDefault says whether an absent setting means something else than
// zero for this optimizer kind.
func (o OptimizerSpec) hasDefault(g given) bool {
	for _, d := range optimizerDefaults[o.Kind] {
		if d.field == g {
			return d.value != 0
		}
	}
	return false
}

// MarshalJSON writes a setting when it is not zero, or when it is a
// given zero that absence would turn into a default: decoding the JSON
// gives the same spec, and specs without such zeros encode exactly as
// before zeros were honoured.
func (o OptimizerSpec) MarshalJSON() ([]byte, error) {
	shown := func(g given) *float64 {
		v := *o.field(g)
		if v != 0 || (o.given&g != 0 && o.hasDefault(g)) {
			return &v
		}
		return nil
	}
	return json.Marshal(struct {
		Kind        string   `json:"kind"`
		LR          float64  `json:"lr"`
		Momentum    float64  `json:"momentum,omitempty"`
		Nesterov    bool     `json:"nesterov,omitempty"`
		Beta1       *float64 `json:"beta1,omitempty"`
		Beta2       *float64 `json:"beta2,omitempty"`
		Alpha       *float64 `json:"alpha,omitempty"`
		Eps         *float64 `json:"eps,omitempty"`
		WeightDecay *float64 `json:"weight_decay,omitempty"`
	}{o.Kind, o.LR, o.Momentum, o.Nesterov, shown(givenBeta1), shown(givenBeta2), shown(givenAlpha), shown(givenEps), shown(givenWeightDecay)})
}

// UnmarshalJSON decodes strictly and records the settings present.
func (o *OptimizerSpec) UnmarshalJSON(b []byte) (err error) {
	type plain OptimizerSpec
	var has struct {
		Beta1, Beta2, Alpha, Eps *float64
		WeightDecay              *float64 `json:"weight_decay"`
	}
	o.given, err = decodeGiven(b, (*plain)(o), &has, givenBeta1, givenBeta2, givenAlpha, givenEps, givenWeightDecay)
	return err
}

// UnmarshalJSON decodes strictly and records whether samples is present.
func (d *DatasetSpec) UnmarshalJSON(b []byte) (err error) {
	type plain DatasetSpec
	var has struct{ Samples *int }
	d.given, err = decodeGiven(b, (*plain)(d), &has, givenSamples)
	return err
}

// UnmarshalJSON decodes strictly and records whether batch_size is
// present.
func (s *Spec) UnmarshalJSON(b []byte) (err error) {
	type plain Spec
	var has struct {
		BatchSize *int `json:"batch_size"`
	}
	s.given, err = decodeGiven(b, (*plain)(s), &has, givenBatch)
	return err
}

// decodeGiven decodes the JSON object b into v strictly (DecodeStrict),
// and into has, a struct of pointer fields that say which keys are
// present (not null): it returns bits[i] set for each present field i.
func decodeGiven(b []byte, v, has any, bits ...given) (given, error) {
	if err := DecodeStrict(b, v); err != nil {
		return 0, err
	}
	if err := json.Unmarshal(b, has); err != nil {
		return 0, err
	}
	var g given
	fields := reflect.ValueOf(has).Elem()
	for i, bit := range bits {
		if !fields.Field(i).IsNil() {
			g |= bit
		}
	}
	return g, nil
}

// DecodeStrict decodes the JSON value b into v, refusing unknown fields
// and trailing data: how a spec, and the page's messages, are read.
func DecodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
