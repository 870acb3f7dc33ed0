package spec_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"playground/spec"
	"playground/spec/spectest"
)

func TestParseSpecErrors(t *testing.T) {
	good := string(spectest.Preset(t, "circle-sgd").JSON())
	cases := []struct {
		name, json, want string
	}{
		{"not json", `{`, "invalid spec"},
		{"unknown field", strings.Replace(good, `"seed"`, `"sede"`, 1), "unknown field"},
		{"trailing", good + `{}`, "trailing data"},
		{"dataset", strings.Replace(good, `"circle"`, `"moons"`, 1), `unknown dataset "moons"`},
		{"optimizer", strings.Replace(good, `"sgd"`, `"lbfgs"`, 1), `unknown optimizer "lbfgs"`},
		{"lr", strings.Replace(good, `"lr":0.03`, `"lr":-1`, 1), "learning rate -1"},
		{"activation", strings.Replace(good, `"tanh"`, `"gelu"`, 1), `unknown activation "gelu"`},
		{"output units", strings.Replace(good, `{"units":1,`, `{"units":3,`, 1), "output layer has 3 units"},
		{"batch", strings.Replace(good, `"batch_size":10`, `"batch_size":100000`, 1), "batch size 100000"},
		{"samples", strings.Replace(good, `"samples":1000`, `"samples":100000000`, 1), "samples 100000000"},
		{"softmax hidden", strings.Replace(good, `"tanh"`, `"softmax"`, 1), "softmax is allowed on the output layer only"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := spec.ParseSpec([]byte(c.json))
			if err == nil || !errors.Is(err, spec.ErrSpec) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an ErrSpec mentioning %q", err, c.want)
			}
		})
	}
}

// FuzzParseSpec: specs come from files and URLs. Parsing never panics, and
// an accepted spec encodes and parses back to itself.
func FuzzParseSpec(f *testing.F) {
	for _, n := range spec.PresetNames() {
		f.Add(spectest.Preset(f, n).JSON())
	}
	f.Add([]byte(`{"dataset":{"kind":"xor"},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"sgd","lr":0.1,"momentum":NaN}}`))
	f.Add([]byte(`{"dataset":{"kind":"xor","samples":50},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"adamw","lr":0.1,"beta1":0,"eps":0,"weight_decay":0},"batch_size":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := spec.ParseSpec(b)
		if err != nil {
			return
		}
		j := s.JSON()
		s2, err := spec.ParseSpec(j)
		if err != nil {
			t.Fatalf("accepted spec does not re-parse: %v\n%s", err, j)
		}
		if !bytes.Equal(s2.JSON(), j) {
			t.Fatalf("spec changed on re-parse:\n%s\n%s", j, s2.JSON())
		}
		s.Layout()
	})
}

func TestPresetsValid(t *testing.T) {
	seenOpt := map[string]bool{}
	seenSched := map[string]bool{}
	seenData := map[string]bool{}
	seenAct := map[string]bool{}
	for _, name := range spec.PresetNames() {
		s := spectest.Preset(t, name)
		o := s.Optimizer.Kind
		if o == "sgd" && s.Optimizer.Nesterov {
			o = "sgd-nesterov"
		} else if o == "sgd" && s.Optimizer.Momentum > 0 {
			o = "sgd-momentum"
		}
		seenOpt[o] = true
		seenSched[s.Schedule.Kind] = true
		seenData[s.Dataset.Kind] = true
		for _, l := range s.Model.Layers {
			seenAct[l.Activation] = true
		}
	}
	for _, o := range []string{"sgd", "sgd-momentum", "sgd-nesterov", "adam", "adamw", "rmsprop"} {
		if !seenOpt[o] {
			t.Errorf("no preset uses optimizer %s", o)
		}
	}
	for _, k := range []string{"constant", "step", "cosine"} {
		if !seenSched[k] {
			t.Errorf("no preset uses schedule %s", k)
		}
	}
	for _, k := range spec.DatasetKinds() {
		if !seenData[k] {
			t.Errorf("no preset uses dataset %s", k)
		}
	}
	for _, k := range spec.Activations() {
		if !seenAct[k] {
			t.Errorf("no preset uses activation %s", k)
		}
	}
}
