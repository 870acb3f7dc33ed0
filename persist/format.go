package persist

import (
	"bytes"
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

// Decode parses and fully verifies a checkpoint: everything readHeader
// checks, then the data section's length and checksum and optimizer.step.
// What it accepts, engine.Restore restores. Never panics on any input.
func Decode(b []byte) (*Checkpoint, error) {
	fh, err := readHeader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	// The checksum first: a damaged byte anywhere is reported as such,
	// not as the odd value it made.
	data := b[fh.size:]
	want := fh.dataSize()
	if uint64(len(data)) < want {
		return nil, fmt.Errorf("%w: data section has %d bytes, header describes %d", ErrTruncated, len(data), want)
	}
	if uint64(len(data)) > want {
		return nil, fmt.Errorf("%w: %d trailing bytes after the last tensor", ErrCorrupt, uint64(len(data))-want)
	}
	if sum := checksum(fh.signed(), data); sum != fh.meta[keyChecksum] {
		return nil, checksumError(fh.meta[keyChecksum], sum)
	}
	if err := fh.check(); err != nil {
		return nil, err
	}
	tensors := make([]engine.StateTensor, len(fh.entries))
	for i, e := range fh.entries {
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
	if err := fh.checkOptimizerStep(data[want-8:]); err != nil {
		return nil, err
	}
	f := fh.f
	return &Checkpoint{
		Meta: f.Meta,
		State: engine.State{
			Spec: f.spec, Step: f.step, Epoch: f.epoch, Batch: f.batch,
			RNG: f.rng, Tensors: tensors,
		},
		Curve: f.curve,
	}, nil
}

// Verify is Decode without keeping the result (same errors).
func Verify(b []byte) error {
	_, err := Decode(b)
	return err
}

// ReadHeader reads only the 8-byte length and the header from r and
// returns what it says after every check that needs no tensor data (see
// readHeader), WITHOUT verifying the data checksum: for cheap listings.
func ReadHeader(r io.Reader) (Info, error) {
	fh, err := readHeader(r)
	var re *readError
	if errors.As(err, &re) {
		return Info{}, fmt.Errorf("read checkpoint header: %w", re.err)
	}
	if err == nil {
		err = fh.check()
	}
	if err != nil {
		return Info{}, err
	}
	return fh.info(), nil
}

// fileHeader is a checkpoint's header as readHeader read and checked it.
type fileHeader struct {
	*header
	f   *fields
	raw []byte // the 8-byte length and the N header bytes, as read
}

// readError is a failure of the underlying reader while readHeader reads,
// as opposed to a defect of the file.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// readHeader is the one reader of a checkpoint's header, for Decode,
// ReadHeader and VerifyReader. It reads the 8-byte length (at most
// maxHeader) and the header, and checks its format and version, canonical
// encoding, metadata keys and tensor offsets; check then judges what it
// says. A failure of r comes back as a *readError.
func readHeader(r io.Reader) (*fileHeader, error) {
	var lb [8]byte
	if n, err := io.ReadFull(r, lb[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: file has %d bytes, a checkpoint needs at least 8", ErrTruncated, n)
		}
		return nil, &readError{err}
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > maxHeader {
		return nil, fmt.Errorf("%w: header length %d exceeds %d (%d KiB)", ErrCorrupt, n, maxHeader, maxHeader>>10)
	}
	raw := make([]byte, 8+n)
	copy(raw, lb[:])
	if got, err := io.ReadFull(r, raw[8:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: header claims %d bytes, file has %d", ErrTruncated, n, got)
		}
		return nil, &readError{err}
	}
	h, err := parseHeader(raw[8:])
	if err != nil {
		return nil, err
	}
	return &fileHeader{header: h, raw: raw}, nil
}

// check decodes every metadata value (setting fh.f) and checks what the
// header says of the training state against its spec, as engine.Restore
// will: the tensors' layout and the position. Every check that needs no
// tensor data; Decode checks the checksum first, VerifyReader at the end.
func (fh *fileHeader) check() error {
	f, err := parseFields(fh.meta)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := checkEngine(f.EngineVersion); err != nil {
		return err
	}
	fh.f = f
	// CheckLayout builds the spec's layout: refuse a model much larger
	// than the file (8 bytes per parameter) before it does.
	var floats uint64
	for _, e := range fh.entries {
		if e.dtype == dtypeF32 {
			floats += (e.end - e.begin) / 4
		}
	}
	size := uint64(fh.size) + fh.dataSize() // the file's length if it is whole
	if p := paramCount(f.spec); p > floats && 8*p > 2*size+layoutSlack {
		return fmt.Errorf("%w: spec's model has %d parameters, the file holds %d float32 values", ErrIncompatible, p, floats)
	}
	// The header already ties each tensor's byte count to its shape, so
	// CheckLayout needs only names, shapes and dtypes: F32 data stays nil
	// (not counted) and I64 data non-nil. An I64 tensor that gets past the
	// name and shape checks has the expected count (1, optimizer.step).
	tensors := make([]engine.StateTensor, len(fh.entries))
	for i, e := range fh.entries {
		tensors[i] = engine.StateTensor{Name: e.name, Shape: e.shape}
		if e.dtype == dtypeI64 {
			tensors[i].I64 = make([]int64, min((e.end-e.begin)/8, 1))
		}
	}
	if err := engine.CheckLayout(f.spec, tensors); err != nil {
		return fmt.Errorf("checkpoint %s: %w", f.ID, err)
	}
	// A state the engine would not restore is as unusable as a damaged
	// one: corrupt, never "incompatible" (which Retain keeps for a newer
	// engine to judge).
	if err := engine.CheckPosition(f.spec, f.step, f.epoch, f.batch, f.rng); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// checkOptimizerStep checks the last 8 bytes of the data section, which
// checkState made optimizer.step, against the header's step.
func (fh *fileHeader) checkOptimizerStep(last []byte) error {
	if v := binary.LittleEndian.Uint64(last); v != fh.f.step {
		return fmt.Errorf("%w: optimizer.step %d differs from step %d", ErrCorrupt, int64(v), fh.f.step)
	}
	return nil
}

// signed is the header the checksum covers: the canonical header without
// its checksum key.
func (fh *fileHeader) signed() []byte { return appendHeader(nil, fh.meta, keyChecksum, fh.entries) }

func (fh *fileHeader) info() Info {
	f := fh.f
	return Info{
		Meta: f.Meta, Step: f.step, Epoch: f.epoch, Batch: f.batch,
		Checksum: f.checksum, Spec: f.spec,
		HeaderSize: fh.size, DataSize: int64(fh.dataSize()),
	}
}

func checksumError(stated, sum string) error {
	return fmt.Errorf("%w: checksum mismatch: file says %s, content hashes to %s", ErrCorrupt, quote(stated), sum)
}
