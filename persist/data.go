package persist

import (
	"context"
	"errors"
	"fmt"
	"io"

	"playground/dataset"
	"playground/engine"
	"playground/spec"
)

// DataStore keeps custom datasets (package dataset) beside the runs, each
// once, under its name: the SHA-256 of its canonical bytes. Checkpoints
// never hold the data; their spec names it. Every backend (disk, idb, r2,
// remote) implements it and passes storetest.RunData.
type DataStore interface {
	// PutData stores b as dataset name once it has checked that b is the
	// canonical bytes so named (CheckData): anything else is refused with
	// an error wrapping dataset.ErrDataset and nothing is stored. Storing
	// a dataset the store holds changes nothing.
	PutData(ctx context.Context, name string, b []byte) error
	// GetData returns dataset name's bytes; ErrNotExist if the store has
	// none, with an error saying where it looked.
	GetData(ctx context.Context, name string) ([]byte, error)
	// HasData reports whether the store holds dataset name.
	HasData(ctx context.Context, name string) (bool, error)
}

// CheckData returns the table whose canonical bytes b are, named name, or
// an error wrapping dataset.ErrDataset: what every DataStore checks
// before it stores and after it reads.
func CheckData(name string, b []byte) (*dataset.Table, error) {
	if len(b) > spec.MaxCustomBytes {
		return nil, fmt.Errorf("%w: dataset %s is over %d bytes", dataset.ErrDataset, name, spec.MaxCustomBytes)
	}
	return dataset.Decode(name, b)
}

// CheckPutData checks a PutData before it starts: CheckData's error, or
// else ctx's. Backends wrap it with their name.
func CheckPutData(ctx context.Context, name string, b []byte) error {
	if _, err := CheckData(name, b); err != nil {
		return err
	}
	return ctx.Err()
}

// ReadData reads the bytes a backend's storage hands back for dataset
// name from rc, and closes rc. More than spec.MaxCustomBytes is an error
// wrapping dataset.ErrDataset: no store holds such a dataset, so a reader
// that goes on does not fill memory.
func ReadData(name string, rc io.ReadCloser) ([]byte, error) {
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, spec.MaxCustomBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > spec.MaxCustomBytes {
		return nil, fmt.Errorf("%w: dataset %s is over %d bytes", dataset.ErrDataset, name, spec.MaxCustomBytes)
	}
	return b, nil
}

// ErrMissingData marks a run whose dataset a store does not hold; it
// wraps ErrNotExist too.
var ErrMissingData = errors.New("dataset missing")

// LoadData returns the table the spec trains on from ds: nil for a
// generated dataset (it needs none). A missing dataset is an error naming
// its hash and where ds looked (ErrMissingData); a damaged one says what
// is wrong.
func LoadData(ctx context.Context, ds DataStore, s spec.Spec) (*dataset.Table, error) {
	if s.Dataset.Kind != spec.CustomKind {
		return nil, nil
	}
	name := s.Dataset.SHA256
	b, err := ds.GetData(ctx, name)
	if errors.Is(err, ErrNotExist) {
		return nil, fmt.Errorf("%w: the run trains on dataset %s: %w", ErrMissingData, name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	t, err := CheckData(name, b)
	if err != nil {
		return nil, err
	}
	if err := t.Matches(s.Dataset); err != nil {
		return nil, err
	}
	return t, nil
}

// CheckDataName returns nil for a valid dataset name (64 lowercase hex
// digits), else an error wrapping dataset.ErrDataset that quotes it.
func CheckDataName(name string) error {
	if spec.ValidDatasetName(name) {
		return nil
	}
	if len(name) > 70 {
		name = name[:70] + "…"
	}
	return fmt.Errorf("%w: %q is no dataset name (64 lowercase hex digits)", dataset.ErrDataset, name)
}

// CheckDataCall checks a dataset call before it starts: CheckDataName's
// error, or else ctx's. Backends wrap it with their name.
func CheckDataCall(ctx context.Context, name string) error {
	if err := CheckDataName(name); err != nil {
		return err
	}
	return ctx.Err()
}

// Restore is engine.RestoreWith with the table the state's spec names
// read from ds (nil, or a store that is not a DataStore, for none): how a
// resume from a store finds a run's dataset. A missing one is
// ErrMissingData naming its hash and where ds looked.
func Restore(ctx context.Context, ds any, s engine.State) (*engine.Trainer, error) {
	var t *dataset.Table
	if s.Spec.Dataset.Kind == spec.CustomKind {
		d, ok := ds.(DataStore)
		if !ok {
			return nil, fmt.Errorf("%w: the run trains on dataset %s, and this store keeps no datasets", ErrMissingData, s.Spec.Dataset.SHA256)
		}
		var err error
		if t, err = LoadData(ctx, d, s.Spec); err != nil {
			return nil, err
		}
	}
	return engine.RestoreWith(s, t)
}
