package persist

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"playground/spec"
)

// streamVerify copies b through a VerifyReader in small, uneven reads.
func streamVerify(b []byte) ([]byte, error) {
	v := NewVerifyReader(iotest.HalfReader(bytes.NewReader(b)))
	var out bytes.Buffer
	_, err := io.Copy(&out, v)
	if err == nil && v.Defect() != nil {
		return nil, errors.New("Defect set after a clean copy")
	}
	if err != nil && v.Defect() == nil {
		return nil, errors.New("copy failed without a Defect: " + err.Error())
	}
	return out.Bytes(), err
}

// sameVerdict fails unless VerifyReader accepts b exactly when Decode does,
// passes it through unchanged, and reports the same kind of defect.
func sameVerdict(t *testing.T, what string, b []byte) {
	t.Helper()
	derr := Verify(b)
	out, serr := streamVerify(b)
	if (derr == nil) != (serr == nil) {
		t.Fatalf("%s: Decode: %v, VerifyReader: %v", what, derr, serr)
	}
	if serr == nil && !bytes.Equal(out, b) {
		t.Fatalf("%s: VerifyReader passed %d bytes through, want the %d of the file", what, len(out), len(b))
	}
	if derr != nil {
		for _, k := range []error{ErrTruncated, ErrCorrupt, ErrVersion, ErrNotCheckpoint, ErrIncompatible} {
			if errors.Is(serr, k) {
				return
			}
		}
		t.Fatalf("%s: VerifyReader error %v is none of the format's errors", what, serr)
	}
}

func TestVerifyReaderMatchesDecode(t *testing.T) {
	for name, b := range seeds(t) {
		sameVerdict(t, name, b)
		if fixed := fixChecksum(b); fixed != nil {
			sameVerdict(t, name+" (checksum fixed)", fixed)
		}
	}
	b := encode(t, trained(t, tinySpec(), 3))
	every := 1
	if testing.Short() {
		every = 13 // wasm under Node is slow; a sample of the bits
	}
	for bit := 0; bit < 8*len(b); bit += every {
		m := bytes.Clone(b)
		m[bit/8] ^= 1 << (bit % 8)
		sameVerdict(t, "flip", m)
		if fixed := fixChecksum(m); fixed != nil {
			sameVerdict(t, "flip, checksum fixed", fixed)
		}
	}
	for n := range len(b) {
		sameVerdict(t, "cut", b[:n])
	}
	sameVerdict(t, "trailing byte", append(bytes.Clone(b), 0))
	sameVerdict(t, "empty", nil)
}

func TestVerifyReaderHeader(t *testing.T) {
	c := trained(t, tinySpec(), 3)
	b := encode(t, c)
	v := NewVerifyReader(bytes.NewReader(b))
	info, err := v.Header()
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != c.ID || info.RunID != c.RunID || info.Step != c.State.Step {
		t.Fatalf("Header = %+v, want the checkpoint's ids and step", info.Meta)
	}
	out, err := io.ReadAll(v)
	if err != nil || !bytes.Equal(out, b) {
		t.Fatalf("ReadAll after Header: %d bytes, %v", len(out), err)
	}

	// An underlying read error is passed on, and is no defect.
	boom := errors.New("boom")
	v = NewVerifyReader(io.MultiReader(bytes.NewReader(b[:len(b)-4]), iotest.ErrReader(boom)))
	if _, err := io.ReadAll(v); !errors.Is(err, boom) || v.Defect() != nil {
		t.Fatalf("failing reader: %v, defect %v", err, v.Defect())
	}
}

// A spec whose model is far larger than the file is refused from the
// header alone, before any model is built.
func TestVerifyReaderHugeSpec(t *testing.T) {
	c := trained(t, tinySpec(), 1)
	sp := c.State.Spec
	b := reencode(t, c, func(m map[string]string) {
		big := sp
		big.Model.Layers = []spec.LayerSpec{{Units: 4096, Activation: "tanh"}, {Units: 4096, Activation: "tanh"}, {Units: 4096, Activation: "tanh"}, sp.Model.Layers[1]}
		m[keySpec] = string(big.JSON())
	})
	_, err := streamVerify(b)
	if !errors.Is(err, ErrIncompatible) {
		t.Fatalf("huge spec: %v", err)
	}
	sameVerdict(t, "huge spec", b)
}

func FuzzVerifyReader(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameVerdict(t, "input", b)
		if fixed := fixChecksum(b); fixed != nil {
			sameVerdict(t, "input with checksum fixed", fixed)
		}
	})
}
