package persist

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"playground/engine"
	"playground/engine/enginetest"
	"playground/spec"
	"playground/spec/spectest"
)

// tinySpec is a network small enough that every bit of its checkpoint can
// be flipped in a test: gauss, one hidden layer of 2 units, plain sgd.
func tinySpec() spec.Spec {
	return spec.Spec{
		Name:      "tiny",
		Seed:      42,
		Dataset:   spec.DatasetSpec{Kind: "gauss", Samples: 40, Noise: 0.1, TestRatio: 0.25},
		Model:     spec.ModelSpec{Layers: []spec.LayerSpec{{Units: 2, Activation: "tanh"}, {Units: 1, Activation: "sigmoid"}}},
		Optimizer: spec.OptimizerSpec{Kind: "sgd", LR: 0.1},
		BatchSize: 5,
	}
}

// trained returns a checkpoint of spec after steps updates, with fixed
// metadata so its bytes are reproducible.
func trained(tb testing.TB, sp spec.Spec, steps int) *Checkpoint {
	tb.Helper()
	tr := enginetest.Trained(tb, sp, steps)
	return &Checkpoint{
		Meta: Meta{
			RunID:         "test-run-0badc0de",
			ID:            fmt.Sprintf("%012d-0badc0de", tr.Step),
			Parent:        "000000000000-00c0ffee",
			ParentRun:     "other-run",
			Created:       time.Date(2025, 6, 7, 8, 9, 10, 123456789, time.UTC),
			EngineVersion: engine.Version,
			Kind:          KindAutosave,
		},
		State: tr.State(),
	}
}

func encode(tb testing.TB, c *Checkpoint) []byte {
	tb.Helper()
	b, err := Encode(c)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// reencode writes c with its metadata edited and a valid checksum, as a
// buggy or future writer would.
func reencode(tb testing.TB, c *Checkpoint, edit func(map[string]string)) []byte {
	tb.Helper()
	meta, _, err := metadataOf(c)
	if err != nil {
		tb.Fatal(err)
	}
	edit(meta)
	b, err := encodeFile(meta, c.State.Tensors)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// encodeFile writes tensors under meta (which must lack the checksum; it
// is added). It checks only what it needs to write a well-formed file.
func encodeFile(meta map[string]string, tensors []engine.StateTensor) ([]byte, error) {
	p, err := prepareFile(meta, tensors)
	if err != nil {
		return nil, err
	}
	sum, _ := sum256(p.Header(), p.Data())
	return p.Seal(sum)
}

// rawFile builds a safetensors file from a header and data as given.
func rawFile(header string, data []byte) []byte {
	header += strings.Repeat(" ", padding(len(header)))
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func sameState(t *testing.T, got, want engine.State) {
	t.Helper()
	if !reflect.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("spec = %+v, want %+v", got.Spec, want.Spec)
	}
	if got.Step != want.Step || got.Epoch != want.Epoch || got.Batch != want.Batch || !bytes.Equal(got.RNG, want.RNG) {
		t.Errorf("position = %d/%d/%d rng %x, want %d/%d/%d rng %x",
			got.Step, got.Epoch, got.Batch, got.RNG, want.Step, want.Epoch, want.Batch, want.RNG)
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for i, g := range got.Tensors {
		w := want.Tensors[i]
		if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) || (g.I64 == nil) != (w.I64 == nil) {
			t.Errorf("tensor %d = %s %v, want %s %v", i, g.Name, g.Shape, w.Name, w.Shape)
		}
		if !slices.Equal(g.I64, w.I64) || !slices.EqualFunc(g.F32, w.F32, func(a, b float32) bool {
			return math.Float32bits(a) == math.Float32bits(b)
		}) {
			t.Errorf("tensor %s data differs", g.Name)
		}
	}
}

func sameMeta(t *testing.T, got, want Meta) {
	t.Helper()
	if !got.Created.Equal(want.Created) || got.Created.Location() != time.UTC {
		t.Errorf("created = %v, want %v in UTC", got.Created, want.Created)
	}
	got.Created, want.Created = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("meta = %+v, want %+v", got, want)
	}
}

func TestRoundTripPresets(t *testing.T) {
	spectest.EachPreset(t, func(t *testing.T, s spec.Spec) {
		c := trained(t, s, 5)
		b := encode(t, c)
		if (8+binary.LittleEndian.Uint64(b))%8 != 0 {
			t.Errorf("data section is not 8-aligned")
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		sameMeta(t, d.Meta, c.Meta)
		sameState(t, d.State, c.State)
		if got := Fingerprint(d.State); got != Fingerprint(c.State) {
			t.Errorf("fingerprint changed: %s", got)
		}
		if again := encode(t, d); !bytes.Equal(again, b) {
			t.Errorf("decoded checkpoint re-encodes to different bytes")
		}

		// The decoded state resumes exactly where the original is.
		orig, err := engine.Restore(c.State)
		if err != nil {
			t.Fatal(err)
		}
		resumed, err := engine.Restore(d.State)
		if err != nil {
			t.Fatalf("restore decoded state: %v", err)
		}
		for range 3 {
			if a, b := orig.TrainStep(), resumed.TrainStep(); math.Float32bits(a) != math.Float32bits(b) {
				t.Fatalf("resumed loss %v, original %v", b, a)
			}
		}
		if Fingerprint(orig.State()) != Fingerprint(resumed.State()) {
			t.Errorf("resumed training diverged")
		}
	})
}

func TestEveryBitFlipAndCut(t *testing.T) {
	b := encode(t, trained(t, tinySpec(), 3))
	if len(b) > 4096 {
		t.Fatalf("tiny checkpoint is %d bytes", len(b))
	}
	t.Logf("tiny checkpoint: %d bytes", len(b))
	version := bytes.Index(b, []byte(`"format_version":"1"`)) + len(`"format_version":"`)
	kinds := map[error]int{}
	for bit := range 8 * len(b) {
		m := bytes.Clone(b)
		m[bit/8] ^= 1 << (bit % 8)
		err := Verify(m)
		if err == nil {
			t.Fatalf("flip of bit %d (byte %d) went undetected", bit%8, bit/8)
		}
		// Past the length, damage reads as damage, not as a foreign file
		// (only the version digit itself can claim a newer version).
		if bit/8 >= 8 && !errors.Is(err, ErrCorrupt) && !(bit/8 == version && errors.Is(err, ErrVersion)) {
			t.Errorf("flip of bit %d (byte %d): %v, want ErrCorrupt", bit%8, bit/8, err)
		}
		for _, k := range []error{ErrTruncated, ErrCorrupt, ErrVersion, ErrNotCheckpoint, ErrIncompatible} {
			if errors.Is(err, k) {
				kinds[k]++
			}
		}
	}
	t.Logf("flips reported as: %v", kinds)
	for n := range len(b) {
		if err := Verify(b[:n]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v, want ErrTruncated", n, err)
		}
	}
}

func TestRandomBitFlipsLarge(t *testing.T) {
	sp := spectest.Preset(t, "digits")
	b := encode(t, trained(t, sp, 2))
	r := rand.New(rand.NewPCG(1, 2))
	flips := 3000
	if testing.Short() {
		flips = 300
	}
	for range flips {
		bit := r.IntN(8 * len(b))
		b[bit/8] ^= 1 << (bit % 8)
		if Verify(b) == nil {
			t.Fatalf("flip of bit %d (byte %d of %d) went undetected", bit%8, bit/8, len(b))
		}
		b[bit/8] ^= 1 << (bit % 8)
	}
	for range 50 {
		n := r.IntN(len(b))
		if err := Verify(b[:n]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v, want ErrTruncated", n, err)
		}
	}
	if err := Verify(b); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeErrors(t *testing.T) {
	c := trained(t, tinySpec(), 3)
	good := encode(t, c)
	hdr := 8 + int(binary.LittleEndian.Uint64(good))

	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x10
		return b
	}
	mismatch := c.State.Spec
	mismatch.Model.Layers = slices.Clone(mismatch.Model.Layers)
	mismatch.Model.Layers[0].Units = 3
	mismatchJSON := string(mismatch.JSON())
	f32 := binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.5))

	tests := []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrTruncated, "file has 0 bytes"},
		{"cut in length", good[:5], ErrTruncated, "at least 8"},
		{"cut in header", good[:hdr-3], ErrTruncated, fmt.Sprintf("header claims %d bytes, file has %d", hdr-8, hdr-11)},
		{"cut in data", good[:len(good)-1], ErrTruncated, fmt.Sprintf("data section has %d bytes, header describes %d", len(good)-hdr-1, len(good)-hdr)},
		{"trailing bytes", append(bytes.Clone(good), 0, 0), ErrCorrupt, "2 trailing bytes"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<40), good[8:]...), ErrCorrupt, "exceeds"},
		{"flipped data byte", flip(len(good) - 10), ErrCorrupt, "checksum mismatch: file says"},
		{"flipped header value", flip(bytes.Index(good, []byte(`"step":"3"`)) + 8), ErrCorrupt, "checksum mismatch"},
		{"flipped padding", flip(hdr - 1), ErrCorrupt, "after top-level value"},
		{"extra padding", rawFile(strings.TrimRight(string(good[8:hdr]), " ")+strings.Repeat(" ", 8), good[hdr:]), ErrCorrupt, "padding"},
		{"huge spec", reencode(t, c, func(m map[string]string) {
			m[keySpec] = strings.Replace(m[keySpec], `"units":2`, `"units":4096`, 1)
		}), ErrIncompatible, "spec's model has 16385 parameters, the file holds 9 float32 values"},
		{"header not JSON", rawFile(`{"a":`, nil), ErrCorrupt, "not valid JSON"},
		{"version 2", reencode(t, c, func(m map[string]string) { m[keyFormatVersion] = "2" }), ErrVersion,
			"file has format version 2, this build reads 1"},
		{"version garbage", reencode(t, c, func(m map[string]string) { m[keyFormatVersion] = "01" }), ErrCorrupt, "format_version"},
		{"plain safetensors", rawFile(`{"weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32), ErrNotCheckpoint, "no __metadata__"},
		{"other metadata", rawFile(`{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32),
			ErrNotCheckpoint, `format is "pt"`},
		{"no format", rawFile(`{"__metadata__":{"author":"me"},"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, f32),
			ErrNotCheckpoint, "no format"},
		{"json array", rawFile(`[1,2]`, nil), ErrNotCheckpoint, "not a JSON object"},
		{"spec mismatch", reencode(t, c, func(m map[string]string) { m[keySpec] = mismatchJSON }), ErrIncompatible,
			"layers.0.weight has shape [2 2], spec expects [3 2]"},
		{"spec invalid", reencode(t, c, func(m map[string]string) { m[keySpec] = `{"seed":1}` }), spec.ErrSpec, "spec: invalid spec"},
		{"spec not normalized", reencode(t, c, func(m map[string]string) {
			m[keySpec] = strings.Replace(m[keySpec], `"schedule":{"kind":"constant"}`, `"schedule":{"kind":""}`, 1)
		}), ErrCorrupt, "normalized"},
		{"unknown key", reencode(t, c, func(m map[string]string) { m["note"] = "hi" }), ErrCorrupt, `unknown __metadata__ key "note"`},
		{"missing key", reencode(t, c, func(m map[string]string) { delete(m, keyKind) }), ErrCorrupt, "lacks kind"},
		{"bad run id", reencode(t, c, func(m map[string]string) { m[keyRunID] = "../etc" }), ErrBadID, "run_id"},
		{"step with leading zero", reencode(t, c, func(m map[string]string) { m[keyStep] = "03" }), ErrCorrupt, "step"},
		{"created not UTC", reencode(t, c, func(m map[string]string) { m[keyCreated] = "2025-06-07T10:09:10+02:00" }), ErrCorrupt, "created"},
		{"rng uppercase", reencode(t, c, func(m map[string]string) { m[keyRNG] = strings.ToUpper(m[keyRNG]) }), ErrCorrupt, "rng"},
		{"whitespace in header", respace(good), ErrCorrupt, "not canonical"},
		{"escaped letter", rewriteHeader(good, `"kind":"autosave"`, `"kind":"\u0061utosave"`), ErrCorrupt, "not canonical"},
		{"duplicate key", rewriteHeader(good, `"kind":"autosave"`, `"kind":"autosave","kind":"autosave"`), ErrCorrupt, "appears twice"},
		{"bad dtype", rewriteHeader(good, `"dtype":"I64"`, `"dtype":"U64"`), ErrCorrupt, `"optimizer.step" has dtype "U64"`},
		{"bad offsets", rewriteHeader(good, `"data_offsets":[0,16]`, `"data_offsets":[0,12]`), ErrCorrupt, `"layers.0.weight" has 12 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.msg)
			}
			if Verify(tt.b) == nil {
				t.Errorf("Verify accepts it")
			}
		})
	}
}

// rewriteHeader replaces old by new in the header of a valid file, keeping
// the file well-framed (length and padding) but not fixing the checksum.
func rewriteHeader(b []byte, old, new string) []byte {
	n := 8 + int(binary.LittleEndian.Uint64(b))
	h := strings.TrimRight(string(b[8:n]), " ")
	if !strings.Contains(h, old) {
		panic("rewriteHeader: no " + old)
	}
	return rawFile(strings.Replace(h, old, new, 1), b[n:])
}

func respace(b []byte) []byte {
	n := 8 + int(binary.LittleEndian.Uint64(b))
	return rawFile(strings.Replace(strings.TrimRight(string(b[8:n]), " "), `":`, `": `, 1), b[n:])
}

func TestFingerprint(t *testing.T) {
	c := trained(t, tinySpec(), 3)
	fp := Fingerprint(c.State)

	// Independent: every tensor's values through encoding/binary.
	var buf bytes.Buffer
	for _, tn := range c.State.Tensors {
		if tn.I64 != nil {
			binary.Write(&buf, binary.LittleEndian, tn.I64)
		} else {
			binary.Write(&buf, binary.LittleEndian, tn.F32)
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	if want := hex.EncodeToString(sum[:]); fp != want {
		t.Errorf("Fingerprint = %s, independent %s", fp, want)
	}
	// It is the hash of the file's data section.
	b := encode(t, c)
	sum = sha256.Sum256(b[8+binary.LittleEndian.Uint64(b):])
	if want := hex.EncodeToString(sum[:]); fp != want {
		t.Errorf("Fingerprint = %s, data section hashes to %s", fp, want)
	}
	if again := Fingerprint(trained(t, tinySpec(), 3).State); again != fp {
		t.Errorf("equal states fingerprint differently")
	}

	for i, tn := range c.State.Tensors {
		bits := 32 * len(tn.F32)
		if tn.I64 != nil {
			bits = 64 * len(tn.I64)
		}
		for bit := range bits {
			s := c.State
			s.Tensors = slices.Clone(s.Tensors)
			s.Tensors[i].F32, s.Tensors[i].I64 = slices.Clone(tn.F32), slices.Clone(tn.I64)
			if tn.I64 != nil {
				s.Tensors[i].I64[bit/64] ^= 1 << (bit % 64)
			} else {
				v := &s.Tensors[i].F32[bit/32]
				*v = math.Float32frombits(math.Float32bits(*v) ^ 1<<(bit%32))
			}
			if Fingerprint(s) == fp {
				t.Fatalf("flip of bit %d of %s leaves the fingerprint", bit, tn.Name)
			}
		}
	}
	if Fingerprint(engine.State{}) != hex.EncodeToString(sha256.New().Sum(nil)) {
		t.Errorf("empty state should hash nothing")
	}
}

func TestReadHeader(t *testing.T) {
	c := trained(t, tinySpec(), 7)
	b := encode(t, c)
	r := bytes.NewReader(b)
	info, err := ReadHeader(r)
	if err != nil {
		t.Fatal(err)
	}
	sameMeta(t, info.Meta, c.Meta)
	s := c.State
	if info.Step != s.Step || info.Epoch != s.Epoch || info.Batch != s.Batch || !reflect.DeepEqual(info.Spec, s.Spec) {
		t.Errorf("info = %+v, want step %d epoch %d batch %d", info, s.Step, s.Epoch, s.Batch)
	}
	if info.HeaderSize%8 != 0 || int64(info.HeaderSize)+info.DataSize != int64(len(b)) {
		t.Errorf("header %d + data %d bytes, file has %d", info.HeaderSize, info.DataSize, len(b))
	}
	if r.Len() != int(info.DataSize) {
		t.Errorf("ReadHeader read %d bytes past the header", int(info.DataSize)-r.Len())
	}
	if !strings.HasPrefix(info.Checksum, "sha256:") || !strings.Contains(string(b[:info.HeaderSize]), info.Checksum) {
		t.Errorf("checksum %q", info.Checksum)
	}

	// A damaged data section is not ReadHeader's business.
	bad := bytes.Clone(b)
	bad[len(bad)-1] ^= 1
	if _, err := ReadHeader(bytes.NewReader(bad[:len(bad)-3])); err != nil {
		t.Errorf("ReadHeader of a file with damaged data: %v", err)
	}

	big := binary.LittleEndian.AppendUint64(nil, 16<<20+1)
	readFail := errors.New("disk on fire")
	for _, tt := range []struct {
		name string
		r    io.Reader
		want error
	}{
		{"empty", bytes.NewReader(nil), ErrTruncated},
		{"short length", bytes.NewReader(b[:3]), ErrTruncated},
		{"short header", bytes.NewReader(b[:info.HeaderSize-1]), ErrTruncated},
		{"too large", bytes.NewReader(big), ErrCorrupt},
		{"garbage", bytes.NewReader([]byte("\x10\x00\x00\x00\x00\x00\x00\x00garbage garbage!")), ErrCorrupt},
		{"broken header", bytes.NewReader(breakByte(b, bytes.Index(b, []byte("autosave")))), ErrCorrupt},
		{"plain safetensors", bytes.NewReader(rawFile(`{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4))), ErrNotCheckpoint},
		{"version 2", bytes.NewReader(reencode(t, c, func(m map[string]string) { m[keyFormatVersion] = "2" })), ErrVersion},
		{"read error", io.MultiReader(bytes.NewReader(b[:20]), iotest.ErrReader(readFail)), readFail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ReadHeader(tt.r); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// breakByte returns b with a quote at byte i: broken JSON, which ReadHeader
// catches without the checksum.
func breakByte(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] = '"'
	return b
}

func TestEncodeRejects(t *testing.T) {
	nanMomentum := tinySpec()
	nanMomentum.Optimizer.Momentum = math.NaN()
	tests := []struct {
		name string
		edit func(c *Checkpoint)
		want string
	}{
		{"bad run id", func(c *Checkpoint) { c.RunID = "Run/1" }, "run_id"},
		{"empty id", func(c *Checkpoint) { c.ID = "" }, "checkpoint_id"},
		{"bad parent", func(c *Checkpoint) { c.Parent = "-x" }, "parent_id"},
		{"invalid spec", func(c *Checkpoint) { c.State.Spec.BatchSize = -1 }, "batch size"},
		{"nan in spec", func(c *Checkpoint) { c.State.Spec = nanMomentum }, "NaN"},
		{"negative epoch", func(c *Checkpoint) { c.State.Epoch = -1 }, "negative"},
		{"wrong layout", func(c *Checkpoint) { c.State.Tensors = c.State.Tensors[1:] }, "spec expects layers.0.weight"},
		{"short tensor", func(c *Checkpoint) { c.State.Tensors[0].F32 = c.State.Tensors[0].F32[1:] }, "wrong number of values"},
		{"bad kind", func(c *Checkpoint) { c.Kind = "\xff" }, "UTF-8"},
		{"year 10000", func(c *Checkpoint) { c.Created = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "created"},
		{"nil", nil, "nil checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *Checkpoint
			if tt.edit != nil {
				c = trained(t, tinySpec(), 1)
				tt.edit(c)
			}
			_, err := Encode(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}

	// A spec Normalize would change is stored normalized.
	c := trained(t, tinySpec(), 1)
	c.State.Spec.Schedule.Kind = ""
	d, err := Decode(encode(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if d.State.Spec.Schedule.Kind != "constant" {
		t.Errorf("schedule kind %q, want constant", d.State.Spec.Schedule.Kind)
	}
}

func TestIDs(t *testing.T) {
	var prev string
	for _, step := range []uint64{0, 1, 9, 10, 12345, 999_999_999_999} {
		id := NewID(step)
		if !ValidID(id) {
			t.Errorf("NewID(%d) = %q is not a valid id", step, id)
		}
		if got, ok := StepOfID(id); !ok || got != step {
			t.Errorf("StepOfID(%q) = %d, %v", id, got, ok)
		}
		if id <= prev {
			t.Errorf("NewID(%d) = %q sorts before %q", step, id, prev)
		}
		prev = id
	}
	if got, ok := StepOfID(NewID(math.MaxUint64)); !ok || got != math.MaxUint64 {
		t.Errorf("StepOfID of max step = %d, %v", got, ok)
	}
	if NewID(5) == NewID(5) {
		t.Errorf("NewID repeats")
	}
	for _, id := range []string{"", "12-abcdef01", "000000000012-abcdef0", "000000000012-ABCDEF01", "0000000000012-abcdef01",
		"+00000000012-abcdef01", "000000000012_abcdef01", "run-abcdef01", "000000000012-abcdef01-x"} {
		if step, ok := StepOfID(id); ok {
			t.Errorf("StepOfID(%q) = %d, true", id, step)
		}
	}

	for _, tt := range []struct{ name, prefix string }{
		{"", "run"},
		{"Spiral Adam", "spiral-adam"},
		{"circle-sgd", "circle-sgd"},
		{"../../etc/passwd", "etc-passwd"},
		{"  ---  ", "run"},
		{"Ünïcode ✓ run_2", "n-code-run-2"},
		{strings.Repeat("ab", 30), strings.Repeat("ab", 20)},
		{strings.Repeat("a", 39) + "-bc", strings.Repeat("a", 39)},
	} {
		id := NewRunID(tt.name)
		prefix, suffix, _ := strings.Cut(id[len(id)-9:], "-")
		if !ValidID(id) || id[:len(id)-9] != tt.prefix || prefix != "" || len(suffix) != 8 {
			t.Errorf("NewRunID(%q) = %q, want %s-<8 hex>", tt.name, id, tt.prefix)
		}
	}
}

// benchCheckpoint is a ~705k-float state: digits, 784-256-128-10 with Adam.
func benchCheckpoint(b *testing.B) *Checkpoint {
	sp := spectest.Preset(b, "digits")
	sp.Model.Layers = []spec.LayerSpec{{Units: 256, Activation: "relu"}, {Units: 128, Activation: "relu"}, {Units: 10, Activation: "softmax"}}
	c := trained(b, sp, 1)
	n := 0
	for _, t := range c.State.Tensors {
		n += len(t.F32)
	}
	if n != 705438 {
		b.Fatalf("state has %d floats, want 705438", n)
	}
	return c
}

// benchEncoded runs op in a loop on the encoded benchCheckpoint,
// counting its bytes.
func benchEncoded(b *testing.B, op func(buf []byte) error) {
	buf := encode(b, benchCheckpoint(b))
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := op(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	c := benchCheckpoint(b)
	benchEncoded(b, func([]byte) error {
		_, err := Encode(c)
		return err
	})
}

func BenchmarkDecode(b *testing.B) {
	benchEncoded(b, func(buf []byte) error {
		_, err := Decode(buf)
		return err
	})
}

func BenchmarkVerify(b *testing.B) { benchEncoded(b, Verify) }

func BenchmarkFingerprint(b *testing.B) {
	c := benchCheckpoint(b)
	n := 0
	for _, t := range c.State.Tensors {
		n += 4*len(t.F32) + 8*len(t.I64)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		Fingerprint(c.State)
	}
}
