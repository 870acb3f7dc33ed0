package persist_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"playground/engine"
	"playground/engine/enginetest"
	"playground/persist"
	"playground/persist/storetest"
	"playground/spec"
	"playground/spec/spectest"
)

// checkpointAt encodes checkpoint of run "r-0badc0de" of spec after steps.
func checkpointAt(tb testing.TB, spec spec.Spec, steps int, kind, engineVersion string) []byte {
	tb.Helper()
	tr := enginetest.Trained(tb, spec, steps)
	b, err := persist.Encode(&persist.Checkpoint{
		Meta: persist.Meta{
			RunID: "r-0badc0de", ID: fmt.Sprintf("%012d-0badc0de", steps), Kind: kind,
			EngineVersion: engineVersion, Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		},
		State: tr.State(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func circle(tb testing.TB) spec.Spec {
	spec := spectest.Preset(tb, "circle-sgd")
	return spec
}

// One definition of valid: a checkpoint whose checksum is right but whose
// state no engine restores is refused by Decode, Verify and VerifyReader
// (and ReadHeader, where the header alone says so), never as a checksum
// mismatch.
func TestUnrestorableRefused(t *testing.T) {
	good := checkpointAt(t, circle(t), 7, persist.KindAutosave, engine.Version)
	for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(good)), iotest.HalfReader(bytes.NewReader(good))} {
		if _, err := io.Copy(io.Discard, persist.NewVerifyReader(r)); err != nil {
			t.Fatalf("VerifyReader of the valid checkpoint: %v", err)
		}
	}
	for name, b := range storetest.Unrestorable(t, good) {
		_, err := persist.Decode(b)
		if !errors.Is(err, persist.ErrCorrupt) || errors.Is(err, persist.ErrIncompatible) || strings.Contains(err.Error(), "checksum") {
			t.Errorf("%s: Decode: %v, want ErrCorrupt (not a checksum mismatch, not ErrIncompatible)", name, err)
			continue
		}
		for _, r := range []io.Reader{bytes.NewReader(b), iotest.OneByteReader(bytes.NewReader(b)), iotest.HalfReader(bytes.NewReader(b))} {
			_, verr := io.Copy(io.Discard, persist.NewVerifyReader(r))
			if !errors.Is(verr, persist.ErrCorrupt) {
				t.Errorf("%s: VerifyReader: %v, want ErrCorrupt", name, verr)
			}
		}
		_, herr := persist.ReadHeader(bytes.NewReader(b))
		if name != "optimizer-step" && !errors.Is(herr, persist.ErrCorrupt) {
			t.Errorf("%s: ReadHeader: %v, want ErrCorrupt", name, herr)
		}
		t.Logf("%s: %v", name, err)
	}
}

// Newest walks past an unrestorable newest checkpoint to the one before,
// reporting it, and what it returns restores.
func TestNewestSkipsUnrestorable(t *testing.T) {
	spec := circle(t)
	older, good := checkpointAt(t, spec, 5, persist.KindAutosave, engine.Version), checkpointAt(t, spec, 9, persist.KindAutosave, engine.Version)
	for name, bad := range storetest.Unrestorable(t, good) {
		st := storetest.Disk(t)
		ctx := context.Background()
		for id, b := range map[string][]byte{"000000000005-0badc0de": older, "000000000009-0badc0de": bad} {
			if err := st.Put(ctx, "r-0badc0de", id, bytes.NewReader(b), persist.PutOptions{SetHead: true}); err != nil {
				t.Fatal(err)
			}
		}
		c, skipped, err := persist.Newest(ctx, st, "r-0badc0de")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.State.Step != 5 || len(skipped) != 1 || skipped[0].ID != "000000000009-0badc0de" {
			t.Errorf("%s: newest is step %d, skipped %v; want step 5 with the crafted one skipped", name, c.State.Step, skipped)
		}
		if _, err := engine.Restore(c.State); err != nil {
			t.Errorf("%s: the fallback does not restore: %v", name, err)
		}
	}
}

// The header limit fits the largest spec the engine accepts with room to
// spare, and a longer header is refused before it is read.
func TestHeaderLimit(t *testing.T) {
	sp := spec.Spec{
		Name: strings.Repeat("n", 64), Seed: 1<<64 - 1,
		Dataset: spec.DatasetSpec{Kind: "spiral", Samples: 200, Noise: 0.123456789, TestRatio: 0.123456789,
			Features: []string{"x", "y", "x2", "y2", "xy", "sinx", "siny"}},
		Optimizer: spec.OptimizerSpec{Kind: "adamw", LR: 0.00123456789, WeightDecay: 0.0123456789},
		BatchSize: 7,
	}
	for range 15 {
		sp.Model.Layers = append(sp.Model.Layers, spec.LayerSpec{Units: 1, Activation: "tanh"})
	}
	sp.Model.Layers = append(sp.Model.Layers, spec.LayerSpec{Units: 1, Activation: "sigmoid"})
	long := strings.Repeat("k", persist.MaxMetaString)
	b := checkpointAt(t, sp, 3, long, engine.Version) // the engine version can only be this one
	n := binary.LittleEndian.Uint64(b)
	t.Logf("largest header: %d bytes (circle-sgd: %d)", n, binary.LittleEndian.Uint64(checkpointAt(t, circle(t), 1, persist.KindAutosave, engine.Version)))
	if n > 16<<10 {
		t.Errorf("the largest header is %d bytes: the 64 KiB limit leaves less than 4x room", n)
	}
	huge := binary.LittleEndian.AppendUint64(nil, 64<<10+8)
	huge = append(huge, make([]byte, 64<<10+8)...)
	for what, err := range map[string]error{
		"Decode":     persist.Verify(huge),
		"ReadHeader": func() error { _, err := persist.ReadHeader(bytes.NewReader(huge)); return err }(),
	} {
		if !errors.Is(err, persist.ErrCorrupt) || !strings.Contains(err.Error(), "exceeds") {
			t.Errorf("%s of a 64 KiB + 8 header: %v", what, err)
		}
	}
	if _, err := persist.Encode(&persist.Checkpoint{Meta: persist.Meta{RunID: "r", ID: "i", Kind: long + "k", Created: time.Unix(0, 0).UTC()}, State: mustState(t)}); err == nil {
		t.Error("Encode accepts a kind over MaxMetaString")
	}
}

func mustState(t *testing.T) engine.State {
	tr, err := engine.NewTrainer(circle(t))
	if err != nil {
		t.Fatal(err)
	}
	return tr.State()
}

// Unusable names why a checkpoint is passed over: "damaged" only for bytes
// that are not a valid checkpoint, never for one of another version.
func TestUnusable(t *testing.T) {
	good := checkpointAt(t, circle(t), 7, persist.KindAutosave, engine.Version)
	_, truncated := persist.Decode(good[:len(good)/2])
	_, corrupt := persist.Decode(append([]byte("{}"), good...))
	for _, c := range []struct {
		err  error
		want string
	}{
		{truncated, "damaged"},
		{corrupt, "damaged"},
		{fmt.Errorf("%w: file has format version 2, this build reads 1", persist.ErrVersion), "of another version"},
		{fmt.Errorf("restore: %w", persist.ErrIncompatible), "of another version"},
		{fmt.Errorf("%w: dataset 12ab", persist.ErrMissingData), "missing its dataset"},
		{errors.New("disk: read: input/output error"), "unreadable"},
	} {
		if got := persist.Unusable(c.err); got != c.want {
			t.Errorf("Unusable(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
