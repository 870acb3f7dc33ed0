package persist

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"playground/engine"
	"playground/spec"
)

// The file is a .safetensors file: an 8-byte little-endian header length N,
// N bytes of JSON header padded with spaces so the data starts 8-aligned,
// then the tensors' bytes back to back in state order. The header is
// written canonically (no whitespace, sorted metadata keys, tensors in data
// order, encoding/json string escapes) and Decode requires exactly that
// encoding, so every byte of the header is either covered by the checksum
// (SHA-256 of the canonical header without its checksum key, then the data
// section) or checked for its one allowed value.

const (
	maxHeader     = 100 << 20 // largest header Decode reads
	maxReadHeader = 16 << 20  // largest header ReadHeader reads
	maxRank       = 8         // engine tensors have rank 0 to 2
	maxDim        = math.MaxInt32
	layoutSlack   = 64 << 10 // bytes CheckLayout may allocate beyond 2× the file
	checksumAlgo  = "sha256:"
)

// __metadata__ keys, all written in every checkpoint.
const (
	keyBatch         = "batch"
	keyCheckpointID  = "checkpoint_id"
	keyChecksum      = "checksum"
	keyCreated       = "created"
	keyEngineVersion = "engine_version"
	keyEpoch         = "epoch"
	keyFormat        = "format"
	keyFormatVersion = "format_version"
	keyKind          = "kind"
	keyParentID      = "parent_id"
	keyParentRun     = "parent_run"
	keyRNG           = "rng"
	keyRunID         = "run_id"
	keySpec          = "spec"
	keyStep          = "step"
)

var metaKeys = []string{
	keyBatch, keyCheckpointID, keyChecksum, keyCreated, keyEngineVersion, keyEpoch,
	keyFormat, keyFormatVersion, keyKind, keyParentID, keyParentRun, keyRNG, keyRunID,
	keySpec, keyStep,
}

// Tensor dtypes (dtypeSize gives their sizes).
const (
	dtypeF32 = "F32"
	dtypeI64 = "I64"
)

// Info is what a checkpoint's header says, read without its data.
type Info struct {
	Meta
	Step       uint64
	Epoch      int
	Batch      int
	Checksum   string // as the file states it: "sha256:" + hex, not verified
	Spec       spec.Spec
	HeaderSize int   // bytes before the data section: 8 + the padded JSON header
	DataSize   int64 // bytes of tensor data the header describes
}

// entry is one tensor as the header describes it.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end uint64
}

// header is a parsed, canonical header.
type header struct {
	meta    map[string]string
	entries []entry
	size    int // 8 + N
}

// Encode writes c as a .safetensors file.
func Encode(c *Checkpoint) ([]byte, error) { return EncodeWith(c, sum256) }

// sum256 is the SHA-256 of header then data, in EncodeWith's form (it
// never fails).
func sum256(header, data []byte) ([]byte, error) {
	h := sha256.New()
	h.Write(header)
	h.Write(data)
	return h.Sum(nil), nil
}

// metadataOf returns c's __metadata__ (without the checksum) after
// checking that Decode will accept it, and the normalized spec.
func metadataOf(c *Checkpoint) (map[string]string, spec.Spec, error) {
	s := &c.State
	// Normalizing through JSON stores exactly the spec Decode returns.
	js, err := json.Marshal(s.Spec)
	if err != nil {
		return nil, spec.Spec{}, fmt.Errorf("spec: %w", err)
	}
	sp, err := spec.ParseSpec(js)
	if err != nil {
		return nil, spec.Spec{}, fmt.Errorf("spec: %w", err)
	}
	if js, err = json.Marshal(sp); err != nil {
		return nil, spec.Spec{}, fmt.Errorf("spec: %w", err)
	}
	if s.Epoch < 0 || s.Batch < 0 {
		return nil, spec.Spec{}, fmt.Errorf("negative position epoch %d batch %d", s.Epoch, s.Batch)
	}
	for _, kv := range [][2]string{{"engine version", c.EngineVersion}, {"kind", c.Kind}} {
		if !utf8.ValidString(kv[1]) {
			return nil, spec.Spec{}, fmt.Errorf("%s %s is not valid UTF-8", kv[0], quote(kv[1]))
		}
	}
	meta := map[string]string{
		keyBatch:         strconv.Itoa(s.Batch),
		keyCheckpointID:  c.ID,
		keyCreated:       c.Created.UTC().Format(time.RFC3339Nano),
		keyEngineVersion: c.EngineVersion,
		keyEpoch:         strconv.Itoa(s.Epoch),
		keyFormat:        FormatName,
		keyFormatVersion: strconv.Itoa(FormatVersion),
		keyKind:          c.Kind,
		keyParentID:      c.Parent,
		keyParentRun:     c.ParentRun,
		keyRNG:           hex.EncodeToString(s.RNG),
		keyRunID:         c.RunID,
		keySpec:          string(js),
		keyStep:          strconv.FormatUint(s.Step, 10),
	}
	// The same checks Decode applies, so whatever Encode writes decodes.
	meta[keyChecksum] = placeholderSum
	f, err := parseFields(meta)
	delete(meta, keyChecksum)
	if err != nil {
		return nil, spec.Spec{}, err
	}
	if !f.Created.Equal(c.Created) {
		return nil, spec.Spec{}, fmt.Errorf("created time %v cannot be stored", c.Created)
	}
	return meta, f.spec, nil
}

var placeholderSum = checksumAlgo + strings.Repeat("0", 2*sha256.Size)

// Decode parses and fully verifies a checkpoint (checksum, layout vs the
// spec it carries). Never panics on any input.
func Decode(b []byte) (*Checkpoint, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: file has %d bytes, a checkpoint needs at least 8", ErrTruncated, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader {
		return nil, fmt.Errorf("%w: header length %d exceeds %d", ErrCorrupt, n, maxHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("%w: header claims %d bytes, file has %d", ErrTruncated, n, len(b)-8)
	}
	h, err := parseHeader(b[8 : 8+n])
	if err != nil {
		return nil, err
	}
	data := b[h.size:]
	want := h.dataSize()
	if uint64(len(data)) < want {
		return nil, fmt.Errorf("%w: data section has %d bytes, header describes %d", ErrTruncated, len(data), want)
	}
	if uint64(len(data)) > want {
		return nil, fmt.Errorf("%w: %d trailing bytes after the last tensor", ErrCorrupt, uint64(len(data))-want)
	}
	if sum := checksum(appendHeader(nil, h.meta, keyChecksum, h.entries), data); sum != h.meta[keyChecksum] {
		return nil, fmt.Errorf("%w: checksum mismatch: file says %s, content hashes to %s", ErrCorrupt, quote(h.meta[keyChecksum]), sum)
	}
	f, err := parseFields(h.meta)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}

	// CheckLayout builds the spec's model (params and grads, 8 bytes per
	// parameter): refuse one much larger than the file before it allocates.
	var floats uint64
	for _, e := range h.entries {
		if e.dtype == dtypeF32 {
			floats += (e.end - e.begin) / 4
		}
	}
	if p := paramCount(f.spec); p > floats && 8*p > 2*uint64(len(b))+layoutSlack {
		return nil, fmt.Errorf("%w: spec's model has %d parameters, the file holds %d float32 values", ErrIncompatible, p, floats)
	}
	tensors := make([]engine.StateTensor, len(h.entries))
	for i, e := range h.entries {
		t := engine.StateTensor{Name: e.name, Shape: e.shape}
		src := data[e.begin:e.end]
		if e.dtype == dtypeI64 {
			t.I64 = make([]int64, len(src)/8)
			getI64(t.I64, src)
		} else {
			t.F32 = make([]float32, len(src)/4)
			getF32(t.F32, src)
		}
		tensors[i] = t
	}
	if err := engine.CheckLayout(f.spec, tensors); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", f.ID, err)
	}
	return &Checkpoint{
		Meta: f.Meta,
		State: engine.State{
			Spec: f.spec, Step: f.step, Epoch: f.epoch, Batch: f.batch,
			RNG: f.rng, Tensors: tensors,
		},
	}, nil
}

// Verify is Decode without keeping the result (same errors).
func Verify(b []byte) error {
	_, err := Decode(b)
	return err
}

// ReadHeader reads only the 8-byte length and JSON header from r (refusing
// headers over 16 MiB) and returns what it says, WITHOUT verifying the data
// checksum or the tensors against the spec: for cheap listings.
func ReadHeader(r io.Reader) (Info, error) {
	var lb [8]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return Info{}, readErr(err, "length")
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > maxReadHeader {
		return Info{}, fmt.Errorf("%w: header length %d exceeds %d", ErrCorrupt, n, maxReadHeader)
	}
	// Grow with what arrives rather than trusting n up front.
	buf, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return Info{}, readErr(err, "header")
	}
	if uint64(len(buf)) < n {
		return Info{}, fmt.Errorf("%w: header claims %d bytes, file has %d", ErrTruncated, n, len(buf))
	}
	h, err := parseHeader(buf)
	if err != nil {
		return Info{}, err
	}
	f, err := parseFields(h.meta)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return Info{
		Meta: f.Meta, Step: f.step, Epoch: f.epoch, Batch: f.batch,
		Checksum: f.checksum, Spec: f.spec,
		HeaderSize: h.size, DataSize: int64(h.dataSize()),
	}, nil
}

func readErr(err error, what string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: file ends inside the header %s", ErrTruncated, what)
	}
	return fmt.Errorf("read checkpoint %s: %w", what, err)
}

// parseHeader checks the N header bytes: format and version first (so a
// foreign or newer file says so), then the exact canonical encoding, the
// metadata keys and the tensor layout within the data section.
func parseHeader(b []byte) (*header, error) {
	if err := checkFormat(b); err != nil {
		return nil, err
	}
	body := bytes.TrimRight(b, " ")
	if pad := len(b) - len(body); pad != padding(len(body)) {
		return nil, fmt.Errorf("%w: header has %d bytes of padding, alignment needs %d", ErrCorrupt, pad, padding(len(body)))
	}
	h, err := parseCanonical(body)
	if err != nil {
		return nil, fmt.Errorf("%w: header is not canonical: %v", ErrCorrupt, err)
	}
	if re := appendHeader(nil, h.meta, "", h.entries); !bytes.Equal(re, body) {
		i := 0
		for i < len(re) && i < len(body) && re[i] == body[i] {
			i++
		}
		return nil, fmt.Errorf("%w: header is not canonical: differs from its canonical encoding at byte %d", ErrCorrupt, 8+i)
	}
	for _, k := range metaKeys {
		if _, ok := h.meta[k]; !ok {
			return nil, fmt.Errorf("%w: __metadata__ lacks %s", ErrCorrupt, k)
		}
	}
	if len(h.meta) != len(metaKeys) {
		for k := range h.meta {
			if !slices.Contains(metaKeys, k) {
				return nil, fmt.Errorf("%w: unknown __metadata__ key %s", ErrCorrupt, quote(k))
			}
		}
	}
	var off uint64
	for _, e := range h.entries {
		what := func(format string, a ...any) error {
			return fmt.Errorf("%w: tensor %s %s", ErrCorrupt, quote(e.name), fmt.Sprintf(format, a...))
		}
		if e.dtype != dtypeF32 && e.dtype != dtypeI64 {
			return nil, what("has dtype %s (want F32 or I64)", quote(e.dtype))
		}
		elems, err := elemCount(e.shape)
		if err != nil {
			return nil, what("%v", err)
		}
		if e.begin != off {
			return nil, what("starts at byte %d of the data section, the previous one ends at %d", e.begin, off)
		}
		if e.end < e.begin {
			return nil, what("ends at byte %d, before its start %d", e.end, e.begin)
		}
		if e.end-e.begin != elems*dtypeSize(e.dtype) {
			return nil, what("has %d bytes, %s shape %v needs %d", e.end-e.begin, e.dtype, e.shape, elems*dtypeSize(e.dtype))
		}
		off = e.end
	}
	h.size = 8 + len(b)
	return h, nil
}

func (h *header) dataSize() uint64 {
	if len(h.entries) == 0 {
		return 0
	}
	return h.entries[len(h.entries)-1].end
}

// checkFormat reads the header leniently for the format name and version,
// so a foreign safetensors file is ErrNotCheckpoint and a newer one
// ErrVersion rather than ErrCorrupt.
func checkFormat(b []byte) error {
	err := checkFormatName(b)
	if errors.Is(err, ErrNotCheckpoint) && looksOurs(b) {
		// One damaged byte in "__metadata__", "format" or the name must
		// not pass for a foreign file.
		return fmt.Errorf("%w: damaged header: %s", ErrCorrupt, strings.TrimPrefix(err.Error(), ErrNotCheckpoint.Error()+": "))
	}
	return err
}

// looksOurs reports whether header b holds nearly all our metadata keys.
func looksOurs(b []byte) bool {
	n := 0
	for _, k := range metaKeys {
		if bytes.Contains(b, []byte(`"`+k+`":"`)) {
			n++
		}
	}
	return n >= len(metaKeys)-2
}

func checkFormatName(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		if !json.Valid(b) {
			return fmt.Errorf("%w: header is not valid JSON: %v", ErrCorrupt, err)
		}
		return fmt.Errorf("%w: header is not a JSON object", ErrNotCheckpoint)
	}
	raw, ok := top["__metadata__"]
	if !ok {
		return fmt.Errorf("%w: header has no __metadata__ (a plain safetensors file?)", ErrNotCheckpoint)
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(raw, &meta); err != nil {
		return fmt.Errorf("%w: __metadata__ is not an object", ErrNotCheckpoint)
	}
	var format, version string
	if raw, ok := meta[keyFormat]; !ok {
		return fmt.Errorf("%w: __metadata__ has no format (a plain safetensors file?)", ErrNotCheckpoint)
	} else if json.Unmarshal(raw, &format) != nil || format != FormatName {
		return fmt.Errorf("%w: format is %s, want %q", ErrNotCheckpoint, quote(strings.Trim(string(raw), `"`)), FormatName)
	}
	if raw, ok := meta[keyFormatVersion]; !ok {
		return fmt.Errorf("%w: __metadata__ has no format_version", ErrCorrupt)
	} else if json.Unmarshal(raw, &version) != nil {
		return fmt.Errorf("%w: format_version %s is not a string", ErrCorrupt, quote(string(raw)))
	}
	if version == strconv.Itoa(FormatVersion) {
		return nil
	}
	if v, ok := parseDecimal(version, math.MaxInt32); ok && v > FormatVersion {
		return fmt.Errorf("%w: file has format version %d, this build reads %d", ErrVersion, v, FormatVersion)
	}
	return fmt.Errorf("%w: format_version %s is not valid", ErrCorrupt, quote(version))
}

// parseCanonical parses a header that must be laid out exactly as
// appendHeader writes it; string escapes are checked by the caller.
func parseCanonical(b []byte) (*header, error) {
	p := &parser{b: b}
	h := &header{meta: map[string]string{}}
	p.lit(`{"__metadata__":{`)
	for prev := ""; p.err == nil && !p.peek('}'); {
		if len(h.meta) > 0 {
			p.lit(",")
		}
		k := p.str()
		p.lit(":")
		v := p.str()
		if p.err != nil {
			break
		}
		if _, dup := h.meta[k]; dup {
			return nil, fmt.Errorf("__metadata__ key %s appears twice", quote(k))
		}
		if len(h.meta) > 0 && k < prev {
			return nil, fmt.Errorf("__metadata__ key %s is out of order", quote(k))
		}
		h.meta[k], prev = v, k
	}
	p.lit("}")
	seen := map[string]bool{"__metadata__": true}
	for p.err == nil && p.peek(',') {
		p.lit(",")
		e := entry{name: p.str()}
		p.lit(`:{"dtype":`)
		e.dtype = p.str()
		p.lit(`,"shape":[`)
		for p.err == nil && !p.peek(']') {
			if len(e.shape) > 0 {
				p.lit(",")
			}
			if len(e.shape) == maxRank {
				return nil, fmt.Errorf("tensor %s has more than %d dimensions", quote(e.name), maxRank)
			}
			d := p.uint()
			if d > maxDim {
				return nil, fmt.Errorf("tensor %s has dimension %d (at most %d)", quote(e.name), d, maxDim)
			}
			e.shape = append(e.shape, int(d))
		}
		if e.shape == nil {
			e.shape = []int{}
		}
		p.lit(`],"data_offsets":[`)
		e.begin = p.uint()
		p.lit(",")
		e.end = p.uint()
		p.lit("]}")
		if p.err != nil {
			break
		}
		if seen[e.name] {
			return nil, fmt.Errorf("tensor %s appears twice", quote(e.name))
		}
		seen[e.name] = true
		h.entries = append(h.entries, e)
	}
	p.lit("}")
	if p.err == nil && p.pos != len(b) {
		p.fail("end of header")
	}
	if p.err != nil {
		return nil, p.err
	}
	return h, nil
}

// parser reads canonical JSON; the first failure sticks in err.
type parser struct {
	b   []byte
	pos int
	err error
}

func (p *parser) fail(want string) {
	if p.err != nil {
		return
	}
	have := "end of header"
	if p.pos < len(p.b) {
		have = quote(string(p.b[p.pos:min(p.pos+16, len(p.b))]))
	}
	p.err = fmt.Errorf("at byte %d: want %s, have %s", 8+p.pos, want, have)
}

func (p *parser) peek(c byte) bool { return p.pos < len(p.b) && p.b[p.pos] == c }

func (p *parser) lit(s string) {
	if p.err != nil {
		return
	}
	if !bytes.HasPrefix(p.b[p.pos:], []byte(s)) {
		p.fail(strconv.Quote(s))
		return
	}
	p.pos += len(s)
}

func (p *parser) str() string {
	if p.err != nil {
		return ""
	}
	if !p.peek('"') {
		p.fail("a string")
		return ""
	}
	esc := false
	for i := p.pos + 1; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c == '\\':
			esc = true
			i++
		case c == '"':
			raw := p.b[p.pos : i+1]
			var s string
			if !esc && utf8.Valid(raw) {
				s = string(raw[1 : len(raw)-1])
			} else if err := json.Unmarshal(raw, &s); err != nil {
				p.fail("a valid string")
				return ""
			}
			p.pos = i + 1
			return s
		case c < 0x20:
			p.pos = i
			p.fail("no control character in a string")
			return ""
		}
	}
	p.pos = len(p.b)
	p.fail("the end of the string")
	return ""
}

func (p *parser) uint() uint64 {
	if p.err != nil {
		return 0
	}
	i := p.pos
	for i < len(p.b) && p.b[i] >= '0' && p.b[i] <= '9' {
		i++
	}
	v, ok := parseDecimal(string(p.b[p.pos:i]), math.MaxUint64)
	if !ok {
		p.fail("an unsigned integer without leading zeros")
		return 0
	}
	p.pos = i
	return v
}

// appendHeader appends the canonical header JSON of meta (without the key
// skip) and entries, unpadded.
func appendHeader(dst []byte, meta map[string]string, skip string, entries []entry) []byte {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != skip {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	dst = append(dst, `{"__metadata__":{`...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, meta[k])
	}
	dst = append(dst, '}')
	for _, e := range entries {
		dst = append(dst, ',')
		dst = appendString(dst, e.name)
		dst = append(dst, `:{"dtype":`...)
		dst = appendString(dst, e.dtype)
		dst = append(dst, `,"shape":[`...)
		for i, d := range e.shape {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, int64(d), 10)
		}
		dst = append(dst, `],"data_offsets":[`...)
		dst = strconv.AppendUint(dst, e.begin, 10)
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, e.end, 10)
		dst = append(dst, "]}"...)
	}
	return append(dst, '}')
}

// appendString appends s as encoding/json quotes it.
func appendString(dst []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}

// padding is how many spaces follow a header of n bytes so the data
// section starts at a multiple of 8.
func padding(n int) int { return (8 - (8+n)%8) % 8 }

func checksum(header, data []byte) string {
	sum, _ := sum256(header, data)
	return checksumAlgo + hex.EncodeToString(sum)
}

func dtypeSize(dtype string) uint64 {
	if dtype == dtypeI64 {
		return 8
	}
	return 4
}

// elemCount is the product of shape, refusing negative dimensions and
// products beyond what any file could hold.
func elemCount(shape []int) (uint64, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if d != 0 && n > (1<<56)/uint64(d) {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= uint64(d)
	}
	return n, nil
}

// paramCount is the number of model parameters spec implies.
func paramCount(sp spec.Spec) uint64 {
	var n uint64
	in := uint64(sp.Inputs())
	for _, l := range sp.Model.Layers {
		out := uint64(l.Units)
		n += in*out + out
		in = out
	}
	return n
}

// fields are the decoded __metadata__ values.
type fields struct {
	Meta
	step         uint64
	epoch, batch int
	rng          []byte
	spec         spec.Spec
	checksum     string
}

// parseFields decodes and checks every metadata value; each must be in
// the one form Encode writes, so a decoded checkpoint re-encodes to the
// same bytes.
func parseFields(m map[string]string) (*fields, error) {
	f := &fields{}
	var ok bool
	if f.step, ok = parseDecimal(m[keyStep], math.MaxUint64); !ok {
		return nil, fmt.Errorf("step %s is not a decimal number", quote(m[keyStep]))
	}
	for _, v := range []struct {
		key string
		dst *int
	}{{keyEpoch, &f.epoch}, {keyBatch, &f.batch}} {
		n, ok := parseDecimal(m[v.key], math.MaxInt)
		if !ok {
			return nil, fmt.Errorf("%s %s is not a decimal number", v.key, quote(m[v.key]))
		}
		*v.dst = int(n)
	}
	var err error
	if f.rng, err = hex.DecodeString(m[keyRNG]); err != nil || hex.EncodeToString(f.rng) != m[keyRNG] {
		return nil, fmt.Errorf("rng %s is not lowercase hex", quote(m[keyRNG]))
	}
	js := m[keySpec]
	if f.spec, err = spec.ParseSpec([]byte(js)); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if re, err := json.Marshal(f.spec); err != nil || string(re) != js {
		return nil, errors.New("spec is not in normalized canonical form")
	}
	for _, v := range []struct {
		key   string
		dst   *string
		empty bool
	}{{keyRunID, &f.RunID, false}, {keyCheckpointID, &f.ID, false}, {keyParentID, &f.Parent, true}, {keyParentRun, &f.ParentRun, true}} {
		id := m[v.key]
		if !(v.empty && id == "") {
			if err := CheckIDs(id); err != nil {
				return nil, fmt.Errorf("%s: %w", v.key, err)
			}
		}
		*v.dst = id
	}
	c := m[keyCreated]
	if f.Created, err = time.Parse(time.RFC3339Nano, c); err != nil || f.Created.UTC().Format(time.RFC3339Nano) != c {
		return nil, fmt.Errorf("created %s is not an RFC 3339 UTC time", quote(c))
	}
	f.Created = f.Created.UTC()
	f.EngineVersion, f.Kind = m[keyEngineVersion], m[keyKind]
	f.checksum = m[keyChecksum]
	if s, ok := strings.CutPrefix(f.checksum, checksumAlgo); !ok || len(s) != 2*sha256.Size || strings.Trim(s, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("checksum %s is not %s and %d lowercase hex digits", quote(f.checksum), checksumAlgo, 2*sha256.Size)
	}
	return f, nil
}

// parseDecimal parses a canonical decimal (digits, no sign, no leading
// zero) of at most max.
func parseDecimal(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max || s[0] == '+' {
		return 0, false
	}
	return v, true
}

// Fingerprint is the hex SHA-256 over the little-endian bytes of every
// tensor of s in file order (F32 as 4 bytes, I64 as 8; no names or
// shapes), which is also the hash of a checkpoint file's data section.
func Fingerprint(s engine.State) string {
	h := sha256.New()
	var buf [32 << 10]byte
	for _, t := range s.Tensors {
		for v := t.F32; len(v) > 0; {
			n := min(len(v), len(buf)/4)
			putF32(buf[:4*n], v[:n])
			h.Write(buf[:4*n])
			v = v[n:]
		}
		for v := t.I64; len(v) > 0; {
			n := min(len(v), len(buf)/8)
			putI64(buf[:8*n], v[:n])
			h.Write(buf[:8*n])
			v = v[n:]
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func putF32(dst []byte, src []float32) {
	dst = dst[:4*len(src)]
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func putI64(dst []byte, src []int64) {
	dst = dst[:8*len(src)]
	for i, v := range src {
		binary.LittleEndian.PutUint64(dst[8*i:], uint64(v))
	}
}

func getF32(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func getI64(dst []int64, src []byte) {
	src = src[:8*len(dst)]
	for i := range dst {
		dst[i] = int64(binary.LittleEndian.Uint64(src[8*i:]))
	}
}

// NewID returns a checkpoint id for the state at step; ids sort by step.
func NewID(step uint64) string {
	return fmt.Sprintf("%012d-%s", step, randHex())
}

// NewRunID returns a run id: a sanitized prefix of name (a-z 0-9 -, at
// most 40 characters, "run" if nothing is left) and 8 random hex digits.
func NewRunID(name string) string {
	var b []byte
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b = append(b, byte(r))
		case len(b) > 0 && b[len(b)-1] != '-':
			b = append(b, '-')
		}
		if len(b) == 40 {
			break
		}
	}
	s := strings.Trim(string(b), "-")
	if s == "" {
		s = "run"
	}
	return s + "-" + randHex()
}

// StepOfID parses the step from an id made by NewID.
func StepOfID(id string) (uint64, bool) {
	digits, suffix, ok := strings.Cut(id, "-")
	if !ok || len(suffix) != 8 || strings.Trim(suffix, "0123456789abcdef") != "" || len(digits) < 12 {
		return 0, false
	}
	step, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || fmt.Sprintf("%012d", step) != digits {
		return 0, false
	}
	return step, true
}

func randHex() string {
	var b [4]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}
