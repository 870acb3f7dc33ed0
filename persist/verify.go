package persist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
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
	fh      *fileHeader
	last    [8]byte // the data section's last 8 bytes: optimizer.step
	defect  error   // what Decode would reject the file for
	rerr    error   // an error of the underlying reader
	pending []byte  // header bytes not yet returned by Read
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
	v.keepLast(p[:n])
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
		v.defect = checksumError(v.info.Checksum, sum)
		return
	}
	if err := v.fh.checkOptimizerStep(v.last[:]); err != nil {
		v.defect = err
		return
	}
	v.done = true
}

// keepLast keeps the bytes of p (read at data offset v.got) that fall in
// the data section's last 8.
func (v *VerifyReader) keepLast(p []byte) {
	if v.want < 8 {
		return
	}
	from := v.want - 8 // data offset of the last 8 bytes
	end := v.got + uint64(len(p))
	if end <= from || v.got >= v.want {
		return
	}
	lo := max(v.got, from)
	hi := min(end, v.want)
	copy(v.last[lo-from:], p[lo-v.got:hi-v.got])
}

// readHeader reads and checks the header with the format's one reader.
func (v *VerifyReader) readHeader() {
	fh, err := readHeader(v.r)
	var re *readError
	switch {
	case errors.As(err, &re):
		v.rerr = re.err
		return
	case err == nil:
		err = fh.check()
	}
	if err != nil {
		v.defect = err
		return
	}
	v.fh, v.info, v.want = fh, fh.info(), fh.dataSize()
	v.sum = sha256.New()
	v.sum.Write(fh.signed())
	v.pending = fh.raw
}
