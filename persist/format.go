package persist

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"playground/engine"
)

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
