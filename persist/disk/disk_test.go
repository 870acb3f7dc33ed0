package disk_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"playground/persist"
	"playground/persist/disk"
	"playground/persist/storetest"
)

func newStore(t *testing.T) *disk.Store {
	t.Helper()
	s, err := disk.New(t.TempDir(), disk.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// flock says whether run directories get a LOCK file (lock_unix.go).
var flock = runtime.GOOS != "windows" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" && runtime.GOOS != "plan9"

// withLock is a run directory's sorted listing: names and, with flock,
// LOCK.
func withLock(names ...string) []string {
	if flock {
		names = append(names, "LOCK")
	}
	slices.Sort(names)
	return names
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persist.Store { return newStore(t) })
}

// TestConformanceSmallChunks copies in chunks far smaller than a
// checkpoint, so Put loops many times.
func TestConformanceSmallChunks(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persist.Store {
		s, err := disk.New(t.TempDir(), disk.Options{ChunkSize: 7})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestLayout(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data") // New creates it
	s, err := disk.New(dir, disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir() != dir {
		t.Errorf("Dir = %q, want %q", s.Dir(), dir)
	}
	if err := s.Put(ctx, "run1", "000000000001-aa", strings.NewReader("one"), persist.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "run1", "000000000002-bb", strings.NewReader("two"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}

	if got, want := names(t, dir), []string{"run1"}; !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
	runDir := filepath.Join(dir, "run1")
	if got, want := names(t, runDir), withLock("000000000001-aa.safetensors", "000000000002-bb.safetensors", "HEAD"); !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q (no temp files left)", runDir, got, want)
	}
	for name, want := range map[string]string{
		"000000000001-aa.safetensors": "one",
		"000000000002-bb.safetensors": "two",
		"HEAD":                        "000000000002-bb\n",
	} {
		b, err := os.ReadFile(filepath.Join(runDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s = %q, want %q", name, b, want)
		}
	}

	// Modes are at most 0o755 and 0o644: the umask may only take away.
	check := func(path string, want fs.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m&^want != 0 || m&0o600 != 0o600 {
			t.Errorf("%s mode = %v, want %v less umask", path, m, want)
		}
	}
	check(runDir, 0o755)
	check(filepath.Join(runDir, "HEAD"), 0o644)
	check(filepath.Join(runDir, "000000000001-aa.safetensors"), 0o644)

	// A file dropped in by hand, in the layout, is a checkpoint.
	if err := os.Mkdir(filepath.Join(dir, "run2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run2", "x.safetensors"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx)
	if err != nil || !slices.Equal(runs, []string{"run1", "run2"}) {
		t.Errorf("Runs = %q, %v; want [run1 run2]", runs, err)
	}

	// Deleting the head removes HEAD.
	if err := s.Delete(ctx, "run1", "000000000002-bb"); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, runDir), withLock("000000000001-aa.safetensors"); !slices.Equal(got, want) {
		t.Errorf("after Delete(head) %s holds %q, want %q", runDir, got, want)
	}
}

// TestIgnoredFiles: temp files, stray files and directories that are not
// in the layout are invisible to List and Runs.
func TestIgnoredFiles(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	dir := s.Dir()
	if err := s.Put(ctx, "run", "c1", strings.NewReader("c1"), persist.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	write := func(rel string) {
		t.Helper()
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("run/.c2.safetensors.abc.tmp")   // a Put that crashed
	write("run/.HEAD.abc.tmp")             // a head update that crashed
	write("run/.c3.safetensors")           // hidden, not an id
	write("run/C4.safetensors")            // upper case, not an id
	write("run/c5.safetensors.partial")    // wrong extension
	write("run/notes.txt")                 // not a checkpoint
	write("tmponly/.c1.safetensors.x.tmp") // a run with only a temp file
	write("Upper/c1.safetensors")          // not a run id
	write(".hidden/c1.safetensors")        // not a run id
	write("file.safetensors")              // not a directory
	if err := os.Mkdir(filepath.Join(dir, "run", "c6.safetensors"), 0o755); err != nil {
		t.Fatal(err) // a directory, not a checkpoint
	}

	objs, err := s.List(ctx, "run")
	if err != nil || !slices.Equal(objs, []persist.Object{{ID: "c1", Size: 2}}) {
		t.Errorf("List = %v, %v; want [{c1 2}]", objs, err)
	}
	runs, err := s.Runs(ctx)
	if err != nil || !slices.Equal(runs, []string{"run"}) {
		t.Errorf("Runs = %q, %v; want [run]", runs, err)
	}
	if _, err := s.Head(ctx, "run"); !errors.Is(err, persist.ErrNotExist) {
		t.Errorf("Head = %v, want ErrNotExist (a head temp file is not a head)", err)
	}
}

func TestClean(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	dir := s.Dir()
	if err := s.Put(ctx, "run", "c1", strings.NewReader("c1"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}
	type file struct{ old, survives bool }
	files := map[string]file{
		"run/.c2.safetensors.a.tmp":   {old: true},
		"run/.HEAD.a.tmp":             {old: true},
		"other/.c1.safetensors.a.tmp": {old: true},
		"run/.c3.safetensors.b.tmp":   {survives: true},            // may be a Put in progress
		"run/.notes.old":              {old: true, survives: true}, // not a temp name
		"Upper/.c.safetensors.a.tmp":  {old: true, survives: true}, // not a run directory
		"run/c1.safetensors":          {survives: true},
		"run/HEAD":                    {survives: true},
	}
	past := time.Now().Add(-2 * time.Minute)
	for rel, f := range files {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); os.IsNotExist(err) {
			if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if f.old {
			if err := os.Chtimes(path, past, past); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Clean(ctx); err != nil {
		t.Fatal(err)
	}
	for rel, f := range files {
		_, err := os.Stat(filepath.Join(dir, rel))
		if exists := err == nil; exists != f.survives {
			t.Errorf("after Clean %s exists = %v, want %v", rel, exists, f.survives)
		}
	}
	// The store still works.
	var buf bytes.Buffer
	rc, err := s.Get(ctx, "run", "c1")
	if err != nil {
		t.Fatal(err)
	}
	buf.ReadFrom(rc)
	rc.Close()
	if buf.String() != "c1" {
		t.Errorf("Get = %q, want c1", buf.String())
	}
}

// TestHeadAfterCrash: a crash between committing a checkpoint and moving
// HEAD leaves the new checkpoint listed and the previous head in place.
func TestHeadAfterCrash(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if err := s.Put(ctx, "run", "c1", strings.NewReader("c1"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}
	// What a crash after the checkpoint's rename leaves behind.
	runDir := filepath.Join(s.Dir(), "run")
	if err := os.WriteFile(filepath.Join(runDir, "c2.safetensors"), []byte("c2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, ".HEAD.crash.tmp"), []byte("c2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, err := s.Head(ctx, "run"); err != nil || h != "c1" {
		t.Errorf("Head = %q, %v; want c1", h, err)
	}
	// The writer that believed the head was c1 may go on.
	if err := s.Put(ctx, "run", "c3", strings.NewReader("c3"), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: "c1"}); err != nil {
		t.Errorf("Put(IfHead c1): %v", err)
	}
}

func TestBadHead(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if err := s.Put(ctx, "run", "c1", strings.NewReader("c1"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "run", "HEAD"), []byte("../etc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, "run"); err == nil || errors.Is(err, persist.ErrNotExist) {
		t.Errorf("Head with a damaged HEAD = %v, want an error other than ErrNotExist", err)
	}
	// CheckHead cannot match it; SetHead without CheckHead repairs it.
	if err := s.Put(ctx, "run", "c2", strings.NewReader("c2"), persist.PutOptions{SetHead: true, CheckHead: true}); err == nil {
		t.Errorf("Put(CheckHead) over a damaged HEAD succeeded")
	}
	if err := s.Put(ctx, "run", "c2", strings.NewReader("c2"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}
	if h, err := s.Head(ctx, "run"); err != nil || h != "c2" {
		t.Errorf("Head = %q, %v; want c2", h, err)
	}
}

func TestNew(t *testing.T) {
	if _, err := disk.New("", disk.NewOptions()); err == nil {
		t.Error(`New("") succeeded`)
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := disk.New(f, disk.NewOptions()); err == nil {
		t.Error("New(a file) succeeded")
	}
	o := disk.NewOptions()
	if o.DirMode != 0o755 || o.FileMode != 0o644 || o.StaleTemp != time.Minute || o.ChunkSize <= 0 {
		t.Errorf("NewOptions = %+v", o)
	}
}

// TestFailedPutLeavesNoTemp: a Put that fails or is refused removes its
// temp file at once rather than leaving it for Clean.
func TestFailedPutLeavesNoTemp(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if err := s.Put(ctx, "run", "c1", strings.NewReader("c1"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.Put(ctx, "run", "c2", iotest.ErrReader(boom), persist.PutOptions{}); !errors.Is(err, boom) {
		t.Errorf("Put of a failing reader = %v, want its error", err)
	}
	if err := s.Put(ctx, "run", "c3", strings.NewReader("c3"), persist.PutOptions{CheckHead: true, IfHead: "c0"}); !errors.Is(err, persist.ErrHeadMoved) {
		t.Errorf("Put(IfHead c0) = %v, want ErrHeadMoved", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(canceled, "run", "c4", strings.NewReader("c4"), persist.PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put(canceled) = %v, want context.Canceled", err)
	}
	if got, want := names(t, filepath.Join(s.Dir(), "run")), withLock("HEAD", "c1.safetensors"); !slices.Equal(got, want) {
		t.Errorf("run holds %q, want %q", got, want)
	}
}

// Two Stores on one directory (as `serve` and `train` in two processes)
// still move a run's head by compare-and-swap: of the writers that saw
// the same head, exactly one moves it.
func TestCheckHeadAcrossStores(t *testing.T) {
	if !flock {
		t.Skip("no flock here: commits exclude each other within one Store only")
	}
	ctx := t.Context()
	dir := t.TempDir()
	var stores [2]*disk.Store
	for i := range stores {
		s, err := disk.New(dir, disk.NewOptions())
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	const run = "shared"
	first := persist.NewID(0)
	if err := stores[0].Put(ctx, run, first, strings.NewReader("0"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	moved := map[string]int{} // head seen → successful moves from it
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for i := range 40 {
				h, err := s.Head(ctx, run)
				if err != nil {
					t.Error(err)
					return
				}
				id := persist.NewID(uint64(1 + w*1000 + i))
				err = s.Put(ctx, run, id, strings.NewReader(id), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: h})
				if errors.Is(err, persist.ErrHeadMoved) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				moved[h]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total := 0
	for h, n := range moved {
		total += n
		if n > 1 {
			t.Errorf("%d writers moved the head from %s: the compare-and-swap is not atomic across Stores", n, h)
		}
	}
	if total < 10 {
		t.Errorf("only %d moves succeeded", total)
	}
}

func TestDataConformance(t *testing.T) {
	storetest.RunData(t, func(t *testing.T) persist.DataStore { return newStore(t) })
}

// A dataset lives in _datasets/<sha256>.csv, a missing one's error names
// that file.
func TestDataLayout(t *testing.T) {
	s := newStore(t)
	tab := storetest.Table(t, 2)
	if err := s.PutData(t.Context(), tab.Name(), tab.Canonical()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir(), "_datasets", tab.Name()+".csv"))
	if err != nil || !bytes.Equal(b, tab.Canonical()) {
		t.Fatalf("the file: %v", err)
	}
	other := storetest.Table(t, 3).Name()
	_, err = s.GetData(t.Context(), other)
	if want := filepath.Join(s.Dir(), "_datasets", other+".csv"); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("missing: %v, want it to name %s", err, want)
	}
}
