package persist

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
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
	// maxHeader bounds the JSON header: a real one is 1-3 KB, the largest
	// spec the engine accepts (16 layers of AdamW state, 128-byte strings) 10 KB
	// (TestHeaderLimit), so 64 KiB leaves room and bounds what a reader
	// holds before anything is verified.
	maxHeader    = 64 << 10
	maxRank      = 8 // engine tensors have rank 0 to 2
	maxDim       = math.MaxInt32
	layoutSlack  = 64 << 10 // bytes CheckLayout may allocate beyond 2× the file
	checksumAlgo = "sha256:"
)

// Tensor dtypes (dtypeSize gives their sizes).
const (
	dtypeF32 = "F32"
	dtypeI64 = "I64"
)

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
			if !slices.Contains(metaKeys, k) && !slices.Contains(optionalMetaKeys, k) {
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
