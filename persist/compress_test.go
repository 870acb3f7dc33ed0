package persist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"playground/spec"
	"playground/spec/spectest"
)

// The measurements behind the README's "Compression" table: what gzip,
// zstd and zstd over byte-shuffled floats would save on real checkpoints,
// and at what speed, natively and on wasm:
//
//	go test -run '^$' -bench Compression ./persist
//	PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm go test -run '^$' -bench Compression ./persist

// codec is one way to pack a checkpoint file for storage or transfer.
type codec struct {
	name   string
	pack   func(b []byte) []byte
	unpack func(b []byte) ([]byte, error)
}

func codecs(tb testing.TB) []codec {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	// The fastest level: on shuffled planes the better ones save at most
	// 0.6 points more.
	fast, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		tb.Fatal(err)
	}
	zpack := func(b []byte) []byte { return enc.EncodeAll(b, nil) }
	zunpack := func(b []byte) ([]byte, error) { return dec.DecodeAll(b, nil) }
	return []codec{
		{"none", bytes.Clone, func(b []byte) ([]byte, error) { return bytes.Clone(b), nil }},
		{"gzip", func(b []byte) []byte {
			var out bytes.Buffer
			w := gzip.NewWriter(&out) // level 6, as HTTP servers use
			w.Write(b)
			w.Close()
			return out.Bytes()
		}, func(b []byte) ([]byte, error) {
			r, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		}},
		{"zstd", zpack, zunpack},
		{"zstd-shuffle", func(b []byte) []byte { return fast.EncodeAll(shuffle(b, false), nil) }, func(b []byte) ([]byte, error) {
			u, err := zunpack(b)
			if err != nil {
				return nil, err
			}
			return shuffle(u, true), nil
		}},
	}
}

// shuffle splits the data section of checkpoint file b into 4 byte planes
// (byte 0 of every float32, then byte 1, ...), so the exponents and high
// mantissa bytes sit together; the header and any tail stay as they are.
// unshuffle (inverse) puts them back.
func shuffle(b []byte, inverse bool) []byte {
	out := bytes.Clone(b)
	start := 8 + int(binary.LittleEndian.Uint64(b))
	n := (len(b) - start) / 4
	src, dst := b[start:], out[start:]
	for i := range n {
		for k := range 4 {
			if inverse {
				dst[4*i+k] = src[k*n+i]
			} else {
				dst[k*n+i] = src[4*i+k]
			}
		}
	}
	return out
}

// compressionFiles are real checkpoints: two golden ones (spiral-adam, a
// 2-D preset, and digits, both with Adam state, step 230) and, if w2, the
// W2 state (digits widened to 784-256-128-10, Adam, 200 steps).
func compressionFiles(tb testing.TB, w2 bool) []struct {
	name string
	b    []byte
} {
	var out []struct {
		name string
		b    []byte
	}
	for _, p := range []string{"spiral-adam", "digits"} {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", "format1-engine0.1.0", p+".safetensors"))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, struct {
			name string
			b    []byte
		}{p, b})
	}
	if !w2 {
		return out
	}
	ws := spectest.Preset(tb, "digits")
	ws.Model.Layers = []spec.LayerSpec{{Units: 256, Activation: "relu"}, {Units: 128, Activation: "relu"}, {Units: 10, Activation: "softmax"}}
	return append(out, struct {
		name string
		b    []byte
	}{"W2", encode(tb, trained(tb, ws, 200))})
}

func TestCompressionRoundTrip(t *testing.T) {
	files := compressionFiles(t, !testing.Short()) // W2's 200 steps take seconds on wasm
	for _, c := range codecs(t) {
		for _, f := range files {
			p := c.pack(f.b)
			u, err := c.unpack(p)
			if err != nil || !bytes.Equal(u, f.b) {
				t.Fatalf("%s of %s: round trip differs (%v)", c.name, f.name, err)
			}
			if err := Verify(u); err != nil {
				t.Fatalf("%s of %s: %v", c.name, f.name, err)
			}
			t.Logf("%-12s %-11s %8d -> %8d bytes (%.1f%% saved)", f.name, c.name, len(f.b), len(p), 100*(1-float64(len(p))/float64(len(f.b))))
		}
	}
	if s := shuffle([]byte{4, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c', 'd', 1, 2, 3, 4, 5, 6, 7, 8, 9}, false); !bytes.Equal(s[12:], []byte{1, 5, 2, 6, 3, 7, 4, 8, 9}) {
		t.Errorf("shuffle gave % x", s[12:])
	}
}

// BenchmarkCompression reports each codec's speed in MB/s of the
// checkpoint file (pack, unpack) and "saved%" of its size.
func BenchmarkCompression(b *testing.B) {
	files := compressionFiles(b, true)
	for _, f := range files {
		for _, c := range codecs(b) {
			p := c.pack(f.b)
			saved := 100 * (1 - float64(len(p))/float64(len(f.b)))
			b.Run(fmt.Sprintf("%s/%s/pack", f.name, c.name), func(b *testing.B) {
				b.SetBytes(int64(len(f.b)))
				for b.Loop() {
					c.pack(f.b)
				}
				b.ReportMetric(saved, "saved%")
			})
			b.Run(fmt.Sprintf("%s/%s/unpack", f.name, c.name), func(b *testing.B) {
				b.SetBytes(int64(len(f.b)))
				for b.Loop() {
					if _, err := c.unpack(p); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(saved, "saved%")
			})
		}
	}
}
