// Package disk implements persist.Store over a local directory:
// <dir>/<run>/<id>.safetensors for each checkpoint, <dir>/<run>/HEAD
// holding the run's head id, and <dir>/<run>/LOCK, the file whose flock
// makes commits of several processes take turns. Every write goes to a temp file in the same
// directory, is synced, renamed over its target, and the directory is
// synced, so a crash leaves the old file or the whole new one.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"playground/persist"
)

const (
	ext       = ".safetensors"
	headFn    = "HEAD" // upper case, so never a checkpoint or run id
	lockFn    = "LOCK" // the run's commit lock (flock), where there is one
	tmpExt    = ".tmp"
	tmpPrefix = "." // temp names start with "." (never a valid id), end with tmpExt
)

// Options configure a Store; zero fields take the defaults of NewOptions.
type Options struct {
	DirMode   fs.FileMode   // mode of created directories (before umask)
	FileMode  fs.FileMode   // mode of created files (before umask)
	StaleTemp time.Duration // Clean removes temp files older than this
	ChunkSize int           // Put copies in chunks of this many bytes, checking ctx between them
}

// NewOptions returns the default options.
func NewOptions() Options {
	return Options{
		DirMode:   0o755,
		FileMode:  0o644,
		StaleTemp: time.Minute,
		ChunkSize: 64 << 10,
	}
}

// Store is a persist.Store over one directory.
type Store struct {
	dir string
	opt Options

	// mu serializes commits (the renames of checkpoints and HEAD, Delete)
	// so CheckHead is a compare-and-swap; the run directory's LOCK file
	// (lock_unix.go) does the same between Stores and processes.
	mu sync.Mutex
}

var _ persist.Store = (*Store)(nil)

// New returns a Store over dir, creating dir if needed.
func New(dir string, opt Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("disk: no directory")
	}
	def := NewOptions()
	if opt.DirMode == 0 {
		opt.DirMode = def.DirMode
	}
	if opt.FileMode == 0 {
		opt.FileMode = def.FileMode
	}
	if opt.StaleTemp <= 0 {
		opt.StaleTemp = def.StaleTemp
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = def.ChunkSize
	}
	if err := os.MkdirAll(dir, opt.DirMode); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	return &Store{dir: dir, opt: opt}, nil
}

// Dir returns the store's root directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) runDir(run string) string { return filepath.Join(s.dir, run) }

// Path returns the file that holds (or would hold) checkpoint id of run:
// <dir>/<run>/<id>.safetensors.
func (s *Store) Path(run, id string) string { return filepath.Join(s.dir, run, id+ext) }

// Put stores r as checkpoint id of run. With opt.SetHead the checkpoint is
// committed first, then HEAD: a crash between the two leaves the previous
// head in place, which still names a whole checkpoint, so the run resumes
// from one step earlier rather than from nothing.
func (s *Store) Put(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) error {
	if err := persist.CheckPut(ctx, run, id, opt); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	dir := s.runDir(run)
	if err := s.mkdir(dir); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	tmp, err := s.writeTemp(ctx, dir, id+ext, r)
	if err != nil {
		return fmt.Errorf("disk: put %s/%s: %w", run, id, err)
	}
	committed := false
	defer func() {
		if !committed {
			os.Remove(tmp)
		}
	}()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disk: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lockRun(dir)
	if err != nil {
		return fmt.Errorf("disk: lock %s: %w", run, err)
	}
	defer unlock()
	if err := s.checkHead(run, id, opt); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.Path(run, id)); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	if !opt.SetHead {
		return nil
	}
	if err := s.writeHead(ctx, run, id); err != nil {
		return fmt.Errorf("disk: %s/%s: %w", run, id, errors.Join(persist.ErrHeadNotMoved, err))
	}
	return nil
}

// MoveHead makes id, which the store holds, the head of run without
// writing the checkpoint again (persist.HeadMover).
func (s *Store) MoveHead(ctx context.Context, run, id string, opt persist.PutOptions) error {
	if err := persist.CheckPut(ctx, run, id, opt); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lockRun(s.runDir(run))
	if err != nil {
		return fmt.Errorf("disk: lock %s: %w", run, err)
	}
	defer unlock()
	if err := s.checkHead(run, id, opt); err != nil {
		return err
	}
	if st, err := os.Stat(s.Path(run, id)); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("disk: move head of %s to %s: %w", run, id, persist.ErrNotExist)
	}
	if err := s.writeHead(ctx, run, id); err != nil {
		return fmt.Errorf("disk: head %s: %w", run, err)
	}
	return nil
}

// checkHead fails with ErrHeadMoved unless the head is what opt says it
// must be; the caller holds the run's lock.
func (s *Store) checkHead(run, id string, opt persist.PutOptions) error {
	if !opt.CheckHead {
		return nil
	}
	cur, err := s.head(run)
	if errors.Is(err, persist.ErrNotExist) {
		cur, err = "", nil
	}
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	if cur != opt.IfHead {
		return fmt.Errorf("disk: put %s/%s: %w (head is %q, not %q)", run, id, persist.ErrHeadMoved, cur, opt.IfHead)
	}
	return nil
}

// writeHead atomically replaces run's HEAD with id; the caller holds the
// run's lock.
func (s *Store) writeHead(ctx context.Context, run, id string) error {
	dir := s.runDir(run)
	htmp, err := s.writeTemp(context.WithoutCancel(ctx), dir, headFn, strings.NewReader(id+"\n"))
	if err != nil {
		return err
	}
	if err := os.Rename(htmp, filepath.Join(dir, headFn)); err != nil {
		os.Remove(htmp)
		return err
	}
	return syncDir(dir)
}

// mkdir creates a run directory and syncs the root so the new entry
// survives a crash along with the files written into it.
func (s *Store) mkdir(dir string) error {
	err := os.Mkdir(dir, s.opt.DirMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(s.dir)
}

// writeTemp copies r into a new synced temp file in dir named after base,
// returning its path; on error nothing is left behind.
func (s *Store) writeTemp(ctx context.Context, dir, base string, r io.Reader) (path string, err error) {
	f, err := s.createTemp(dir, base)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	buf := make([]byte, s.opt.ChunkSize)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return "", err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", rerr
		}
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// createTemp is os.CreateTemp with the store's file mode (so the umask
// applies, as for any created file) and names List and Runs skip.
func (s *Store) createTemp(dir, base string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, tmpPrefix+base+"."+strconv.FormatUint(rand.Uint64(), 36)+tmpExt)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, s.opt.FileMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create temp in %s: too many collisions", dir)
}

// Get opens checkpoint id of run.
func (s *Store) Get(ctx context.Context, run, id string) (io.ReadCloser, error) {
	if err := persist.CheckCall(ctx, run, id); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	f, err := os.Open(s.Path(run, id))
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	return f, nil
}

// List returns the checkpoints of run sorted by id.
func (s *Store) List(ctx context.Context, run string) ([]persist.Object, error) {
	if err := persist.CheckCall(ctx, run); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	objs, err := s.list(run, false)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	return objs, nil
}

// list reads a run directory; an unknown run has no checkpoints. With
// first it stops at the first checkpoint found (for Runs).
func (s *Store) list(run string, first bool) ([]persist.Object, error) {
	d, err := os.Open(s.runDir(run))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var objs []persist.Object
	for {
		ents, err := d.ReadDir(256)
		for _, e := range ents {
			id, ok := strings.CutSuffix(e.Name(), ext)
			if !ok || !e.Type().IsRegular() || !persist.ValidID(id) {
				continue // temp files start with "." and fail ValidID
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted since ReadDir
			}
			if err != nil {
				return nil, err
			}
			objs = append(objs, persist.Object{ID: id, Size: info.Size()})
			if first {
				return objs, nil
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	// Sort by id, not by file name: "a-b.safetensors" < "a.safetensors"
	// but "a" < "a-b".
	slices.SortFunc(objs, func(a, b persist.Object) int { return strings.Compare(a.ID, b.ID) })
	return objs, nil
}

// Delete removes checkpoint id of run; deleting the head removes HEAD
// first, so a crash in between leaves a run without a head rather than a
// head naming a missing checkpoint.
func (s *Store) Delete(ctx context.Context, run, id string) error {
	if err := persist.CheckCall(ctx, run, id); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	path := s.Path(run, id)
	if _, err := os.Lstat(path); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	dir := s.runDir(run)
	unlock, err := s.lockRun(dir)
	if err != nil {
		return fmt.Errorf("disk: lock %s: %w", run, err)
	}
	defer unlock()
	if head, err := s.head(run); err == nil && head == id {
		if err := os.Remove(filepath.Join(dir, headFn)); err != nil {
			return fmt.Errorf("disk: %w", err)
		}
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("disk: %w", err)
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	return nil
}

// Runs lists the runs that hold at least one checkpoint, sorted.
func (s *Store) Runs(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	var runs []string
	for _, e := range ents {
		if !e.IsDir() || !persist.ValidID(e.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("disk: %w", err)
		}
		objs, err := s.list(e.Name(), true)
		if err != nil {
			return nil, fmt.Errorf("disk: %w", err)
		}
		if len(objs) > 0 {
			runs = append(runs, e.Name())
		}
	}
	return runs, nil // ReadDir sorts by name, and run names are ids
}

// Head returns the head checkpoint id of run.
func (s *Store) Head(ctx context.Context, run string) (string, error) {
	if err := persist.CheckCall(ctx, run); err != nil {
		return "", fmt.Errorf("disk: %w", err)
	}
	id, err := s.head(run)
	if err != nil {
		return "", fmt.Errorf("disk: %w", err)
	}
	return id, nil
}

func (s *Store) head(run string) (string, error) {
	path := filepath.Join(s.runDir(run), headFn)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if err := persist.CheckIDs(id); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// Clean removes temp files left by a crash that are older than
// Options.StaleTemp; younger ones may belong to a Put in progress (one
// whose reader stalls longer than that fails cleanly at its rename).
func (s *Store) Clean(ctx context.Context) error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	cutoff := time.Now().Add(-s.opt.StaleTemp)
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || !persist.ValidID(e.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("disk: %w", err)
		}
		dir := s.runDir(e.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			if !isTemp(f.Name()) || !f.Type().IsRegular() {
				continue
			}
			info, err := f.Info()
			if err != nil || !info.ModTime().Before(cutoff) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, f.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("disk: clean: %w", err)
	}
	return nil
}

func isTemp(name string) bool {
	return strings.HasPrefix(name, tmpPrefix) && strings.HasSuffix(name, tmpExt)
}

// syncDir makes a directory's entries (creations, renames, removals)
// durable. Windows cannot open a directory for syncing and orders its
// metadata itself, so it is skipped there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
