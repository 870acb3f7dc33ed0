package persist

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"playground/engine"
	"playground/spec/spectest"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the committed seeds in testdata/fuzz/FuzzDecode")

// seedDir holds FuzzDecode's committed corpus; valid-tiny doubles as a
// golden file: a version 1 checkpoint that every later build must read.
const seedDir = "testdata/fuzz/FuzzDecode"

// seeds are small files worth fuzzing from, valid and each kind of invalid.
func seeds(tb testing.TB) map[string][]byte {
	c := trained(tb, tinySpec(), 3)
	good := encode(tb, c)
	hdr := 8 + int(binary.LittleEndian.Uint64(good))
	nesterov := spectest.Preset(tb, "gauss-nesterov")
	edited := *c
	edited.Edit = "layers.0.bias[1] = 0.5 (was 0)"
	return map[string][]byte{
		"valid-tiny":        good,
		"valid-edited":      encode(tb, &edited),
		"valid-nesterov":    encode(tb, trained(tb, nesterov, 1)),
		"valid-curve":       encode(tb, withCurve(tb, trained(tb, tinySpec(), 3))),
		"version-2":         reencode(tb, c, func(m map[string]string) { m[keyFormatVersion] = "2" }),
		"plain-safetensors": rawFile(`{"weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"truncated":         good[:hdr+5],
		"flipped-data":      flipAt(good, len(good)-3),
	}
}

func flipAt(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 1
	return b
}

func FuzzDecode(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b)
		// Mutations rarely keep the checksum right; repair it so the
		// fuzzer also reaches the checks behind it.
		if fixed := fixChecksum(b); fixed != nil {
			check(t, fixed)
		}
	})
}

// check asserts what must hold for any input: no panic, only our errors,
// Verify and ReadHeader agree with Decode, and whatever Decode accepts
// re-encodes to the same bytes.
func check(t *testing.T, b []byte) {
	c, err := Decode(b)
	if verr := Verify(b); (verr == nil) != (err == nil) {
		t.Fatalf("Decode: %v, Verify: %v", err, verr)
	}
	info, herr := ReadHeader(bytes.NewReader(b))
	if err != nil {
		for _, k := range []error{ErrTruncated, ErrCorrupt, ErrVersion, ErrNotCheckpoint, ErrIncompatible} {
			if errors.Is(err, k) {
				return
			}
		}
		t.Fatalf("Decode error %v wraps none of the checkpoint errors", err)
	}
	if herr != nil {
		t.Fatalf("Decode accepts a file ReadHeader refuses: %v", herr)
	}
	if info.Step != c.State.Step || info.Meta != c.Meta || !reflect.DeepEqual(info.Spec, c.State.Spec) ||
		info.HeaderSize+int(info.DataSize) != len(b) {
		t.Fatalf("ReadHeader %+v disagrees with Decode", info)
	}
	re, err := Encode(c)
	if err != nil {
		t.Fatalf("Decode accepts what Encode refuses: %v", err)
	}
	if !bytes.Equal(re, b) {
		t.Fatalf("re-encoding differs:\n%q\n%q", b, re)
	}
}

// fixChecksum returns b with its checksum recomputed by the format's rule
// over the header as it stands, or nil if b has no checksum to fix.
func fixChecksum(b []byte) []byte {
	if len(b) < 8 {
		return nil
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil
	}
	h := b[8 : 8+n]
	key := []byte(`"checksum":"` + checksumAlgo)
	i := bytes.Index(h, key)
	j := i + len(key) + 2*sha256.Size // the closing quote
	if i < 0 || j >= len(h) || h[j] != '"' {
		return nil
	}
	var without []byte
	switch {
	case j+1 < len(h) && h[j+1] == ',':
		without = append(bytes.Clone(h[:i]), h[j+2:]...)
	case i > 0 && h[i-1] == ',':
		without = append(bytes.Clone(h[:i-1]), h[j+1:]...)
	default:
		without = append(bytes.Clone(h[:i]), h[j+1:]...)
	}
	sum := sha256.New()
	sum.Write(bytes.TrimRight(without, " "))
	sum.Write(b[8+n:])
	out := bytes.Clone(b)
	hex.Encode(out[8+i+len(key):], sum.Sum(nil))
	return out
}

func TestFixChecksum(t *testing.T) {
	c := trained(t, tinySpec(), 3)
	b := reencode(t, c, func(m map[string]string) { m[keyKind] = KindPinned })
	broken := bytes.Replace(b, []byte(KindPinned), []byte(KindAutosave[:len(KindPinned)]), 1)
	if Verify(broken) == nil {
		t.Fatal("edit kept the checksum valid")
	}
	if err := Verify(fixChecksum(broken)); err != nil {
		t.Fatalf("fixChecksum did not repair it: %v", err)
	}
}

// TestSeeds keeps the committed corpus in the `go test fuzz v1` format and
// checks that the committed version 1 checkpoints still decode and
// re-encode to the same bytes. -update-seeds rewrites it.
func TestSeeds(t *testing.T) {
	for name, b := range seeds(t) {
		path := filepath.Join(seedDir, name)
		if *updateSeeds {
			if err := os.MkdirAll(seedDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		committed, err := readSeed(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "valid-") {
			continue
		}
		c, err := Decode(committed)
		if err != nil {
			t.Fatalf("committed checkpoint %s no longer decodes: %v", name, err)
		}
		if re := encode(t, c); !bytes.Equal(re, committed) {
			t.Errorf("committed checkpoint %s re-encodes differently", name)
		}
		if _, err := engine.Restore(c.State); err != nil {
			t.Errorf("committed checkpoint %s no longer restores: %v", name, err)
		}
	}
}

// readSeed reads a one-value []byte corpus file.
func readSeed(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil, fmt.Errorf("%s: not a one-value fuzz corpus file", path)
	}
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	if lit, ok = strings.CutSuffix(lit, ")"); !ok {
		return nil, fmt.Errorf("%s: want a []byte value", path)
	}
	s, err := strconv.Unquote(lit)
	return []byte(s), err
}
