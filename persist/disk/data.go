package disk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"playground/persist"
	"playground/spec"
)

// Datasets live in <dir>/_datasets/<sha256>.csv: "_datasets" is never a
// run id, so Runs, List and Clean pass it by.
const (
	dataDir = "_datasets"
	dataExt = ".csv"
)

var _ persist.DataStore = (*Store)(nil)

// DataPath returns the file that holds (or would hold) dataset name.
func (s *Store) DataPath(name string) string {
	return filepath.Join(s.dir, dataDir, name+dataExt)
}

// PutData stores dataset name (persist.DataStore) by temp file, sync and
// rename, once checked; identical bytes already there are left alone.
func (s *Store) PutData(ctx context.Context, name string, b []byte) error {
	if err := persist.CheckPutData(ctx, name, b); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	if ok, err := s.HasData(ctx, name); err != nil || ok {
		return err
	}
	dir := filepath.Join(s.dir, dataDir)
	if err := s.mkdir(dir); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	tmp, err := s.writeTemp(ctx, dir, name+dataExt, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("disk: put dataset %s: %w", name, err)
	}
	if err := os.Rename(tmp, s.DataPath(name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("disk: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	return nil
}

// GetData reads dataset name (persist.DataStore); a missing one is
// persist.ErrNotExist naming the file looked for.
func (s *Store) GetData(ctx context.Context, name string) ([]byte, error) {
	if err := persist.CheckDataCall(ctx, name); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	path := s.DataPath(name)
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("disk: dataset %s is not at %s: %w", name, path, persist.ErrNotExist)
		}
		return nil, fmt.Errorf("disk: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() > spec.MaxCustomBytes {
		return nil, fmt.Errorf("disk: %s is not a dataset file of at most %d bytes", path, spec.MaxCustomBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	return b, nil
}

// HasData reports whether the store holds dataset name.
func (s *Store) HasData(ctx context.Context, name string) (bool, error) {
	if err := persist.CheckDataCall(ctx, name); err != nil {
		return false, fmt.Errorf("disk: %w", err)
	}
	st, err := os.Stat(s.DataPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("disk: %w", err)
	}
	return st.Mode().IsRegular(), nil
}
