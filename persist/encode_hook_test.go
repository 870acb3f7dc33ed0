package persist

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"playground/spec"
	"playground/spec/spectest"
)

// EncodeWith and Prepare+Seal write exactly Encode's bytes, for every
// preset (every optimizer, so F32 state of every kind and the I64 step).
func TestEncodeWithMatchesEncode(t *testing.T) {
	spectest.EachPreset(t, func(t *testing.T, s spec.Spec) {
		c := trained(t, s, 3)
		want := encode(t, c)
		got, err := EncodeWith(c, sum256)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("EncodeWith differs from Encode (%d vs %d bytes)", len(got), len(want))
		}
		p, err := Prepare(c)
		if err != nil {
			t.Fatal(err)
		}
		if p.Size() != len(want) {
			t.Errorf("Size = %d, want %d", p.Size(), len(want))
		}
		sum, _ := sum256(p.Header(), p.Data())
		sealed, err := p.Seal(sum)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sealed, want) {
			t.Fatal("Prepare+Seal differs from Encode")
		}
		if _, err := p.Seal(sum); err == nil {
			t.Error("second Seal succeeded")
		}
	})
}

func TestSealChecksumErrors(t *testing.T) {
	c := trained(t, tinySpec(), 2)
	p, err := Prepare(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Seal(make([]byte, 31)); err == nil {
		t.Error("Seal accepted a 31-byte sum")
	}
	b, err := p.Seal(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("Decode of a wrongly sealed file = %v, want a checksum mismatch", err)
	}

	boom := errors.New("boom")
	if _, err := EncodeWith(c, func(_, _ []byte) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("EncodeWith with a failing hash = %v, want boom", err)
	}
	if _, err := Prepare(nil); err == nil {
		t.Error("Prepare(nil) succeeded")
	}
	c.State.Tensors = c.State.Tensors[1:]
	if _, err := Prepare(c); err == nil || !strings.Contains(err.Error(), "spec expects layers.0.weight") {
		t.Errorf("Prepare of a wrong layout = %v", err)
	}
}

// Seal writes the checksum where the key is, even when metadata values
// spell out the key and the placeholder.
func TestSealChecksumKeyInValues(t *testing.T) {
	for _, kind := range []string{"checksum", `"checksum":"` + placeholderSum, `","checksum":"` + placeholderSum + `","x":"`} {
		c := trained(t, tinySpec(), 2)
		c.Kind = kind
		d, err := Decode(encode(t, c))
		if err != nil {
			t.Fatalf("kind %q: %v", kind, err)
		}
		if d.Kind != kind {
			t.Errorf("kind %q, want %q", d.Kind, kind)
		}
	}
}

func TestCopyF32MatchesPutF32(t *testing.T) {
	src := []float32{0, -0, 1.5, -2.25, 3e38, 1e-45, float32(math.NaN())}
	a, b := make([]byte, 4*len(src)), make([]byte, 4*len(src))
	putF32(a, src)
	copyF32(b, src)
	if !bytes.Equal(a, b) {
		t.Fatalf("copyF32 % x, putF32 % x", b, a)
	}
	copyF32(nil, nil) // empty is fine
}

func BenchmarkPrepare(b *testing.B) {
	c := benchCheckpoint(b)
	p, _ := Prepare(c)
	b.SetBytes(int64(p.Size()))
	for b.Loop() {
		if _, err := Prepare(c); err != nil {
			b.Fatal(err)
		}
	}
}
