package mem

import (
	"context"
	"fmt"

	"playground/persist"
)

var _ persist.DataStore = (*Store)(nil)

// PutData keeps dataset name once b checks out as its canonical bytes.
func (s *Store) PutData(ctx context.Context, name string, b []byte) error {
	if err := persist.CheckPutData(ctx, name, b); err != nil {
		return fmt.Errorf("mem: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		s.data = map[string][]byte{}
	}
	if _, ok := s.data[name]; !ok {
		s.data[name] = append([]byte(nil), b...)
	}
	return nil
}

// GetData returns dataset name's bytes.
func (s *Store) GetData(ctx context.Context, name string) ([]byte, error) {
	b, ok, err := s.data1(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("mem: dataset %s is not in this tab's memory: %w", name, persist.ErrNotExist)
	}
	return append([]byte(nil), b...), nil
}

// HasData reports whether the store holds dataset name.
func (s *Store) HasData(ctx context.Context, name string) (bool, error) {
	_, ok, err := s.data1(ctx, name)
	return ok, err
}

func (s *Store) data1(ctx context.Context, name string) ([]byte, bool, error) {
	if err := persist.CheckDataCall(ctx, name); err != nil {
		return nil, false, fmt.Errorf("mem: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.data[name]
	return b, ok, nil
}
