package persist

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"playground/engine"
)

// VerifyReader passes a checkpoint file through from an underlying reader
// while checking it exactly as Decode does, without holding the tensor
// data: the header is read and checked first, the data is hashed as it
// streams, and the end of the file is reported (io.EOF) only once the
// whole file has checked out. A defect is returned by Read instead, so a
// Store that copies from a VerifyReader fails the Put and keeps nothing.
// It accepts exactly the files Decode accepts.
type VerifyReader struct {
	r       io.Reader
	started bool
	info    Info
	defect  error  // what Decode would reject the file for
	rerr    error  // an error of the underlying reader
	pending []byte // header bytes not yet returned by Read
	sum     hash.Hash
	want    uint64 // data bytes the header describes
	got     uint64 // data bytes read so far
	done    bool
}

// NewVerifyReader returns a VerifyReader over r.
func NewVerifyReader(r io.Reader) *VerifyReader { return &VerifyReader{r: r} }

// Header reads and checks the header (format, canonical encoding,
// metadata, tensors against the spec) unless already done, and returns
// what it says. The bytes it reads are still returned by Read.
func (v *VerifyReader) Header() (Info, error) {
	if !v.started {
		v.started = true
		v.readHeader()
	}
	if err := v.err(); err != nil {
		return Info{}, err
	}
	return v.info, nil
}

// Defect returns why the file is not a valid checkpoint, once that is
// known; nil while it is still being read, after it checked out, or when
// only the underlying reader failed.
func (v *VerifyReader) Defect() error { return v.defect }

func (v *VerifyReader) err() error {
	if v.defect != nil {
		return v.defect
	}
	return v.rerr
}

// Read returns the file's bytes; see VerifyReader for how it ends.
func (v *VerifyReader) Read(p []byte) (int, error) {
	if _, err := v.Header(); err != nil {
		return 0, err
	}
	if len(v.pending) > 0 {
		n := copy(p, v.pending)
		v.pending = v.pending[n:]
		return n, nil
	}
	if v.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := v.r.Read(p)
	v.sum.Write(p[:n])
	v.got += uint64(n)
	if v.got > v.want {
		v.defect = fmt.Errorf("%w: trailing bytes after the last tensor (the data section has more than the %d bytes the header describes)", ErrCorrupt, v.want)
		return n, v.defect
	}
	switch {
	case err == io.EOF:
		v.finish()
		if v.defect != nil {
			return n, v.defect
		}
		return n, io.EOF
	case err != nil:
		v.rerr = err
	}
	return n, err
}

// finish checks the data section once the underlying reader has ended.
func (v *VerifyReader) finish() {
	if v.got < v.want {
		v.defect = fmt.Errorf("%w: data section has %d bytes, header describes %d", ErrTruncated, v.got, v.want)
		return
	}
	if sum := checksumAlgo + hex.EncodeToString(v.sum.Sum(nil)); sum != v.info.Checksum {
		v.defect = fmt.Errorf("%w: checksum mismatch: file says %s, content hashes to %s", ErrCorrupt, quote(v.info.Checksum), sum)
		return
	}
	v.done = true
}

// readHeader reads the length and the header and runs every check of
// Decode that does not need the tensor data.
func (v *VerifyReader) readHeader() {
	var lb [8]byte
	if n, err := io.ReadFull(v.r, lb[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			v.defect = fmt.Errorf("%w: file has %d bytes, a checkpoint needs at least 8", ErrTruncated, n)
		} else {
			v.rerr = err
		}
		return
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > maxHeader {
		v.defect = fmt.Errorf("%w: header length %d exceeds %d", ErrCorrupt, n, maxHeader)
		return
	}
	// Grow with what arrives rather than trusting the claimed length.
	buf, err := io.ReadAll(io.LimitReader(v.r, int64(n)))
	if err != nil {
		v.rerr = err
		return
	}
	if uint64(len(buf)) < n {
		v.defect = fmt.Errorf("%w: header claims %d bytes, file has %d", ErrTruncated, n, len(buf))
		return
	}
	h, err := parseHeader(buf)
	if err != nil {
		v.defect = err
		return
	}
	f, err := parseFields(h.meta)
	if err != nil {
		v.defect = fmt.Errorf("%w: %w", ErrCorrupt, err)
		return
	}
	if err := checkEngine(f.EngineVersion); err != nil {
		v.defect = err
		return
	}
	v.want = h.dataSize()
	var floats uint64
	for _, e := range h.entries {
		if e.dtype == dtypeF32 {
			floats += (e.end - e.begin) / 4
		}
	}
	// Decode's guard with the length the file has if it is whole (if it
	// is not, both refuse it anyway).
	size := uint64(h.size) + v.want
	if p := paramCount(f.spec); p > floats && 8*p > 2*size+layoutSlack {
		v.defect = fmt.Errorf("%w: spec's model has %d parameters, the file holds %d float32 values", ErrIncompatible, p, floats)
		return
	}
	// The header already ties each tensor's byte count to its shape, so
	// CheckLayout needs only names, shapes and dtypes: F32 data stays nil
	// (not counted) and I64 data non-nil. An I64 tensor that gets past the
	// name and shape checks has the expected count (1, optimizer.step).
	tensors := make([]engine.StateTensor, len(h.entries))
	for i, e := range h.entries {
		tensors[i] = engine.StateTensor{Name: e.name, Shape: e.shape}
		if e.dtype == dtypeI64 {
			tensors[i].I64 = make([]int64, min((e.end-e.begin)/8, 1))
		}
	}
	if err := engine.CheckLayout(f.spec, tensors); err != nil {
		v.defect = fmt.Errorf("checkpoint %s: %w", f.ID, err)
		return
	}
	v.info = Info{
		Meta: f.Meta, Step: f.step, Epoch: f.epoch, Batch: f.batch,
		Checksum: f.checksum, Spec: f.spec,
		HeaderSize: h.size, DataSize: int64(v.want),
	}
	v.sum = sha256.New()
	v.sum.Write(appendHeader(nil, h.meta, keyChecksum, h.entries))
	v.pending = make([]byte, 0, 8+len(buf))
	v.pending = append(append(v.pending, lb[:]...), buf...)
}
