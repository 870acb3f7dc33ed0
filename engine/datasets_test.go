package engine

import (
	"slices"
	"testing"

	"playground/spec"
)

// TensorFlow Playground's regression sets: plane's target is (x+y)/10 of
// the noisy point, multi-gaussian's within [-1, 1], both over the square.
func TestRegressionSets(t *testing.T) {
	for _, kind := range []string{"plane", "multi-gaussian"} {
		s, err := spec.ParseSpec([]byte(`{"seed":1,"dataset":{"kind":"` + kind + `","samples":400,"noise":0,"test_ratio":0.5},"model":{"layers":[{"units":4,"activation":"tanh"},{"units":1,"activation":"linear"}]},"optimizer":{"kind":"sgd","lr":0.01}}`))
		if err != nil {
			t.Fatal(err)
		}
		d := Generate(s)
		if d.Classes != 0 || d.Train.N+d.Test.N != 400 {
			t.Fatalf("%s: %d classes, %d samples", kind, d.Classes, d.Train.N+d.Test.N)
		}
		var pos, neg int
		for i, p := range d.Train.Points {
			v := d.Train.Label[i]
			if v < -1.2 || v > 1.2 || p[0] < -spec.Domain || p[0] > spec.Domain {
				t.Fatalf("%s: point %v target %v", kind, p, v)
			}
			if kind == "plane" && abs32(v-float32(p[0]+p[1])/10) > 1e-6 {
				t.Fatalf("plane: point %v target %v", p, v)
			}
			if v > 0.1 {
				pos++
			} else if v < -0.1 {
				neg++
			}
		}
		if pos < 20 || neg < 20 {
			t.Errorf("%s: %d positive and %d negative targets", kind, pos, neg)
		}
	}
}

// The data seed moves the data and nothing else; without one the data
// come from the run's seed, as before it existed.
func TestDataSeed(t *testing.T) {
	s, _ := spec.Preset("circle-sgd")
	a := Generate(s)
	seed := s.Seed
	s.Dataset.Seed = &seed
	if b := Generate(s); !slices.Equal(a.Train.X, b.Train.X) {
		t.Error("a data seed equal to the run's seed changed the data")
	}
	other := seed + 1
	s.Dataset.Seed = &other
	if b := Generate(s); slices.Equal(a.Train.X, b.Train.X) {
		t.Error("another data seed left the data as they were")
	}
	ta, _ := NewTrainer(s)
	s.Dataset.Seed = nil
	tb, _ := NewTrainer(s)
	if !slices.Equal(ta.State().Tensors[0].F32, tb.State().Tensors[0].F32) {
		t.Error("the data seed changed the initial weights")
	}
}
