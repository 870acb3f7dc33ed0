package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"playground/dataset"
	"playground/persist"
	"playground/persist/disk"
	"playground/persist/remote"
	"playground/spec"
)

// readTable reads and parses the CSV file of --data (a regular file of at
// most spec.MaxCustomBytes).
func readTable(path string) (*dataset.Table, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > spec.MaxCustomBytes {
		return nil, fmt.Errorf("%s has %d bytes: a dataset is at most %d", path, size, spec.MaxCustomBytes)
	}
	t, err := dataset.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// dataSpec is the spec of a new run on the table: the preset's or spec
// file's (if any) adapted to it, named after the file when it has no name.
func dataSpec(t *dataset.Table, file, preset, specFile string) (spec.Spec, error) {
	var s spec.Spec
	if preset != "" || specFile != "" {
		var err error
		if s, err = loadSpec(preset, specFile); err != nil {
			return s, err
		}
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	return t.Apply(s).Normalize()
}

// findData returns the table the spec trains on (nil for a generated
// dataset), from the first of the local stores that holds it, else from
// the server (copied into the first local store). A missing one is an
// error naming its hash and every place looked in.
func findData(ctx context.Context, s spec.Spec, locals []*disk.Store, server *remote.Store) (*dataset.Table, error) {
	if s.Dataset.Kind != spec.CustomKind {
		return nil, nil
	}
	name := s.Dataset.SHA256
	var looked []string
	for _, l := range locals {
		t, err := persist.LoadData(ctx, l, s)
		if !errors.Is(err, persist.ErrMissingData) {
			return t, err
		}
		looked = append(looked, l.DataPath(name))
	}
	if server != nil {
		t, err := persist.LoadData(ctx, server, s)
		if err == nil && len(locals) > 0 {
			err = locals[0].PutData(ctx, name, t.Canonical())
		}
		if !errors.Is(err, persist.ErrMissingData) {
			return t, err
		}
		looked = append(looked, server.DataURL(name))
	}
	return nil, fmt.Errorf("%w: the run trains on dataset %s (a CSV, never inside a checkpoint), which is not at %s", persist.ErrMissingData, name, strings.Join(looked, " nor at "))
}

// runDatasets lists the datasets that the run's checkpoints in store name.
func runDatasets(ctx context.Context, store persist.Store, run string) ([]string, error) {
	objs, err := store.List(ctx, run)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, o := range objs {
		info, err := persist.ReadInfo(ctx, store, run, o.ID)
		if err != nil {
			continue // a damaged checkpoint is reported where it is read whole
		}
		if d := info.Spec.Dataset; d.Kind == spec.CustomKind && !slices.Contains(names, d.SHA256) {
			names = append(names, d.SHA256)
		}
	}
	return names, nil
}

// pullData downloads the datasets the local store lacks.
func pullData(ctx context.Context, rs *remote.Store, local *disk.Store, names []string, stderr io.Writer) error {
	for _, name := range names {
		if has, err := local.HasData(ctx, name); err != nil || has {
			if err != nil {
				return err
			}
			continue
		}
		b, err := rs.GetData(ctx, name)
		if errors.Is(err, persist.ErrNotExist) {
			return fmt.Errorf("%w: the run trains on dataset %s, which is not at %s", persist.ErrMissingData, name, rs.DataURL(name))
		}
		if err != nil {
			return err
		}
		if err := local.PutData(ctx, name, b); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "pulled dataset %s (%d bytes)\n", name, len(b))
	}
	return nil
}

// fileStore is the store a checkpoint file lies in (<store>/<run>/<id>),
// if its grandparent directory is one; nil otherwise.
func fileStore(path string) *disk.Store {
	dir := filepath.Dir(filepath.Dir(path))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil
	}
	s, err := disk.New(dir, disk.NewOptions())
	if err != nil {
		return nil
	}
	return s
}
