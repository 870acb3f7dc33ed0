package persist

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"playground/engine"
)

// Encoding with the caller's SHA-256: in the browser the checksum is
// computed by WebCrypto on another thread, so the training thread only lays
// the file out. The bytes are exactly Encode's.

// Prepared is a checkpoint laid out as Encode writes it, waiting for the
// SHA-256 of Header() then Data() to be sealed in.
type Prepared struct {
	file   []byte // the whole file; its header holds a placeholder checksum
	hashed []byte // canonical header without the checksum key
	sumAt  int    // offset in file of the placeholder's hex digits
	n      int    // padded JSON header length
	sealed bool
}

// Prepare validates c exactly as Encode does and lays it out.
func Prepare(c *Checkpoint) (*Prepared, error) {
	if c == nil {
		return nil, errors.New("encode: nil checkpoint")
	}
	meta, spec, err := metadataOf(c)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if err := engine.CheckLayout(spec, c.State.Tensors); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	p, err := prepareFile(meta, c.State.Tensors)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return p, nil
}

// prepareFile lays out tensors under meta (which must lack the checksum;
// a placeholder is added), checking only what it needs to write a
// well-formed file. It copies F32 data in bulk on little-endian machines.
func prepareFile(meta map[string]string, tensors []engine.StateTensor) (*Prepared, error) {
	entries := make([]entry, len(tensors))
	var off uint64
	for i, t := range tensors {
		e := entry{name: t.Name, dtype: dtypeF32, shape: t.Shape, begin: off}
		n := len(t.F32)
		if t.I64 != nil {
			e.dtype, n = dtypeI64, len(t.I64)
			if t.F32 != nil {
				return nil, fmt.Errorf("tensor %s has both F32 and I64 data", quote(t.Name))
			}
		}
		elems, err := elemCount(t.Shape)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", quote(t.Name), err)
		}
		if elems != uint64(n) {
			return nil, fmt.Errorf("tensor %s has %d values, shape %v needs %d", quote(t.Name), n, t.Shape, elems)
		}
		off += elems * dtypeSize(e.dtype)
		e.end = off
		entries[i] = e
	}
	if off > math.MaxInt-maxHeader {
		return nil, fmt.Errorf("%d bytes of tensor data is too large", off)
	}
	meta[keyChecksum] = placeholderSum
	h := appendHeader(nil, meta, "", entries)
	n := len(h) + padding(len(h))
	if n > maxHeader {
		return nil, fmt.Errorf("header of %d bytes exceeds %d", n, maxHeader)
	}
	out := make([]byte, 8+n+int(off))
	binary.LittleEndian.PutUint64(out, uint64(n))
	copy(out[8:], h)
	for i := 8 + len(h); i < 8+n; i++ {
		out[i] = ' '
	}
	data := out[8+n:]
	for i, t := range tensors {
		dst := data[entries[i].begin:entries[i].end]
		if t.I64 != nil {
			putI64(dst, t.I64)
		} else {
			copyF32(dst, t.F32)
		}
	}
	// The key occurs once: in the header any other "checksum" string is
	// a value (followed by , or }) or a tensor name (followed by :{), and
	// a quote inside a string is escaped.
	key := []byte(`"` + keyChecksum + `":"` + checksumAlgo)
	sumAt := 8 + bytes.Index(h, key) + len(key)
	return &Prepared{
		file:   out,
		hashed: appendHeader(nil, meta, keyChecksum, entries),
		sumAt:  sumAt,
		n:      n,
	}, nil
}

// Header is what the checksum covers first: the canonical header without
// its checksum key.
func (p *Prepared) Header() []byte { return p.hashed }

// Data is what the checksum covers second: the tensor data section. It
// aliases the file that Seal returns.
func (p *Prepared) Data() []byte { return p.file[8+p.n:] }

// Size is the length of the file in bytes.
func (p *Prepared) Size() int { return len(p.file) }

// Seal writes sum, the SHA-256 of Header() then Data(), into the header and
// returns the finished file. It does not check sum: a wrong one gives a
// file that Decode rejects as corrupt.
func (p *Prepared) Seal(sum []byte) ([]byte, error) {
	if len(sum) != sha256.Size {
		return nil, fmt.Errorf("encode: checksum has %d bytes, want %d", len(sum), sha256.Size)
	}
	if p.sealed {
		return nil, errors.New("encode: checkpoint already sealed")
	}
	hex.Encode(p.file[p.sumAt:], sum)
	p.sealed = true
	return p.file, nil
}

// EncodeWith is Encode with the SHA-256 computed by sum over header then
// data (for example by WebCrypto); the output is byte-identical to Encode's.
func EncodeWith(c *Checkpoint, sum func(header, data []byte) ([]byte, error)) ([]byte, error) {
	p, err := Prepare(c)
	if err != nil {
		return nil, err
	}
	d, err := sum(p.Header(), p.Data())
	if err != nil {
		return nil, fmt.Errorf("encode: checksum: %w", err)
	}
	return p.Seal(d)
}

// littleEndian is true where float32 memory already is the file's byte
// order (amd64, arm64, wasm).
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// copyF32 is putF32 as one memory copy where the byte order allows.
func copyF32(dst []byte, src []float32) {
	if !littleEndian || len(src) == 0 {
		putF32(dst, src)
		return
	}
	copy(dst[:4*len(src)], unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), 4*len(src)))
}
