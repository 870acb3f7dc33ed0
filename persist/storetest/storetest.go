// Package storetest is the conformance suite every persist.Store backend
// runs from its own tests: storetest.Run(t, newStore).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/spec"
)

// Options say what the suite expects of a store.
type Options struct {
	// Checked: the store decodes what it is given, as playground/server
	// does behind persist/remote. It refuses a file that is not a valid
	// checkpoint of the run and id it is put as, an id that does not name
	// its step (persist.NewID's form), and different bytes under an id it
	// holds; identical bytes again are fine. The suite then puts only such
	// files, and expects refusals where a plain store overwrites.
	Checked bool
}

// Run runs the suite for a plain store (one that stores bytes as given)
// as subtests; newStore must return a new, empty store each time it is
// called.
func Run(t *testing.T, newStore func(t *testing.T) persist.Store) {
	RunWith(t, newStore, Options{})
}

// RunWith runs the suite with opt.
func RunWith(t *testing.T, newStore func(t *testing.T) persist.Store, opt Options) {
	f := newFixture(t)
	f.checked = opt.Checked
	tests := []struct {
		name string
		fn   func(t *testing.T, s persist.Store, f *fixture)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"ListSorted", testListSorted},
		{"ListUnknownRun", testListUnknownRun},
		{"Missing", testMissing},
		{"Head", testHead},
		{"CheckHead", testCheckHead},
		{"MoveHead", testMoveHead},
		{"DeleteHead", testDeleteHead},
		{"Runs", testRuns},
		{"BadIDs", testBadIDs},
		{"FailingReader", testFailingReader},
		{"Concurrent", testConcurrent},
		{"Canceled", testCanceled},
		{"NewestSkipsUnrestorable", testNewestSkipsUnrestorable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t), f) })
	}
}

// fixture holds real checkpoint bytes of one small trained run, one per
// step, shared read-only by the subtests.
type fixture struct {
	run     string
	ids     []string // ids[i] is the checkpoint after step i+1
	blobs   [][]byte
	states  []engine.State
	checked bool

	mu    sync.Mutex
	files map[string][]byte // file's cache
}

// file is a valid checkpoint of the state after step i+1, as checkpoint
// id of run, of kind (another kind: other bytes of the same state).
func (f *fixture) file(t *testing.T, run, id string, i int, kind string) []byte {
	t.Helper()
	key := run + "/" + id + "/" + fmt.Sprint(i) + "/" + kind
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.files[key]; ok {
		return b
	}
	b, err := persist.Encode(&persist.Checkpoint{
		Meta: persist.Meta{
			RunID: run, ID: id, Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
			EngineVersion: engine.Version, Kind: kind,
		},
		State: f.states[i],
	})
	if err != nil {
		t.Fatalf("storetest: encode %s: %v", key, err)
	}
	f.files[key] = b
	return b
}

const fixtureSteps = 8

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f, err := buildFixture()
	if err != nil {
		t.Fatalf("storetest: building fixture: %v", err)
	}
	return f
}

func buildFixture() (*fixture, error) {
	spec, err := spec.Preset("gauss-nesterov")
	if err != nil {
		return nil, err
	}
	tr, err := engine.NewTrainer(spec)
	if err != nil {
		return nil, err
	}
	f := &fixture{run: persist.NewRunID("storetest"), files: map[string][]byte{}}
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for range fixtureSteps {
		tr.TrainStep()
		id := persist.NewID(tr.Step)
		if err := persist.CheckIDs(f.run, id); err != nil {
			return nil, err
		}
		b, err := persist.Encode(&persist.Checkpoint{
			Meta: persist.Meta{
				RunID:         f.run,
				ID:            id,
				Created:       created.Add(time.Duration(tr.Step) * time.Second),
				EngineVersion: engine.Version,
				Kind:          persist.KindAutosave,
			},
			State: tr.State(),
		})
		if err != nil {
			return nil, fmt.Errorf("encode step %d: %w", tr.Step, err)
		}
		f.ids = append(f.ids, id)
		f.blobs = append(f.blobs, b)
		f.states = append(f.states, tr.State())
	}
	if !slices.IsSorted(f.ids) {
		return nil, fmt.Errorf("NewID does not sort by step: %q", f.ids)
	}
	return f, nil
}

func put(t *testing.T, s persist.Store, run, id string, b []byte, opt persist.PutOptions) {
	t.Helper()
	if err := s.Put(t.Context(), run, id, bytes.NewReader(b), opt); err != nil {
		t.Fatalf("Put(%s, %s): %v", run, id, err)
	}
}

func get(t *testing.T, s persist.Store, run, id string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), run, id)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", run, id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%s, %s): read: %v", run, id, err)
	}
	return b
}

func list(t *testing.T, s persist.Store, run string) []persist.Object {
	t.Helper()
	objs, err := s.List(t.Context(), run)
	if err != nil {
		t.Fatalf("List(%s): %v", run, err)
	}
	return objs
}

func head(t *testing.T, s persist.Store, run string) string {
	t.Helper()
	id, err := s.Head(t.Context(), run)
	if err != nil {
		t.Fatalf("Head(%s): %v", run, err)
	}
	return id
}

func wantNotExist(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, persist.ErrNotExist) {
		t.Errorf("%s: err = %v, want ErrNotExist", what, err)
	}
}

func wantGetNotExist(t *testing.T, s persist.Store, run, id string) {
	t.Helper()
	rc, err := s.Get(t.Context(), run, id)
	if err == nil {
		rc.Close()
	}
	wantNotExist(t, fmt.Sprintf("Get(%s, %s)", run, id), err)
}

func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: got %d bytes, want %d (contents differ)", what, len(got), len(want))
	}
}

func wantObjects(t *testing.T, what string, got, want []persist.Object) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func testRoundTrip(t *testing.T, s persist.Store, f *fixture) {
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{})
	b := get(t, s, f.run, f.ids[0])
	wantBytes(t, "Get", b, f.blobs[0])
	if err := persist.Verify(b); err != nil {
		t.Errorf("Verify(Get): %v", err)
	}
	wantObjects(t, "List", list(t, s, f.run), []persist.Object{{ID: f.ids[0], Size: int64(len(f.blobs[0]))}})
}

func testOverwrite(t *testing.T, s persist.Store, f *fixture) {
	id := f.ids[0]
	other := f.file(t, f.run, id, 0, persist.KindPinned) // the same state and id, other bytes
	put(t, s, f.run, id, f.blobs[0], persist.PutOptions{})
	if f.checked {
		put(t, s, f.run, id, f.blobs[0], persist.PutOptions{}) // identical bytes again
		if err := s.Put(t.Context(), f.run, id, bytes.NewReader(other), persist.PutOptions{}); err == nil {
			t.Errorf("Put of other bytes under an existing id: no error")
		}
		if err := s.Put(t.Context(), f.run, id, bytes.NewReader([]byte("short")), persist.PutOptions{}); err == nil {
			t.Errorf("Put of bytes that are not a checkpoint: no error")
		}
		if err := s.Put(t.Context(), f.run, f.ids[1], bytes.NewReader(f.blobs[2]), persist.PutOptions{}); err == nil {
			t.Errorf("Put of a checkpoint under another id: no error")
		}
		if err := s.Put(t.Context(), "other", f.ids[2], bytes.NewReader(f.blobs[2]), persist.PutOptions{}); err == nil {
			t.Errorf("Put of a checkpoint under another run: no error")
		}
		wantBytes(t, "Get after refused overwrites", get(t, s, f.run, id), f.blobs[0])
		wantObjects(t, "List", list(t, s, f.run), []persist.Object{{ID: id, Size: int64(len(f.blobs[0]))}})
		return
	}
	put(t, s, f.run, id, other, persist.PutOptions{})
	wantBytes(t, "Get after overwrite", get(t, s, f.run, id), other)
	put(t, s, f.run, id, []byte("short"), persist.PutOptions{}) // the store does not parse
	wantBytes(t, "Get after shorter overwrite", get(t, s, f.run, id), []byte("short"))
	wantObjects(t, "List", list(t, s, f.run), []persist.Object{{ID: id, Size: 5}})
}

func testListSorted(t *testing.T, s persist.Store, f *fixture) {
	// Ids that sort differently from their file or key names with a
	// suffix appended ("a-b.x" < "a.x" but "a" < "a-b").
	extra := []string{"a", "a-b", "a.b", "a_b", "a0"}
	order := []int{5, 0, 7, 2, 6, 1, 4, 3}
	var want []persist.Object
	for _, i := range order {
		put(t, s, f.run, f.ids[i], f.blobs[i], persist.PutOptions{})
		want = append(want, persist.Object{ID: f.ids[i], Size: int64(len(f.blobs[i]))})
	}
	for i, id := range extra {
		b := f.file(t, f.run, id, i, persist.KindAutosave)
		if f.checked {
			// Refused: the id does not name a step.
			if err := s.Put(t.Context(), f.run, id, bytes.NewReader(b), persist.PutOptions{}); err == nil {
				t.Errorf("Put(%s) of an id without a step: no error", id)
			}
			continue
		}
		put(t, s, f.run, id, b, persist.PutOptions{})
		want = append(want, persist.Object{ID: id, Size: int64(len(b))})
	}
	put(t, s, "other", f.ids[0], f.file(t, "other", f.ids[0], 0, persist.KindAutosave), persist.PutOptions{})
	slices.SortFunc(want, func(a, b persist.Object) int { return strings.Compare(a.ID, b.ID) })
	wantObjects(t, "List", list(t, s, f.run), want)
}

func testListUnknownRun(t *testing.T, s persist.Store, f *fixture) {
	wantObjects(t, "List(unknown) on empty store", list(t, s, "unknown"), nil)
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{})
	wantObjects(t, "List(unknown)", list(t, s, "unknown"), nil)
}

func testMissing(t *testing.T, s persist.Store, f *fixture) {
	ctx := t.Context()
	wantGetNotExist(t, s, "unknown", f.ids[0])
	wantNotExist(t, "Delete(unknown run)", s.Delete(ctx, "unknown", f.ids[0]))
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{})
	put(t, s, f.run, f.ids[1], f.blobs[1], persist.PutOptions{})
	wantGetNotExist(t, s, f.run, f.ids[2])
	wantNotExist(t, "Delete(missing id)", s.Delete(ctx, f.run, f.ids[2]))
	if err := s.Delete(ctx, f.run, f.ids[0]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantGetNotExist(t, s, f.run, f.ids[0])
	wantNotExist(t, "Delete twice", s.Delete(ctx, f.run, f.ids[0]))
	wantObjects(t, "List after Delete", list(t, s, f.run),
		[]persist.Object{{ID: f.ids[1], Size: int64(len(f.blobs[1]))}})
}

func testHead(t *testing.T, s persist.Store, f *fixture) {
	_, err := s.Head(t.Context(), f.run)
	wantNotExist(t, "Head(unknown run)", err)
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{})
	_, err = s.Head(t.Context(), f.run)
	wantNotExist(t, "Head after Put without SetHead", err)

	put(t, s, f.run, f.ids[1], f.blobs[1], persist.PutOptions{SetHead: true})
	if got := head(t, s, f.run); got != f.ids[1] {
		t.Errorf("Head = %q, want %q", got, f.ids[1])
	}
	put(t, s, f.run, f.ids[2], f.blobs[2], persist.PutOptions{})
	if got := head(t, s, f.run); got != f.ids[1] {
		t.Errorf("Head after Put without SetHead = %q, want %q", got, f.ids[1])
	}
	// The head may move to an older id: restoring an earlier checkpoint.
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{SetHead: true})
	if got := head(t, s, f.run); got != f.ids[0] {
		t.Errorf("Head after SetHead to older = %q, want %q", got, f.ids[0])
	}
	if _, err := s.Head(t.Context(), "other"); !errors.Is(err, persist.ErrNotExist) {
		t.Errorf("Head(other run) = %v, want ErrNotExist", err)
	}
}

// testMoveHead: a persist.HeadMover moves the head only to a checkpoint
// it holds, only from the head the caller names, and never rewrites the
// checkpoint.
func testMoveHead(t *testing.T, s persist.Store, f *fixture) {
	m, ok := s.(persist.HeadMover)
	if !ok {
		t.Skip("not a persist.HeadMover: the store moves a head only with a Put")
	}
	ctx := t.Context()
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{SetHead: true})
	put(t, s, f.run, f.ids[1], f.blobs[1], persist.PutOptions{})
	if err := m.MoveHead(ctx, f.run, f.ids[2], persist.PutOptions{}); !errors.Is(err, persist.ErrNotExist) {
		t.Errorf("MoveHead to a checkpoint the store lacks = %v, want ErrNotExist", err)
	}
	if err := m.MoveHead(ctx, "nothing", f.ids[0], persist.PutOptions{CheckHead: true}); !errors.Is(err, persist.ErrNotExist) {
		t.Errorf("MoveHead in a run the store lacks = %v, want ErrNotExist", err)
	}
	if err := m.MoveHead(ctx, f.run, f.ids[1], persist.PutOptions{CheckHead: true, IfHead: f.ids[1]}); !errors.Is(err, persist.ErrHeadMoved) {
		t.Errorf("MoveHead from a stale head = %v, want ErrHeadMoved", err)
	}
	if got := head(t, s, f.run); got != f.ids[0] {
		t.Fatalf("Head after refused moves = %q, want %q", got, f.ids[0])
	}
	if err := m.MoveHead(ctx, f.run, f.ids[1], persist.PutOptions{CheckHead: true, IfHead: f.ids[0]}); err != nil {
		t.Fatalf("MoveHead from the head: %v", err)
	}
	if got := head(t, s, f.run); got != f.ids[1] {
		t.Errorf("Head = %q, want %q", got, f.ids[1])
	}
	// Back, without a check.
	if err := m.MoveHead(ctx, f.run, f.ids[0], persist.PutOptions{}); err != nil {
		t.Fatalf("MoveHead back: %v", err)
	}
	if got := head(t, s, f.run); got != f.ids[0] {
		t.Errorf("Head = %q, want %q", got, f.ids[0])
	}
	wantBytes(t, "Get after the moves", get(t, s, f.run, f.ids[1]), f.blobs[1])
	wantObjects(t, "List after the moves", list(t, s, f.run), []persist.Object{{ID: f.ids[0], Size: int64(len(f.blobs[0]))}, {ID: f.ids[1], Size: int64(len(f.blobs[1]))}})
}

func testCheckHead(t *testing.T, s persist.Store, f *fixture) {
	ctx := t.Context()
	// IfHead "" on a fresh run.
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{SetHead: true, CheckHead: true})
	if got := head(t, s, f.run); got != f.ids[0] {
		t.Fatalf("Head = %q, want %q", got, f.ids[0])
	}
	before := list(t, s, f.run)

	for _, ifHead := range []string{"", f.ids[1], "nothing"} {
		for _, setHead := range []bool{false, true} {
			err := s.Put(ctx, f.run, f.ids[2], bytes.NewReader(f.blobs[2]),
				persist.PutOptions{SetHead: setHead, CheckHead: true, IfHead: ifHead})
			if !errors.Is(err, persist.ErrHeadMoved) {
				t.Errorf("Put(IfHead %q, SetHead %v) = %v, want ErrHeadMoved", ifHead, setHead, err)
			}
		}
	}
	wantGetNotExist(t, s, f.run, f.ids[2])
	wantObjects(t, "List after refused Puts", list(t, s, f.run), before)
	if got := head(t, s, f.run); got != f.ids[0] {
		t.Errorf("Head after refused Puts = %q, want %q", got, f.ids[0])
	}

	// A refused overwrite keeps the old bytes (a checked store may refuse
	// it for its other bytes first).
	err := s.Put(ctx, f.run, f.ids[0], bytes.NewReader(f.file(t, f.run, f.ids[0], 0, persist.KindPinned)), persist.PutOptions{CheckHead: true, IfHead: f.ids[1]})
	if !errors.Is(err, persist.ErrHeadMoved) && (!f.checked || err == nil) {
		t.Errorf("overwriting Put with wrong IfHead = %v, want ErrHeadMoved", err)
	}
	wantBytes(t, "Get after refused overwrite", get(t, s, f.run, f.ids[0]), f.blobs[0])

	// The right IfHead succeeds, with and without moving the head.
	put(t, s, f.run, f.ids[1], f.blobs[1], persist.PutOptions{CheckHead: true, IfHead: f.ids[0]})
	if got := head(t, s, f.run); got != f.ids[0] {
		t.Errorf("Head after CheckHead without SetHead = %q, want %q", got, f.ids[0])
	}
	put(t, s, f.run, f.ids[2], f.blobs[2], persist.PutOptions{SetHead: true, CheckHead: true, IfHead: f.ids[0]})
	if got := head(t, s, f.run); got != f.ids[2] {
		t.Errorf("Head after CheckHead+SetHead = %q, want %q", got, f.ids[2])
	}
	wantBytes(t, "Get", get(t, s, f.run, f.ids[2]), f.blobs[2])

	// A run without a head, but with checkpoints, matches IfHead "".
	put(t, s, "other", f.ids[0], f.file(t, "other", f.ids[0], 0, persist.KindAutosave), persist.PutOptions{})
	put(t, s, "other", f.ids[1], f.file(t, "other", f.ids[1], 1, persist.KindAutosave), persist.PutOptions{SetHead: true, CheckHead: true})
	if got := head(t, s, "other"); got != f.ids[1] {
		t.Errorf("Head(other) = %q, want %q", got, f.ids[1])
	}
}

func testDeleteHead(t *testing.T, s persist.Store, f *fixture) {
	ctx := t.Context()
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{})
	put(t, s, f.run, f.ids[1], f.blobs[1], persist.PutOptions{SetHead: true})
	if err := s.Delete(ctx, f.run, f.ids[0]); err != nil {
		t.Fatalf("Delete(not head): %v", err)
	}
	if got := head(t, s, f.run); got != f.ids[1] {
		t.Errorf("Head after deleting another = %q, want %q", got, f.ids[1])
	}
	if err := s.Delete(ctx, f.run, f.ids[1]); err != nil {
		t.Fatalf("Delete(head): %v", err)
	}
	_, err := s.Head(ctx, f.run)
	wantNotExist(t, "Head after deleting it", err)
	// The run can get a head again, and CheckHead sees it has none.
	put(t, s, f.run, f.ids[2], f.blobs[2], persist.PutOptions{SetHead: true, CheckHead: true})
	if got := head(t, s, f.run); got != f.ids[2] {
		t.Errorf("Head = %q, want %q", got, f.ids[2])
	}
}

func testRuns(t *testing.T, s persist.Store, f *fixture) {
	ctx := t.Context()
	runs := func() []string {
		t.Helper()
		r, err := s.Runs(ctx)
		if err != nil {
			t.Fatalf("Runs: %v", err)
		}
		return r
	}
	if r := runs(); len(r) != 0 {
		t.Errorf("Runs of empty store = %q, want none", r)
	}
	for _, run := range []string{"run-b", "run-a", "run-c", "run-a", "run.a", "run-a-2"} {
		put(t, s, run, f.ids[0], f.file(t, run, f.ids[0], 0, persist.KindAutosave), persist.PutOptions{SetHead: true})
	}
	// A failed Put does not make a run.
	failed := f.file(t, "run-failed", f.ids[0], 0, persist.KindAutosave)
	s.Put(ctx, "run-failed", f.ids[0], io.MultiReader(bytes.NewReader(failed[:10]), iotest.ErrReader(errors.New("boom"))), persist.PutOptions{})
	want := []string{"run-a", "run-a-2", "run-b", "run-c", "run.a"}
	if r := runs(); !slices.Equal(r, want) {
		t.Errorf("Runs = %q, want %q", r, want)
	}
	if err := s.Delete(ctx, "run-b", f.ids[0]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	want = slices.DeleteFunc(want, func(r string) bool { return r == "run-b" })
	if r := runs(); !slices.Equal(r, want) {
		t.Errorf("Runs after emptying run-b = %q, want %q", r, want)
	}
}

// badIDs are names that ValidID rejects: paths, upper case, empty, too
// long, dot names.
var badIDs = []string{"../x", "", "A", "a/b", strings.Repeat("a", 65), ".", "..", ".hidden", "a\\b", "a\x00", "a b", "HEAD"}

func testBadIDs(t *testing.T, s persist.Store, f *fixture) {
	ctx := t.Context()
	good := f.ids[0]
	put(t, s, f.run, good, f.blobs[0], persist.PutOptions{SetHead: true})
	want := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, persist.ErrBadID) {
			t.Errorf("%s = %v, want ErrBadID", what, err)
		}
	}
	for _, bad := range badIDs {
		q := fmt.Sprintf("%q", bad)
		want("Put(run "+q+")", s.Put(ctx, bad, good, bytes.NewReader(f.blobs[0]), persist.PutOptions{}))
		want("Put(id "+q+")", s.Put(ctx, f.run, bad, bytes.NewReader(f.blobs[0]), persist.PutOptions{SetHead: true}))
		if bad != "" {
			// No head can equal an invalid id: either refusal will do.
			err := s.Put(ctx, f.run, f.ids[1], bytes.NewReader(f.blobs[1]), persist.PutOptions{CheckHead: true, IfHead: bad})
			if !errors.Is(err, persist.ErrBadID) && !errors.Is(err, persist.ErrHeadMoved) {
				t.Errorf("Put(IfHead %s) = %v, want ErrBadID or ErrHeadMoved", q, err)
			}
		}
		for _, a := range [][2]string{{bad, good}, {f.run, bad}} {
			rc, err := s.Get(ctx, a[0], a[1])
			if err == nil {
				rc.Close()
			}
			want(fmt.Sprintf("Get(%q, %q)", a[0], a[1]), err)
			want(fmt.Sprintf("Delete(%q, %q)", a[0], a[1]), s.Delete(ctx, a[0], a[1]))
		}
		_, err := s.List(ctx, bad)
		want("List("+q+")", err)
		_, err = s.Head(ctx, bad)
		want("Head("+q+")", err)
	}
	// Nothing was stored or changed.
	wantObjects(t, "List", list(t, s, f.run), []persist.Object{{ID: good, Size: int64(len(f.blobs[0]))}})
	if got := head(t, s, f.run); got != good {
		t.Errorf("Head = %q, want %q", got, good)
	}
	if r, err := s.Runs(ctx); err != nil || !slices.Equal(r, []string{f.run}) {
		t.Errorf("Runs = %q, %v; want [%q]", r, err, f.run)
	}
}

func testFailingReader(t *testing.T, s persist.Store, f *fixture) {
	ctx := t.Context()
	boom := errors.New("boom")
	failing := func(b []byte) io.Reader {
		return io.MultiReader(bytes.NewReader(b[:len(b)/2]), iotest.ErrReader(boom))
	}
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{SetHead: true})
	before := list(t, s, f.run)

	if err := s.Put(ctx, f.run, f.ids[1], failing(f.blobs[1]), persist.PutOptions{}); err == nil {
		t.Errorf("Put of failing reader: no error")
	}
	if err := s.Put(ctx, f.run, f.ids[2], failing(f.blobs[2]), persist.PutOptions{SetHead: true}); err == nil {
		t.Errorf("Put of failing reader with SetHead: no error")
	}
	if err := s.Put(ctx, f.run, f.ids[0], failing(f.blobs[3]), persist.PutOptions{SetHead: true}); err == nil {
		t.Errorf("overwriting Put of failing reader: no error")
	}
	wantGetNotExist(t, s, f.run, f.ids[1])
	wantGetNotExist(t, s, f.run, f.ids[2])
	wantBytes(t, "Get after failed overwrite", get(t, s, f.run, f.ids[0]), f.blobs[0])
	wantObjects(t, "List", list(t, s, f.run), before)
	if got := head(t, s, f.run); got != f.ids[0] {
		t.Errorf("Head = %q, want %q", got, f.ids[0])
	}
}

func testConcurrent(t *testing.T, s persist.Store, f *fixture) {
	const n = 8
	ctx := t.Context()
	// n writes of one id at once: different bytes for a plain store (one
	// wins whole), the same bytes for a checked one (which refuses others).
	sameID := "same-id"
	if f.checked {
		sameID = f.ids[0]
	}
	same := make([][]byte, n)
	for i := range same {
		same[i] = f.file(t, "same", sameID, i, persist.KindAutosave)
		if f.checked {
			same[i] = f.file(t, "same", sameID, 0, persist.KindAutosave)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			if err := s.Put(ctx, f.run, f.ids[i], bytes.NewReader(f.blobs[i]), persist.PutOptions{}); err != nil {
				errs <- fmt.Errorf("Put(%s): %w", f.ids[i], err)
			}
		})
		wg.Go(func() {
			if err := s.Put(ctx, "same", sameID, bytes.NewReader(same[i]), persist.PutOptions{SetHead: true}); err != nil {
				errs <- fmt.Errorf("Put(same): %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var want []persist.Object
	for i := range n {
		wantBytes(t, "Get("+f.ids[i]+")", get(t, s, f.run, f.ids[i]), f.blobs[i])
		want = append(want, persist.Object{ID: f.ids[i], Size: int64(len(f.blobs[i]))})
	}
	wantObjects(t, "List", list(t, s, f.run), want)
	got := get(t, s, "same", sameID)
	if !slices.ContainsFunc(same, func(b []byte) bool { return bytes.Equal(b, got) }) {
		t.Errorf("Get(%s) = %d bytes, not any one of the writes", sameID, len(got))
	}
	if objs := list(t, s, "same"); len(objs) != 1 || objs[0].ID != sameID || objs[0].Size != int64(len(got)) {
		t.Errorf("List(same) = %v, want [{%s %d}]", objs, sameID, len(got))
	}
	if h := head(t, s, "same"); h != sameID {
		t.Errorf("Head(same) = %q, want %s", h, sameID)
	}
}

// cancelingReader cancels its context on the first Read, then offers
// cancelOffer more bytes: a Put that checks ctx while copying stops long
// before the end.
type cancelingReader struct {
	cancel context.CancelFunc
	n      int // bytes read
}

const (
	cancelOffer = 64 << 20
	cancelBound = 16 << 20 // most a Put may read after the cancel
)

func (c *cancelingReader) Read(p []byte) (int, error) {
	c.cancel()
	if c.n >= cancelOffer {
		return 0, io.EOF
	}
	n := min(len(p), cancelOffer-c.n)
	clear(p[:n])
	c.n += n
	return n, nil
}

func testCanceled(t *testing.T, s persist.Store, f *fixture) {
	put(t, s, f.run, f.ids[0], f.blobs[0], persist.PutOptions{SetHead: true})
	before := list(t, s, f.run)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	want := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with canceled context = %v, want context.Canceled", what, err)
		}
	}
	want("Put", s.Put(ctx, f.run, f.ids[1], bytes.NewReader(f.blobs[1]), persist.PutOptions{SetHead: true}))
	rc, err := s.Get(ctx, f.run, f.ids[0])
	if err == nil {
		// A backend may open lazily; then reading must fail.
		_, err = io.ReadAll(rc)
		rc.Close()
	}
	want("Get", err)
	_, err = s.List(ctx, f.run)
	want("List", err)
	_, err = s.Head(ctx, f.run)
	want("Head", err)
	_, err = s.Runs(ctx)
	want("Runs", err)
	want("Delete", s.Delete(ctx, f.run, f.ids[0]))

	// Canceled while the body is being read.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	cr := &cancelingReader{cancel: cancel}
	err = s.Put(ctx, f.run, f.ids[2], cr, persist.PutOptions{SetHead: true})
	if f.checked && err != nil && !errors.Is(err, context.Canceled) {
		// A checked store may refuse the (zero) bytes it got before it
		// sees the cancel.
		t.Logf("Put canceled mid-way: refused first: %v", err)
	} else {
		want("Put canceled mid-way", err)
	}
	if cr.n > cancelBound {
		t.Errorf("Put read %d bytes after its context was canceled, want at most %d", cr.n, cancelBound)
	}

	wantGetNotExist(t, s, f.run, f.ids[1])
	wantGetNotExist(t, s, f.run, f.ids[2])
	wantObjects(t, "List", list(t, s, f.run), before)
	if got := head(t, s, f.run); got != f.ids[0] {
		t.Errorf("Head = %q, want %q", got, f.ids[0])
	}
}

// A checkpoint whose checksum is right but whose state does not restore
// (Unrestorable) is passed over by Newest, even as the run's newest and its
// head; a checked store refuses to store it at all.
func testNewestSkipsUnrestorable(t *testing.T, s persist.Store, f *fixture) {
	ctx := t.Context()
	put(t, s, f.run, f.ids[2], f.blobs[2], persist.PutOptions{SetHead: true})
	for name, bad := range Unrestorable(t, f.blobs[5]) {
		err := s.Put(ctx, f.run, f.ids[5], bytes.NewReader(bad), persist.PutOptions{SetHead: true})
		if f.checked != (err != nil) {
			t.Fatalf("%s: Put = %v (checked store: %v)", name, err, f.checked)
		}
		c, skipped, err := persist.Newest(ctx, s, f.run)
		if err != nil {
			t.Fatalf("%s: Newest: %v", name, err)
		}
		if c.ID != f.ids[2] || len(skipped) != btoi(!f.checked) {
			t.Fatalf("%s: Newest = %s, skipped %v; want %s", name, c.ID, skipped, f.ids[2])
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
