package persist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Store keeps checkpoints (whole .safetensors files) per run, plus each
// run's head: the checkpoint the run currently continues from. Every backend
// (disk, idb, r2, remote) implements it and passes the conformance suite in
// persist/storetest.
type Store interface {
	// Put stores the bytes read from r as checkpoint id of run, atomically:
	// readers see the old object or the whole new one, never a part. With
	// opt.SetHead the run's head moves to id once the checkpoint is
	// committed, never before, so a head always names a whole checkpoint
	// (a crash in between may leave the previous head in place).
	Put(ctx context.Context, run, id string, r io.Reader, opt PutOptions) error
	// Get opens a checkpoint; ErrNotExist if there is none.
	Get(ctx context.Context, run, id string) (io.ReadCloser, error)
	// List returns the run's checkpoints sorted by id (ids sort by step);
	// an unknown run has none.
	List(ctx context.Context, run string) ([]Object, error)
	// Delete removes a checkpoint; ErrNotExist if there is none. Deleting
	// the head leaves the run without a head.
	Delete(ctx context.Context, run, id string) error
	// Runs lists the runs that have at least one checkpoint, sorted.
	Runs(ctx context.Context) ([]string, error)
	// Head returns the run's head checkpoint id; ErrNotExist if none.
	Head(ctx context.Context, run string) (string, error)
}

// PutOptions control how Put moves the run's head.
type PutOptions struct {
	SetHead bool // make the new checkpoint the run's head once it is committed
	// CheckHead makes Put fail with ErrHeadMoved, storing nothing, unless
	// the run's head is IfHead ("" for a run without a head).
	CheckHead bool
	IfHead    string
	// SHA256, when the writer knows it, is the SHA-256 of the whole body.
	// A store that can have it checked by its backend passes it on (R2
	// refuses a body with another hash); the others ignore it.
	SHA256 []byte
}

// Object describes one stored checkpoint.
type Object struct {
	ID   string
	Size int64
}

var (
	// ErrNotExist is returned for a missing run, checkpoint or head.
	ErrNotExist = os.ErrNotExist
	// ErrHeadMoved is returned by Put when the head is not what the writer
	// believed it was.
	ErrHeadMoved = errors.New("head moved")
	// ErrBadID is returned for a run or checkpoint id outside ValidID.
	ErrBadID = errors.New("invalid id")
	// ErrHeadNotMoved is returned (joined with the cause) by a Put that
	// committed the checkpoint but could not move the head: the checkpoint
	// is stored, and moving the head again needs no new bytes.
	ErrHeadNotMoved = errors.New("checkpoint stored, head not moved")
)

// HeadMover is a Store that can move a run's head to a checkpoint it
// already holds without writing the checkpoint again.
type HeadMover interface {
	// MoveHead makes id the head of run; with opt.CheckHead it fails with
	// ErrHeadMoved, changing nothing, unless the head is opt.IfHead (as
	// Put). ErrNotExist if run has no checkpoint id. Other fields of opt
	// are ignored.
	MoveHead(ctx context.Context, run, id string, opt PutOptions) error
}

// ValidID reports whether s may name a run or a checkpoint: 1 to 64 of
// a-z 0-9 . _ -, starting with a letter or digit, so never a path. It is
// written out, not a regexp: package regexp would add 90 KB (brotli) to
// the page's wasm. FuzzValidID holds it to the pattern.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')) {
			return false
		}
	}
	return true
}

// CheckIDs returns ErrBadID (wrapped, naming the id) unless all are valid.
func CheckIDs(ids ...string) error {
	for _, id := range ids {
		if !ValidID(id) {
			return &idError{id}
		}
	}
	return nil
}

// CheckCall checks a store call before it starts: CheckIDs's error, or
// else ctx's. Backends wrap it with their name.
func CheckCall(ctx context.Context, ids ...string) error {
	if err := CheckIDs(ids...); err != nil {
		return err
	}
	return ctx.Err()
}

// CheckPut checks a Put (or MoveHead) before it starts: ErrBadID
// (wrapped) unless run, id and, with opt.CheckHead, a non-empty opt.IfHead
// are valid ids; else ctx's error. Backends wrap it with their name.
func CheckPut(ctx context.Context, run, id string, opt PutOptions) error {
	if err := CheckIDs(run, id); err != nil {
		return err
	}
	if opt.CheckHead && opt.IfHead != "" && !ValidID(opt.IfHead) {
		return fmt.Errorf("if-head: %w", CheckIDs(opt.IfHead))
	}
	return ctx.Err()
}

type idError struct{ id string }

func (e *idError) Error() string {
	return "invalid id " + quote(e.id) + " (want 1-64 of a-z 0-9 . _ -, starting with a letter or digit)"
}
func (e *idError) Unwrap() error { return ErrBadID }

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	b := []byte{'"'}
	for _, c := range []byte(s) {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			b = append(b, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}
