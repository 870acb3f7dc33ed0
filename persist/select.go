package persist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Skipped is a checkpoint that Newest passed over, and why.
type Skipped struct {
	ID  string
	Err error
}

// Newest returns the newest valid checkpoint of run: the highest id (ids
// sort by step) that Decode accepts, walking down from the top. The head is
// not consulted. Checkpoints that fail to decode (corrupt, truncated, a
// newer format, a spec the engine cannot restore) or vanish while being
// read are reported in skipped; a store error stops the walk, so a
// transient failure never silently falls back to an older step. ErrNotExist
// if run has no valid checkpoint.
func Newest(ctx context.Context, s Store, run string) (c *Checkpoint, skipped []Skipped, err error) {
	return NewestWith(ctx, s, run, NewestOptions{})
}

// NewestOptions narrow NewestWith's choice.
type NewestOptions struct {
	// AtMost, if not nil, passes over checkpoints after that step.
	AtMost *uint64
	// Accept, if not nil, must accept a decoded checkpoint too (say, the
	// engine restores it); one it refuses is skipped with its error.
	Accept func(*Checkpoint) error
}

// NewestWith is Newest among the checkpoints opt allows.
func NewestWith(ctx context.Context, s Store, run string, opt NewestOptions) (c *Checkpoint, skipped []Skipped, err error) {
	objs, err := s.List(ctx, run)
	if err != nil {
		return nil, nil, fmt.Errorf("newest: %w", err)
	}
	after := func(step uint64) bool { return opt.AtMost != nil && step > *opt.AtMost }
	for _, o := range slices.Backward(objs) {
		if step, ok := StepOfID(o.ID); ok && after(step) {
			continue
		}
		b, err := ReadAll(ctx, s, run, o.ID)
		if errors.Is(err, ErrNotExist) {
			skipped = append(skipped, Skipped{o.ID, err})
			continue
		}
		if err != nil {
			return nil, skipped, fmt.Errorf("newest: %w", err)
		}
		c, err := Decode(b)
		if err == nil && opt.Accept != nil {
			err = opt.Accept(c)
		}
		if err != nil {
			skipped = append(skipped, Skipped{o.ID, err})
			continue
		}
		if after(c.State.Step) {
			continue // an id that does not say its step
		}
		return c, skipped, nil
	}
	return nil, skipped, fmt.Errorf("newest: run %s has no valid checkpoint (%d skipped): %w", run, len(skipped), ErrNotExist)
}

// ReadAll returns the whole of checkpoint id of run (ErrNotExist if none).
func ReadAll(ctx context.Context, s Store, run, id string) ([]byte, error) {
	rc, err := s.Get(ctx, run, id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", run, id, err)
	}
	return b, nil
}

// ReadInfo reads the header of checkpoint id of run without verifying the
// checksum. The error is the store's if the checkpoint cannot be opened
// (ErrNotExist if there is none), else ReadHeader's.
func ReadInfo(ctx context.Context, s Store, run, id string) (Info, error) {
	rc, err := s.Get(ctx, run, id)
	if err != nil {
		return Info{}, err
	}
	defer rc.Close()
	return ReadHeader(rc)
}

// Size is the length of the whole file the header describes: the header
// and its data.
func (i Info) Size() int64 { return int64(i.HeaderSize) + i.DataSize }

// Listed is one stored checkpoint with its header, or with Err saying why
// the header could not be read.
type Listed struct {
	Object
	Info Info
	Err  error
}

// ListInfo lists the checkpoints of run sorted by id, with the header of
// each (read without verifying the checksum). A checkpoint whose header
// cannot be read is still listed, with Err set; one deleted meanwhile is
// left out.
func ListInfo(ctx context.Context, s Store, run string) ([]Listed, error) {
	objs, err := s.List(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("list info: %w", err)
	}
	out := make([]Listed, 0, len(objs))
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("list info: %w", err)
		}
		info, err := ReadInfo(ctx, s, run, o.ID)
		if errors.Is(err, ErrNotExist) {
			continue
		}
		out = append(out, Listed{Object: o, Info: info, Err: err})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list info: %w", err) // a Get that failed for it is no header error
	}
	return out, nil
}

// Retention says which checkpoints of a run Retain keeps.
type Retention struct {
	KeepLast int // autosaves to keep, newest first; at least 1
}

// Retain deletes the checkpoints of run that p does not keep and returns
// their ids, oldest first. It keeps the head, every checkpoint whose kind
// is not autosave (pinned, milestone, final, imported), and the newest
// p.KeepLast autosaves. Kinds come from headers; checksums are not
// verified.
//
// A checkpoint whose header is damaged (ErrTruncated, ErrCorrupt,
// ErrNotCheckpoint) has no known kind and is treated as an autosave that
// never takes the place of a readable one: it is kept if it is newer than
// the oldest autosave kept (or than every readable checkpoint), or while
// KeepLast has room left after the readable autosaves, and deleted
// otherwise. One this engine cannot judge (ErrVersion, ErrIncompatible:
// likely written by a newer engine) is always kept. Any other error
// reading a header stops Retain before it deletes anything.
//
// Retain reads the head once, so it assumes no other writer moves the
// head meanwhile (one trainer per run).
func Retain(ctx context.Context, s Store, run string, p Retention) (deleted []string, err error) {
	if p.KeepLast < 1 {
		return nil, fmt.Errorf("retain: KeepLast is %d, want at least 1", p.KeepLast)
	}
	head, err := s.Head(ctx, run)
	if err != nil && !errors.Is(err, ErrNotExist) {
		return nil, fmt.Errorf("retain: %w", err)
	}
	ls, err := ListInfo(ctx, s, run)
	if err != nil {
		return nil, fmt.Errorf("retain: %w", err)
	}

	keep := make([]bool, len(ls))
	damaged := make([]bool, len(ls))
	for i, l := range ls {
		switch {
		case l.Err == nil:
		case errors.Is(l.Err, ErrVersion), errors.Is(l.Err, ErrIncompatible):
			keep[i] = true
		case errors.Is(l.Err, ErrTruncated), errors.Is(l.Err, ErrCorrupt), errors.Is(l.Err, ErrNotCheckpoint):
			damaged[i] = true
		default:
			return nil, fmt.Errorf("retain: %s/%s: %w", run, l.ID, l.Err)
		}
		if l.ID == head {
			keep[i] = true
		}
	}

	// Readable checkpoints, newest first. floor ends as the index of the
	// oldest kept autosave (or of the newest readable checkpoint, or -1 if
	// none is readable): damaged ones above it sit among the kept.
	autosaves, floor := 0, -1
	for i, l := range slices.Backward(ls) {
		if l.Err != nil {
			continue
		}
		if floor < 0 {
			floor = i
		}
		if l.Info.Kind != KindAutosave {
			keep[i] = true
		} else if autosaves < p.KeepLast {
			keep[i], autosaves, floor = true, autosaves+1, i
		}
	}
	room := p.KeepLast - autosaves
	for i := range slices.Backward(ls) {
		switch {
		case !damaged[i]:
		case i > floor:
			keep[i] = true
		case room > 0:
			keep[i], room = true, room-1
		}
	}

	for i, l := range ls {
		if keep[i] {
			continue
		}
		if err := s.Delete(ctx, run, l.ID); err != nil && !errors.Is(err, ErrNotExist) {
			return deleted, fmt.Errorf("retain: %w", err)
		}
		deleted = append(deleted, l.ID)
	}
	return deleted, nil
}
