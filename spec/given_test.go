package spec

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const base = `"dataset":{"kind":"circle"},"model":{"layers":[{"units":1,"activation":"sigmoid"}]}`

func mustParse(t *testing.T, js string) Spec {
	t.Helper()
	s, err := ParseSpec([]byte(js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

// An absent setting takes its default; a present one is honoured, zero
// included.
func TestAbsentDefaultsPresentHonoured(t *testing.T) {
	cases := []struct {
		optimizer string
		get       func(OptimizerSpec) float64
		absent    float64
	}{
		{`"kind":"adam","lr":0.1`, func(o OptimizerSpec) float64 { return o.Beta1 }, 0.9},
		{`"kind":"adam","lr":0.1`, func(o OptimizerSpec) float64 { return o.Beta2 }, 0.999},
		{`"kind":"adam","lr":0.1`, func(o OptimizerSpec) float64 { return o.Eps }, 1e-8},
		{`"kind":"adamw","lr":0.1`, func(o OptimizerSpec) float64 { return o.Beta1 }, 0.9},
		{`"kind":"adamw","lr":0.1`, func(o OptimizerSpec) float64 { return o.Beta2 }, 0.999},
		{`"kind":"adamw","lr":0.1`, func(o OptimizerSpec) float64 { return o.Eps }, 1e-8},
		{`"kind":"adamw","lr":0.1`, func(o OptimizerSpec) float64 { return o.WeightDecay }, 0.01},
		{`"kind":"rmsprop","lr":0.1`, func(o OptimizerSpec) float64 { return o.Alpha }, 0.99},
		{`"kind":"rmsprop","lr":0.1`, func(o OptimizerSpec) float64 { return o.Eps }, 1e-8},
	}
	keys := []string{"beta1", "beta2", "eps", "beta1", "beta2", "eps", "weight_decay", "alpha", "eps"}
	for i, c := range cases {
		absent := mustParse(t, `{`+base+`,"optimizer":{`+c.optimizer+`}}`)
		if got := c.get(absent.Optimizer); got != c.absent {
			t.Errorf("%s without %s: %v, want the default %v", c.optimizer, keys[i], got, c.absent)
		}
		zero := mustParse(t, `{`+base+`,"optimizer":{`+c.optimizer+`,"`+keys[i]+`":0}}`)
		if got := c.get(zero.Optimizer); got != 0 {
			t.Errorf("%s with %s 0: %v, want 0", c.optimizer, keys[i], got)
		}
		if !strings.Contains(string(zero.JSON()), `"`+keys[i]+`":0`) {
			t.Errorf("%s with %s 0 encodes as %s", c.optimizer, keys[i], zero.JSON())
		}
	}
	// Zero where zero is no valid value is an error, not a default.
	for _, js := range []string{
		`{` + base + `,"optimizer":{"kind":"sgd","lr":0.1},"batch_size":0}`,
		`{"dataset":{"kind":"circle","samples":0},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"sgd","lr":0.1}}`,
		`{"dataset":{"kind":"circle","features":[]},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"sgd","lr":0.1}}`,
	} {
		if _, err := ParseSpec([]byte(js)); err == nil {
			t.Errorf("%s accepted", js)
		}
	}
	// null is absent, as in encoding/json.
	if s := mustParse(t, `{`+base+`,"optimizer":{"kind":"adam","lr":0.1,"beta1":null},"batch_size":null}`); s.Optimizer.Beta1 != 0.9 || s.BatchSize != 10 {
		t.Errorf("null: beta1 %v, batch %v", s.Optimizer.Beta1, s.BatchSize)
	}
}

// A normalized spec round-trips through its JSON, zeros included, and
// through Normalize again; in Go, a zero of a spec not decoded from JSON
// is absent (the presets and struct literals rely on it).
func TestGivenZerosRoundTrip(t *testing.T) {
	s := mustParse(t, `{`+base+`,"optimizer":{"kind":"adamw","lr":0.1,"beta1":0,"eps":0,"weight_decay":0}}`)
	if o := s.Optimizer; o.Beta1 != 0 || o.Beta2 != 0.999 || o.Eps != 0 || o.WeightDecay != 0 {
		t.Fatalf("parsed %+v", o)
	}
	again := mustParse(t, string(s.JSON()))
	if !reflect.DeepEqual(again, s) || string(again.JSON()) != string(s.JSON()) {
		t.Errorf("JSON round trip:\n%s\n%s", s.JSON(), again.JSON())
	}
	var viaJSON Spec
	if err := json.Unmarshal(s.JSON(), &viaJSON); err != nil {
		t.Fatal(err)
	}
	if n, err := viaJSON.Normalize(); err != nil || !reflect.DeepEqual(n, s) {
		t.Errorf("json.Unmarshal then Normalize: %+v, %v", n.Optimizer, err)
	}
	if n, err := s.Normalize(); err != nil || !reflect.DeepEqual(n, s) {
		t.Errorf("Normalize again: %+v, %v", n.Optimizer, err)
	}
	// An edit of a normalized spec keeps a zero the user sets.
	edited := mustParse(t, `{`+base+`,"optimizer":{"kind":"adam","lr":0.1}}`)
	edited.Optimizer.Beta1 = 0
	if n, err := edited.Normalize(); err != nil || n.Optimizer.Beta1 != 0 {
		t.Errorf("beta1 set to 0 after normalizing became %v (%v)", n.Optimizer.Beta1, err)
	}
	// A fresh optimizer in Go takes the defaults.
	lit := Spec{Dataset: DatasetSpec{Kind: "circle"}, Model: s.Model, Optimizer: OptimizerSpec{Kind: "adamw", LR: 0.1}}
	n, err := lit.Normalize()
	if err != nil || n.Optimizer.Beta1 != 0.9 || n.Optimizer.WeightDecay != 0.01 || n.BatchSize != 10 || n.Dataset.Samples != 1000 {
		t.Errorf("a struct literal normalized to %+v, %v", n, err)
	}
	if want := mustParse(t, `{`+base+`,"optimizer":{"kind":"adamw","lr":0.1}}`).JSON(); string(n.JSON()) != string(want) {
		t.Errorf("a struct literal encodes as %s, want %s", n.JSON(), want)
	}
}

func TestRMSpropAlphaZero(t *testing.T) {
	s := mustParse(t, `{`+base+`,"optimizer":{"kind":"rmsprop","lr":0.1,"alpha":0}}`)
	if s.Optimizer.Alpha != 0 {
		t.Errorf("alpha %v", s.Optimizer.Alpha)
	}
	if _, err := ParseSpec([]byte(`{` + base + `,"optimizer":{"kind":"rmsprop","lr":0.1,"alpha":1}}`)); err == nil {
		t.Error("alpha 1 accepted")
	}
}
