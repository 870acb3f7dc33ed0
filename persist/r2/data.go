package r2

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"playground/persist"
)

// Datasets are stored under datasets/NAME.csv (after Options.Prefix).
const dataDir = "datasets/"

var _ persist.DataStore = (*Store)(nil)

func (s *Store) dataKey(name string) string { return s.opt.Prefix + dataDir + name + ".csv" }

// PutData stores dataset name (persist.DataStore) once checked, in one put
// that is conditional on the key being absent (a dataset never changes)
// and carries the name as the SHA-256 R2 checks.
func (s *Store) PutData(ctx context.Context, name string, b []byte) error {
	if err := persist.CheckPutData(ctx, name, b); err != nil {
		return fmt.Errorf("r2: %w", err)
	}
	sum, _ := hex.DecodeString(name) // CheckData: the hex SHA-256 of b
	err := s.b.Put(ctx, s.dataKey(name), b, sum, Cond{IfAbsent: true})
	if err != nil && !errors.Is(err, ErrPrecondition) {
		return fmt.Errorf("r2: put dataset %s: %w", name, err)
	}
	return nil
}

// GetData reads dataset name (persist.DataStore).
func (s *Store) GetData(ctx context.Context, name string) ([]byte, error) {
	if err := persist.CheckDataName(name); err != nil {
		return nil, fmt.Errorf("r2: %w", err)
	}
	rc, _, err := s.b.Get(ctx, s.dataKey(name))
	if errors.Is(err, ErrNotExist) {
		return nil, fmt.Errorf("r2: dataset %s is not at key %s: %w", name, s.dataKey(name), persist.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("r2: dataset %s: %w", name, err)
	}
	b, err := persist.ReadData(name, rc)
	if err != nil {
		return nil, fmt.Errorf("r2: dataset %s: %w", name, err)
	}
	return b, nil
}

// HasData reports whether the bucket holds dataset name.
func (s *Store) HasData(ctx context.Context, name string) (bool, error) {
	if err := persist.CheckDataName(name); err != nil {
		return false, fmt.Errorf("r2: %w", err)
	}
	_, err := s.b.Stat(ctx, s.dataKey(name))
	if errors.Is(err, ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("r2: dataset %s: %w", name, err)
	}
	return true, nil
}
