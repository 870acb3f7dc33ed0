//go:build js && wasm

package idb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall/js"
	"testing"

	idblib "github.com/hack-pad/go-indexeddb/idb"

	"playground/engine"
	"playground/persist"
	"playground/persist/idb"
	"playground/persist/storetest"
	"playground/spec"
)

var dbSeq atomic.Int64

// newStore opens a fresh database. Under Node, IndexedDB comes from the npm
// package fake-indexeddb preloaded with NODE_OPTIONS (see the Makefile).
func newStore(t *testing.T, opt idb.Options) *idb.Store {
	t.Helper()
	if g := js.Global().Get("indexedDB"); g.IsUndefined() {
		if os.Getenv("PLAYGROUND_REQUIRE_IDB") != "" {
			t.Fatal("no indexedDB: preload fake-indexeddb (make wasm-test does)")
		}
		t.Skip("no indexedDB in this environment (preload fake-indexeddb to run)")
	}
	opt.Name = fmt.Sprintf("storetest-%d", dbSeq.Add(1))
	s, err := idb.Open(t.Context(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		idb.Delete(context.Background(), opt.Name)
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persist.Store { return newStore(t, idb.NewOptions()) })
}

// Tiny chunks and prefixes: Put loops many times and every Get reads past
// its prefix.
func TestConformanceSmall(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persist.Store {
		return newStore(t, idb.Options{ChunkSize: 7, PrefixLen: 5})
	})
}

func checkpoint(t *testing.T, run string, steps int) (string, []byte) {
	t.Helper()
	spec, err := spec.Preset("circle-sgd")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := engine.NewTrainer(spec)
	if err != nil {
		t.Fatal(err)
	}
	for range steps {
		tr.TrainStep()
	}
	c := &persist.Checkpoint{
		Meta:  persist.Meta{RunID: run, ID: persist.NewID(tr.Step), EngineVersion: engine.Version, Kind: persist.KindAutosave},
		State: tr.State(),
	}
	b, err := persist.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID, b
}

// blobReads counts the Gets read past their first 4 KB.
type blobReads struct {
	persist.Store
	full atomic.Int64
}

type countingReader struct {
	io.ReadCloser
	n    int
	full *atomic.Int64
	done bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += n
	if c.n > 4096 && !c.done {
		c.done = true
		c.full.Add(1)
	}
	return n, err
}

func (b *blobReads) Get(ctx context.Context, run, id string) (io.ReadCloser, error) {
	rc, err := b.Store.Get(ctx, run, id)
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, full: &b.full}, nil
}

// Listing headers and retention read only the stored prefix; Newest still
// verifies whole checkpoints.
func TestHeaderOnlyReads(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, idb.NewOptions())
	const run = "circle-1"
	var ids []string
	for i := range 4 {
		id, b := checkpoint(t, run, 10*(i+1))
		ids = append(ids, id)
		if err := s.Put(ctx, run, id, bytes.NewReader(b), persist.PutOptions{SetHead: true}); err != nil {
			t.Fatal(err)
		}
	}
	counted := &blobReads{Store: s}
	ls, err := persist.ListInfo(ctx, counted, run)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		if l.Err != nil || l.Info.Step != uint64(10*(i+1)) {
			t.Fatalf("ListInfo[%d] = step %d, %v", i, l.Info.Step, l.Err)
		}
	}
	if _, err := persist.Retain(ctx, counted, run, persist.Retention{KeepLast: 2}); err != nil {
		t.Fatal(err)
	}
	if n := counted.full.Load(); n != 0 {
		t.Errorf("ListInfo and Retain read %d whole checkpoints, want 0", n)
	}
	objs, _ := s.List(ctx, run)
	if len(objs) != 2 || objs[0].ID != ids[2] {
		t.Fatalf("after Retain: %v", objs)
	}
	c, skipped, err := persist.Newest(ctx, s, run)
	if err != nil || len(skipped) != 0 || c.State.Step != 40 {
		t.Fatalf("Newest = %v, %v, %v", c, skipped, err)
	}
}

// A reader whose blob is replaced or deleted after Get fails rather than
// mixing two writes.
func TestReaderSeesOneGeneration(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, idb.Options{PrefixLen: 16})
	const run = "r"
	id, b := checkpoint(t, run, 5)
	_, b2 := checkpoint(t, run, 6)
	if err := s.Put(ctx, run, id, bytes.NewReader(b), persist.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, run, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, run, id, bytes.NewReader(b2), persist.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); err == nil {
		t.Error("read of a replaced checkpoint succeeded")
	}
	rc, err = s.Get(ctx, run, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, run, id); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); !errors.Is(err, persist.ErrNotExist) {
		t.Errorf("read of a deleted checkpoint = %v, want ErrNotExist", err)
	}
}

func TestDataConformance(t *testing.T) {
	storetest.RunData(t, func(t *testing.T) persist.DataStore { return newStore(t, idb.NewOptions()) })
}

// A database of version 1 (before datasets) opens upgraded: its
// checkpoints stay, and it keeps datasets.
func TestUpgradeToDatasets(t *testing.T) {
	s := newStore(t, idb.NewOptions()) // for the skip and a name pattern
	s.Close()
	name := fmt.Sprintf("upgrade-%d", dbSeq.Add(1))
	t.Cleanup(func() { idb.Delete(context.Background(), name) })
	req, err := idblib.Global().Open(t.Context(), name, 1, func(db *idblib.Database, _, _ uint) error {
		for _, st := range []string{"objects", "blobs", "heads"} {
			if _, err := db.CreateObjectStore(st, idblib.ObjectStoreOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	old, err := req.Await(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	up, err := idb.Open(t.Context(), idb.Options{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	tab := storetest.Table(t, 11)
	if err := up.PutData(t.Context(), tab.Name(), tab.Canonical()); err != nil {
		t.Fatalf("PutData after the upgrade: %v", err)
	}
	if ok, err := up.HasData(t.Context(), tab.Name()); !ok || err != nil {
		t.Fatalf("HasData after the upgrade: %v, %v", ok, err)
	}
}
