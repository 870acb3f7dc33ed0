package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"playground/dataset"
	"playground/engine"
	"playground/spec"
	"playground/wasm/protocol"
)

// Custom data: a CSV the page uploads is parsed, stored once under its
// SHA-256 (Env.Data) and named by the spec of the runs that train on it;
// checkpoints never hold it, so every trainer the session makes from a
// spec or a state gets its table from here.

// DataStore keeps custom datasets by name, the SHA-256 of their canonical
// bytes (the methods of persist.DataStore): IndexedDB in the browser.
type DataStore interface {
	// PutData stores the canonical bytes b of dataset name, once.
	PutData(ctx context.Context, name string, b []byte) error
	// GetData returns dataset name's bytes (an error wrapping
	// persist.ErrNotExist when the store has none).
	GetData(ctx context.Context, name string) ([]byte, error)
}

// errNoData marks a run whose dataset is not in the store.
var errNoData = errors.New("dataset missing")

// tables are the datasets the session has read, by name. The loop, time
// travel and the syncer share them: a mutex guards the map.
type tables struct {
	store DataStore
	mu    sync.Mutex
	m     map[string]*dataset.Table
}

// of returns the table spec s trains on: nil for a generated dataset.
func (t *tables) of(ctx context.Context, s spec.Spec) (*dataset.Table, error) {
	if s.Dataset.Kind != spec.CustomKind {
		return nil, nil
	}
	name := s.Dataset.SHA256
	t.mu.Lock()
	defer t.mu.Unlock()
	if tb := t.m[name]; tb != nil {
		return tb, nil
	}
	if t.store == nil {
		return nil, fmt.Errorf("the run trains on dataset %s and this session keeps no datasets", name)
	}
	b, err := t.store.GetData(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%w: the run trains on dataset %s, which is not here (upload its CSV): %v", errNoData, name, err)
	}
	tb, err := dataset.Decode(name, b)
	if err != nil {
		return nil, fmt.Errorf("stored dataset %s: %w", name, err)
	}
	t.add(tb)
	return tb, nil
}

// add keeps tb (t.mu held).
func (t *tables) add(tb *dataset.Table) {
	if t.m == nil {
		t.m = map[string]*dataset.Table{}
	}
	t.m[tb.Name()] = tb
}

// trainer is engine.NewTrainer with the spec's table.
func (t *tables) trainer(ctx context.Context, s spec.Spec) (*engine.Trainer, error) {
	tb, err := t.of(ctx, s)
	if err != nil {
		return nil, err
	}
	return engine.NewTrainerWith(s, tb)
}

// restore is engine.Restore with the state's table.
func (t *tables) restore(ctx context.Context, st engine.State) (*engine.Trainer, error) {
	tb, err := t.of(ctx, st.Spec)
	if err != nil {
		return nil, err
	}
	return engine.RestoreWith(st, tb)
}

// cmdDataset parses the page's CSV, stores it (only when it has no
// defect) and answers with the page's draft applied to it.
func (l *loop) cmdDataset(ctx context.Context, c protocol.Command, data []byte) {
	tb, err := dataset.Read(bytes.NewReader(data))
	if err != nil {
		l.fail(c.Seq, "CSV: %v", err)
		return
	}
	var draft spec.Spec
	if len(c.Spec) > 0 {
		if draft, err = spec.ParseSpec(c.Spec); err != nil {
			draft = spec.Spec{}
		}
	}
	s := tb.Apply(draft)
	s.Name = "csv-" + tb.Name()[:8]
	if s, err = s.Normalize(); err != nil {
		l.fail(c.Seq, "CSV: the settings cannot train on it: %v", err)
		return
	}
	if l.tables.store == nil {
		l.fail(c.Seq, "CSV: this session keeps no datasets")
		return
	}
	if err := l.tables.store.PutData(ctx, tb.Name(), tb.Canonical()); err != nil {
		l.fail(c.Seq, "CSV: storing dataset %s: %v", tb.Name(), err)
		return
	}
	l.tables.mu.Lock()
	l.tables.add(tb)
	l.tables.mu.Unlock()
	l.emit(protocol.Event{Type: protocol.EvDataset, Seq: c.Seq, Dataset: &protocol.Dataset{
		SHA256: tb.Name(), Rows: tb.Rows(), Names: tb.Names, Classes: tb.Classes, Test: tb.TestRows(),
		Split: tb.Test != nil, Bytes: len(tb.Canonical()), Spec: s.JSON(),
	}})
}
