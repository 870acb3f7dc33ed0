package engine

import (
	"errors"
	"math"
	"slices"
	"testing"

	"playground/spec"
	"playground/spec/spectest"
)

// mustTrainer returns a new trainer of s.
func mustTrainer(tb testing.TB, s spec.Spec) *Trainer {
	tb.Helper()
	tr, err := NewTrainer(s)
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// Every activation a spec may name has a kernel.
func TestActivationsImplemented(t *testing.T) {
	names := spec.Activations()
	if len(names) != len(activations) {
		t.Errorf("spec names %d activations, the engine implements %d", len(names), len(activations))
	}
	for _, name := range names {
		if _, ok := activations[name]; !ok {
			t.Errorf("activation %s has no kernel", name)
		}
	}
}

// Every preset learns: the test loss after training is well below the
// initial one.
func TestPresetsLearn(t *testing.T) {
	spectest.EachPreset(t, func(t *testing.T, s spec.Spec) {
		tr := mustTrainer(t, s)
		before := tr.Evaluate(&tr.Data.Test)
		steps := 1500
		if testing.Short() {
			steps = 400
		}
		for i := 0; i < steps; i++ {
			l := tr.TrainStep()
			if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
				t.Fatalf("step %d: loss %v", i, l)
			}
		}
		after := tr.Evaluate(&tr.Data.Test)
		t.Logf("test loss %.4f -> %.4f, accuracy %.3f -> %.3f", before.Loss, after.Loss, before.Accuracy, after.Accuracy)
		if !(after.Loss < 0.8*before.Loss) {
			t.Errorf("test loss did not fall enough: %v -> %v", before.Loss, after.Loss)
		}
	})
}

func run(t testing.TB, tr *Trainer, to uint64) []float32 {
	var losses []float32
	for tr.Step < to {
		losses = append(losses, tr.TrainStep())
	}
	return losses
}

// Save at k, restore, continue to n: identical to training straight to n,
// for every preset, at epoch boundaries and mid-epoch.
func TestResumeBitExact(t *testing.T) {
	const n = 400
	for _, name := range spec.PresetNames() {
		t.Run(name, func(t *testing.T) {
			spec := spectest.Preset(t, name)
			ref, _ := NewTrainer(spec)
			refLoss := run(t, ref, n)
			want := ref.State()
			bpe := uint64(ref.BatchesPerEpoch())
			for _, k := range []uint64{0, 1, 150, bpe, bpe + 1, 2*bpe - 1, 399} {
				if k >= n {
					continue
				}
				a, _ := NewTrainer(spec)
				run(t, a, k)
				st := a.State()
				b, err := Restore(st)
				if err != nil {
					t.Fatalf("restore at %d: %v", k, err)
				}
				got := run(t, b, n)
				if !slices.Equal(f32bits(got), f32bits(refLoss[k:])) {
					t.Fatalf("resume at %d: losses differ", k)
				}
				if err := sameState(want, b.State()); err != "" {
					t.Fatalf("resume at %d: %s", k, err)
				}
			}
		})
	}
}

func f32bits(a []float32) []uint32 {
	out := make([]uint32, len(a))
	for i, v := range a {
		out[i] = math.Float32bits(v)
	}
	return out
}

func sameState(a, b State) string {
	if a.Step != b.Step || a.Epoch != b.Epoch || a.Batch != b.Batch || !slices.Equal(a.RNG, b.RNG) {
		return "position or rng differ"
	}
	for i := range a.Tensors {
		if !slices.Equal(f32bits(a.Tensors[i].F32), f32bits(b.Tensors[i].F32)) || !slices.Equal(a.Tensors[i].I64, b.Tensors[i].I64) {
			return "tensor " + a.Tensors[i].Name + " differs"
		}
	}
	return ""
}

// CheckPosition judges from the spec alone what Restore judges with the
// data: the batches per epoch agree with the generated training set.
func TestCheckPosition(t *testing.T) {
	for _, name := range spec.PresetNames() {
		tr := mustTrainer(t, spectest.Preset(t, name))
		if got, want := tr.BatchesPerEpoch(), (tr.Data.Train.N+tr.Spec.BatchSize-1)/tr.Spec.BatchSize; got != want {
			t.Errorf("%s: %d batches per epoch from the spec, %d from the data", name, got, want)
		}
		for range 3 {
			tr.TrainStep()
		}
		s := tr.State()
		if err := CheckPosition(tr.Spec, s.Step, s.Epoch, s.Batch, s.RNG); err != nil {
			t.Errorf("%s: a trained state: %v", name, err)
		}
		bpe := uint64(tr.BatchesPerEpoch())
		for _, bad := range []struct {
			what         string
			step         uint64
			epoch, batch int
			rng          []byte
		}{
			{"empty rng", s.Step, s.Epoch, s.Batch, nil},
			{"step off by one", s.Step + 1, s.Epoch, s.Batch, s.RNG},
			{"step 2^64-1", 1<<64 - 1, s.Epoch, s.Batch, s.RNG},
			{"step beyond MaxStep", (MaxStep/bpe + 1) * bpe, int((MaxStep/bpe + 1)), 0, s.RNG},
			{"batch past the epoch", bpe, 0, int(bpe), s.RNG},
			{"negative epoch", 0, -1, 0, s.RNG},
		} {
			err := CheckPosition(tr.Spec, bad.step, bad.epoch, bad.batch, bad.rng)
			if !errors.Is(err, ErrIncompatible) {
				t.Errorf("%s: %s: %v, want ErrIncompatible", name, bad.what, err)
			}
			st := s
			st.Step, st.Epoch, st.Batch, st.RNG = bad.step, bad.epoch, bad.batch, bad.rng
			if _, err := Restore(st); err == nil {
				t.Errorf("%s: Restore accepts %s", name, bad.what)
			}
		}
	}
}
