// Package mem is a persist.Store in memory: checkpoints live as long as the
// Store does. The page trains on it when the browser refuses it storage (a
// cross-site iframe with third-party storage blocked, some private modes):
// training works, checkpoints do not outlive the tab.
package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"playground/persist"
)

// Store keeps checkpoints in maps. It is safe for concurrent use.
type Store struct {
	mu    sync.Mutex
	runs  map[string]map[string][]byte // run → id → bytes
	heads map[string]string
	data  map[string][]byte // dataset name → canonical bytes
}

// New returns an empty store.
func New() *Store {
	return &Store{runs: map[string]map[string][]byte{}, heads: map[string]string{}}
}

var (
	_ persist.Store     = (*Store)(nil)
	_ persist.HeadMover = (*Store)(nil)
)

// Put reads r whole, then stores it as run/id (and moves the head) in one
// step: a failing reader stores nothing.
func (s *Store) Put(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) error {
	if err := persist.CheckPut(ctx, run, id, opt); err != nil {
		return fmt.Errorf("mem: %w", err)
	}
	b, err := readAll(ctx, r)
	if err != nil {
		return fmt.Errorf("mem: put %s/%s: %w", run, id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkHead(run, opt); err != nil {
		return err
	}
	if s.runs[run] == nil {
		s.runs[run] = map[string][]byte{}
	}
	s.runs[run][id] = b
	if opt.SetHead {
		s.heads[run] = id
	}
	return nil
}

// readAll reads r to its end, stopping when ctx ends.
func readAll(ctx context.Context, r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_, err := io.CopyN(&buf, r, 1<<20)
		if err == io.EOF {
			return buf.Bytes(), ctx.Err()
		}
		if err != nil {
			return nil, err
		}
	}
}

// enter checks ids and ctx, then locks s: the caller unlocks it.
func (s *Store) enter(ctx context.Context, ids ...string) error {
	if err := persist.CheckCall(ctx, ids...); err != nil {
		return fmt.Errorf("mem: %w", err)
	}
	s.mu.Lock()
	return nil
}

// object is the bytes of run/id (s.mu held).
func (s *Store) object(run, id string) ([]byte, error) {
	b, ok := s.runs[run][id]
	if !ok {
		return nil, fmt.Errorf("mem: %s/%s: %w", run, id, persist.ErrNotExist)
	}
	return b, nil
}

// checkHead is Put's precondition (s.mu held).
func (s *Store) checkHead(run string, opt persist.PutOptions) error {
	if h := s.heads[run]; opt.CheckHead && h != opt.IfHead {
		return fmt.Errorf("mem: %s: head is %q, not %q: %w", run, h, opt.IfHead, persist.ErrHeadMoved)
	}
	return nil
}

// MoveHead makes id, which the store holds, the head of run.
func (s *Store) MoveHead(ctx context.Context, run, id string, opt persist.PutOptions) error {
	if err := persist.CheckPut(ctx, run, id, opt); err != nil {
		return fmt.Errorf("mem: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.object(run, id); err != nil {
		return err
	}
	if err := s.checkHead(run, opt); err != nil {
		return err
	}
	s.heads[run] = id
	return nil
}

// Get returns a reader of the checkpoint's bytes.
func (s *Store) Get(ctx context.Context, run, id string) (io.ReadCloser, error) {
	if err := s.enter(ctx, run, id); err != nil {
		return nil, err
	}
	b, err := s.object(run, id)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Stored bytes are never written again (Put replaces the slice).
	return io.NopCloser(bytes.NewReader(b)), nil
}

// List returns the run's checkpoints sorted by id.
func (s *Store) List(ctx context.Context, run string) ([]persist.Object, error) {
	if err := s.enter(ctx, run); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]persist.Object, 0, len(s.runs[run]))
	for id, b := range s.runs[run] {
		out = append(out, persist.Object{ID: id, Size: int64(len(b))})
	}
	slices.SortFunc(out, func(a, b persist.Object) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Delete removes a checkpoint; deleting the head leaves the run without one.
func (s *Store) Delete(ctx context.Context, run, id string) error {
	if err := s.enter(ctx, run, id); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, err := s.object(run, id); err != nil {
		return err
	}
	delete(s.runs[run], id)
	if len(s.runs[run]) == 0 {
		delete(s.runs, run)
	}
	if s.heads[run] == id {
		delete(s.heads, run)
	}
	return nil
}

// Runs lists the runs that hold a checkpoint, sorted.
func (s *Store) Runs(ctx context.Context) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.runs))
	for run := range s.runs {
		out = append(out, run)
	}
	slices.Sort(out)
	return out, nil
}

// Head returns the run's head; ErrNotExist if it has none.
func (s *Store) Head(ctx context.Context, run string) (string, error) {
	if err := s.enter(ctx, run); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	h, ok := s.heads[run]
	if !ok {
		return "", fmt.Errorf("mem: %s: no head: %w", run, persist.ErrNotExist)
	}
	return h, nil
}
