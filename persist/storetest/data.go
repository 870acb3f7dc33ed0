package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"playground/dataset"
	"playground/engine"
	"playground/persist"
	"playground/spec"
)

// Table is a small valid dataset, different for each seed: what the data
// suite stores and the backends' own tests may use.
func Table(tb testing.TB, seed int) *dataset.Table {
	tb.Helper()
	var b strings.Builder
	b.WriteString("u,v,class:3,split\n")
	for i := range 12 {
		fmt.Fprintf(&b, "%d.5,%d,%d,%s\n", i*seed%17, i-seed, i%3, map[bool]string{true: "test", false: "train"}[i%4 == 0])
	}
	t, err := dataset.Parse([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// RunData runs the conformance suite of persist.DataStore as subtests;
// newStore must return a new, empty store each time. A store that is also
// a persist.Store must not list its datasets as runs.
func RunData(t *testing.T, newStore func(t *testing.T) persist.DataStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s persist.DataStore)
	}{
		{"RoundTrip", testDataRoundTrip},
		{"Missing", testDataMissing},
		{"Refused", testDataRefused},
		{"BadNames", testDataBadNames},
		{"Cancelled", testDataCancelled},
		{"LoadData", testLoadData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testDataRoundTrip(t *testing.T, s persist.DataStore) {
	tab := Table(t, 3)
	b := tab.Canonical()
	for range 2 { // a second put of the same dataset changes nothing
		if err := s.PutData(t.Context(), tab.Name(), b); err != nil {
			t.Fatalf("PutData: %v", err)
		}
	}
	got, err := s.GetData(t.Context(), tab.Name())
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("GetData: %v (%d bytes, want %d)", err, len(got), len(b))
	}
	if ok, err := s.HasData(t.Context(), tab.Name()); err != nil || !ok {
		t.Fatalf("HasData = %v, %v after a put", ok, err)
	}
	if runs, ok := s.(persist.Store); ok {
		if r, err := runs.Runs(t.Context()); err != nil || len(r) != 0 {
			t.Fatalf("Runs = %v, %v: a dataset is no run", r, err)
		}
	}
}

func testDataMissing(t *testing.T, s persist.DataStore) {
	name := Table(t, 4).Name()
	_, err := s.GetData(t.Context(), name)
	if !errors.Is(err, persist.ErrNotExist) || !strings.Contains(err.Error(), name) {
		t.Fatalf("GetData of a missing dataset: %v, want ErrNotExist naming it", err)
	}
	if ok, err := s.HasData(t.Context(), name); err != nil || ok {
		t.Fatalf("HasData = %v, %v for a missing dataset", ok, err)
	}
}

// testDataRefused: bytes that are not their name's canonical dataset are
// refused, and nothing is stored under either name.
func testDataRefused(t *testing.T, s persist.DataStore) {
	a, b := Table(t, 5), Table(t, 6)
	raw := bytes.Replace(a.Canonical(), []byte(".5,"), []byte(".50,"), 1)
	for _, c := range []struct {
		what string
		name string
		body []byte
	}{
		{"another dataset's bytes", a.Name(), b.Canonical()},
		{"one changed byte", a.Name(), append(bytes.Clone(a.Canonical()[:len(a.Canonical())-2]), 'x', '\n')},
		{"non-canonical bytes under their own hash", dataset.Name(raw), raw},
		{"empty", dataset.Name(nil), nil},
	} {
		err := s.PutData(t.Context(), c.name, c.body)
		if !errors.Is(err, dataset.ErrDataset) {
			t.Errorf("%s: PutData = %v, want dataset.ErrDataset", c.what, err)
		}
	}
	for _, name := range []string{a.Name(), b.Name(), dataset.Name(raw)} {
		if ok, err := s.HasData(t.Context(), name); err != nil || ok {
			t.Errorf("HasData(%s) = %v, %v after refused puts", name, ok, err)
		}
	}
}

// testDataCancelled: a put under a cancelled context stores nothing and
// says so; bad bytes are still named as such first.
func testDataCancelled(t *testing.T, s persist.DataStore) {
	tab := Table(t, 8)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.PutData(ctx, tab.Name(), tab.Canonical()); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutData under a cancelled context = %v, want context.Canceled", err)
	}
	if err := s.PutData(ctx, tab.Name(), nil); !errors.Is(err, dataset.ErrDataset) {
		t.Fatalf("PutData of no bytes under a cancelled context = %v, want dataset.ErrDataset", err)
	}
	if ok, err := s.HasData(t.Context(), tab.Name()); err != nil || ok {
		t.Fatalf("HasData = %v, %v after a cancelled put", ok, err)
	}
}

func testDataBadNames(t *testing.T, s persist.DataStore) {
	good := Table(t, 7)
	for _, name := range []string{"", "../x", strings.ToUpper(good.Name()), good.Name() + "0", "runs/" + good.Name()[:59]} {
		if err := s.PutData(t.Context(), name, good.Canonical()); err == nil {
			t.Errorf("PutData(%q) succeeded", name)
		}
		if _, err := s.GetData(t.Context(), name); err == nil {
			t.Errorf("GetData(%q) succeeded", name)
		}
		if ok, err := s.HasData(t.Context(), name); err == nil || ok {
			t.Errorf("HasData(%q) = %v, %v", name, ok, err)
		}
	}
}

func testLoadData(t *testing.T, s persist.DataStore) {
	tab := Table(t, 8)
	sp, err := tab.Apply(spec.Spec{}).Normalize()
	if err != nil {
		t.Fatal(err)
	}
	_, err = persist.LoadData(t.Context(), s, sp)
	if !errors.Is(err, persist.ErrMissingData) || !errors.Is(err, persist.ErrNotExist) || !strings.Contains(err.Error(), tab.Name()) {
		t.Fatalf("LoadData before the put: %v, want ErrMissingData naming %s", err, tab.Name())
	}
	if err := s.PutData(t.Context(), tab.Name(), tab.Canonical()); err != nil {
		t.Fatal(err)
	}
	got, err := persist.LoadData(t.Context(), s, sp)
	if err != nil || got.Name() != tab.Name() || got.Rows() != tab.Rows() {
		t.Fatalf("LoadData: %v", err)
	}
	gen, _ := spec.Preset("circle-sgd")
	if got, err := persist.LoadData(t.Context(), s, gen); got != nil || err != nil {
		t.Fatalf("LoadData of a generated dataset: %v, %v; want nothing", got, err)
	}
	tr, err := engine.NewTrainerWith(sp, tab)
	if err != nil {
		t.Fatal(err)
	}
	tr.TrainStep()
	back, err := persist.Restore(t.Context(), s, tr.State())
	if err != nil || back.Step != 1 || back.Data.Train.N != tr.Data.Train.N {
		t.Fatalf("Restore: %v", err)
	}
	if _, err := persist.Restore(t.Context(), nil, tr.State()); !errors.Is(err, persist.ErrMissingData) || !strings.Contains(err.Error(), tab.Name()) {
		t.Fatalf("Restore without a DataStore: %v", err)
	}
}
