//go:build js && wasm

package idb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"

	"playground/persist"
)

const (
	storeObjects = "objects"
	storeBlobs   = "blobs"
	storeHeads   = "heads"
	storeData    = "datasets" // version 2: dataset name -> its canonical bytes
	dbVersion    = 2
)

// ErrQuota is returned (wrapped) when the browser refuses a write for lack
// of storage space.
var ErrQuota = errors.New("storage quota exceeded")

// Options configure a Store; zero fields take the defaults of NewOptions.
type Options struct {
	Name      string // database name
	ChunkSize int    // Put reads in chunks of this many bytes, checking ctx between them
	PrefixLen int    // leading bytes kept beside each checkpoint for header-only reads
}

// NewOptions returns the default options.
func NewOptions() Options {
	return Options{Name: "playground", ChunkSize: 1 << 20, PrefixLen: 16 << 10}
}

// Store is a persist.Store over one IndexedDB database.
type Store struct {
	db  *idb.Database
	opt Options
}

var _ persist.Store = (*Store)(nil)

// Open opens (creating or upgrading as needed) the database opt.Name.
func Open(ctx context.Context, opt Options) (*Store, error) {
	def := NewOptions()
	if opt.Name == "" {
		opt.Name = def.Name
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = def.ChunkSize
	}
	if opt.PrefixLen <= 0 {
		opt.PrefixLen = def.PrefixLen
	}
	factory, err := factory()
	if err != nil {
		return nil, fmt.Errorf("idb: %w", err)
	}
	req, err := factory.Open(ctx, opt.Name, dbVersion, upgrade)
	if err != nil {
		return nil, fmt.Errorf("idb: open %s: %w", opt.Name, err)
	}
	db, err := req.Await(ctx)
	if err != nil {
		return nil, fmt.Errorf("idb: open %s: %w", opt.Name, err)
	}
	return &Store{db: db, opt: opt}, nil
}

// factory returns the global indexedDB, or an error where there is none
// (idb.Global panics).
func factory() (f *idb.Factory, err error) {
	if g := js.Global().Get("indexedDB"); g.IsUndefined() || g.IsNull() {
		return nil, errors.New("this environment has no indexedDB")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("indexedDB: %v", r)
		}
	}()
	return idb.Global(), nil
}

// upgrade creates the object stores a database of an older version
// lacks: version 1 the checkpoints', version 2 the datasets'.
func upgrade(db *idb.Database, oldVersion, _ uint) error {
	var names []string
	if oldVersion < 1 {
		names = append(names, storeObjects, storeBlobs, storeHeads)
	}
	if oldVersion < 2 {
		names = append(names, storeData)
	}
	for _, name := range names {
		if _, err := db.CreateObjectStore(name, idb.ObjectStoreOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database connection.
func (s *Store) Close() error { return s.db.Close() }

// Delete removes the whole database name (for tests and "forget
// everything").
func Delete(ctx context.Context, name string) error {
	f, err := factory()
	if err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	req, err := f.DeleteDatabase(name)
	if err != nil {
		return fmt.Errorf("idb: delete %s: %w", name, err)
	}
	if err := req.Await(ctx); err != nil {
		return fmt.Errorf("idb: delete %s: %w", name, err)
	}
	return nil
}

func key(run, id string) js.Value { return js.ValueOf([]any{run, id}) }

// runRange is every [run, id] key of run: [run] sorts before them and
// [run, []] after (arrays sort after strings).
func runRange(run string) (*idb.KeyRange, error) {
	return idb.NewKeyRangeBound(js.ValueOf([]any{run}), js.ValueOf([]any{run, []any{}}), false, false)
}

var uint8Array = js.Global().Get("Uint8Array")

func toJS(b []byte) js.Value {
	u := uint8Array.New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

func toGo(v js.Value) ([]byte, error) {
	if v.Type() != js.TypeObject || !v.InstanceOf(uint8Array) {
		return nil, errors.New("stored value is not a Uint8Array")
	}
	b := make([]byte, v.Length())
	js.CopyBytesToGo(b, v)
	return b, nil
}

// wrap turns IndexedDB failures into the errors callers can test for.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, idb.NewDOMException("QuotaExceededError")):
		return fmt.Errorf("%w: %w", ErrQuota, err)
	case errors.Is(err, idb.NewDOMException("AbortError")):
		return fmt.Errorf("transaction aborted: %w", err)
	}
	return err
}

// Put stores r as checkpoint id of run. The reader is drained first, so a
// failing reader or a canceled ctx stores nothing; the blob, its listing
// entry and (with opt.SetHead) the head are then written in one
// transaction, which commits whole or not at all.
func (s *Store) Put(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) error {
	if err := persist.CheckPut(ctx, run, id, opt); err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	b, err := s.readAll(ctx, r)
	if err != nil {
		return fmt.Errorf("idb: put %s/%s: %w", run, id, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	// Every byte is stored once: the head in the listing record, the rest
	// in the blob record, both tagged with one generation.
	split := min(len(b), s.opt.PrefixLen)
	gen := float64(rand.Uint32())
	obj := js.ValueOf(map[string]any{"size": len(b), "gen": gen, "head": toJS(b[:split])})
	blob := js.ValueOf(map[string]any{"gen": gen, "rest": toJS(b[split:])})

	// From here on the transaction decides: it is short, and a canceled
	// ctx must not leave the caller unsure whether it committed.
	wctx := context.WithoutCancel(ctx)
	tx, err := s.db.Transaction(idb.TransactionReadWrite, storeObjects, storeBlobs, storeHeads)
	if err != nil {
		return fmt.Errorf("idb: put %s/%s: %w", run, id, wrap(err))
	}
	objects, blobs, heads, err := stores3(tx)
	if err != nil {
		return fmt.Errorf("idb: put %s/%s: %w", run, id, err)
	}
	if opt.CheckHead {
		cur, err := getHead(wctx, heads, run)
		if err != nil {
			tx.Abort()
			return fmt.Errorf("idb: put %s/%s: %w", run, id, wrap(err))
		}
		if cur != opt.IfHead {
			tx.Abort()
			return fmt.Errorf("idb: put %s/%s: %w (head is %q, not %q)", run, id, persist.ErrHeadMoved, cur, opt.IfHead)
		}
	}
	k := key(run, id)
	if _, err := blobs.PutKey(k, blob); err != nil {
		tx.Abort()
		return fmt.Errorf("idb: put %s/%s: %w", run, id, wrap(err))
	}
	if _, err := objects.PutKey(k, obj); err != nil {
		tx.Abort()
		return fmt.Errorf("idb: put %s/%s: %w", run, id, wrap(err))
	}
	if opt.SetHead {
		if _, err := heads.PutKey(js.ValueOf(run), js.ValueOf(id)); err != nil {
			tx.Abort()
			return fmt.Errorf("idb: put %s/%s: %w", run, id, wrap(err))
		}
	}
	tx.Commit()
	if err := tx.Await(wctx); err != nil {
		return fmt.Errorf("idb: put %s/%s: %w", run, id, wrap(err))
	}
	return nil
}

func stores3(tx *idb.Transaction) (objects, blobs, heads *idb.ObjectStore, err error) {
	if objects, err = tx.ObjectStore(storeObjects); err != nil {
		return
	}
	if blobs, err = tx.ObjectStore(storeBlobs); err != nil {
		return
	}
	heads, err = tx.ObjectStore(storeHeads)
	return
}

// readAll drains r in chunks, checking ctx between them. A *bytes.Buffer
// is taken as it is: no copy.
func (s *Store) readAll(ctx context.Context, r io.Reader) ([]byte, error) {
	if b, ok := r.(*bytes.Buffer); ok {
		return b.Bytes(), nil
	}
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok {
		buf.Grow(l.Len())
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_, err := io.CopyN(&buf, r, int64(s.opt.ChunkSize))
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func getHead(ctx context.Context, heads *idb.ObjectStore, run string) (string, error) {
	req, err := heads.Get(js.ValueOf(run))
	if err != nil {
		return "", err
	}
	v, err := req.Await(ctx)
	if err != nil {
		return "", err
	}
	if v.Type() != js.TypeString {
		return "", nil
	}
	return v.String(), nil
}

// Get opens a checkpoint. Only its first bytes are read now; the rest is
// loaded on the first Read past them, so reading just the header (as
// persist.ListInfo and Retain do) never loads the tensors.
func (s *Store) Get(ctx context.Context, run, id string) (io.ReadCloser, error) {
	if err := persist.CheckCall(ctx, run, id); err != nil {
		return nil, fmt.Errorf("idb: %w", err)
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, storeObjects)
	if err != nil {
		return nil, fmt.Errorf("idb: get %s/%s: %w", run, id, wrap(err))
	}
	objects, err := tx.ObjectStore(storeObjects)
	if err != nil {
		return nil, fmt.Errorf("idb: get %s/%s: %w", run, id, err)
	}
	req, err := objects.Get(key(run, id))
	if err != nil {
		return nil, fmt.Errorf("idb: get %s/%s: %w", run, id, wrap(err))
	}
	v, err := req.Await(ctx)
	if err != nil {
		return nil, fmt.Errorf("idb: get %s/%s: %w", run, id, wrap(err))
	}
	if v.Type() != js.TypeObject {
		return nil, fmt.Errorf("idb: get %s/%s: %w", run, id, persist.ErrNotExist)
	}
	head, err := toGo(v.Get("head"))
	if err != nil {
		return nil, fmt.Errorf("idb: get %s/%s: %w", run, id, err)
	}
	return &reader{
		s: s, ctx: ctx, run: run, id: id,
		size: v.Get("size").Int(), gen: v.Get("gen").Float(),
		buf: head,
	}, nil
}

// reader serves a checkpoint's head, then the rest from its blob record.
type reader struct {
	s       *Store
	ctx     context.Context
	run, id string
	size    int
	gen     float64
	buf     []byte // the head, then the whole checkpoint once loaded
	off     int
}

func (r *reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	// Once loaded, buf holds all size bytes (load checks it).
	if r.off >= len(r.buf) {
		if err := r.load(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// load reads the rest of the checkpoint; a blob replaced since Get
// (another generation) reads as a failure, never as a mix of two writes.
func (r *reader) load() error {
	fail := func(err error) error { return fmt.Errorf("idb: read %s/%s: %w", r.run, r.id, err) }
	if err := r.ctx.Err(); err != nil {
		return fail(err)
	}
	tx, err := r.s.db.Transaction(idb.TransactionReadOnly, storeBlobs)
	if err != nil {
		return fail(wrap(err))
	}
	blobs, err := tx.ObjectStore(storeBlobs)
	if err != nil {
		return fail(err)
	}
	req, err := blobs.Get(key(r.run, r.id))
	if err != nil {
		return fail(wrap(err))
	}
	v, err := req.Await(r.ctx)
	if err != nil {
		return fail(wrap(err))
	}
	if v.Type() != js.TypeObject {
		return fail(fmt.Errorf("deleted while being read: %w", persist.ErrNotExist))
	}
	if v.Get("gen").Float() != r.gen {
		return fail(errors.New("replaced while being read"))
	}
	rest, err := toGo(v.Get("rest"))
	if err != nil {
		return fail(err)
	}
	if len(r.buf)+len(rest) != r.size {
		return fail(fmt.Errorf("stored parts have %d bytes, listing says %d", len(r.buf)+len(rest), r.size))
	}
	r.buf = append(r.buf, rest...)
	return nil
}

func (r *reader) Close() error { return nil }

// List returns the run's checkpoints sorted by id.
func (s *Store) List(ctx context.Context, run string) ([]persist.Object, error) {
	if err := persist.CheckCall(ctx, run); err != nil {
		return nil, fmt.Errorf("idb: %w", err)
	}
	kr, err := runRange(run)
	if err != nil {
		return nil, fmt.Errorf("idb: list %s: %w", run, err)
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, storeObjects)
	if err != nil {
		return nil, fmt.Errorf("idb: list %s: %w", run, wrap(err))
	}
	objects, err := tx.ObjectStore(storeObjects)
	if err != nil {
		return nil, fmt.Errorf("idb: list %s: %w", run, err)
	}
	var out []persist.Object
	req, err := objects.OpenCursorRange(kr, idb.CursorNext)
	if err != nil {
		return nil, fmt.Errorf("idb: list %s: %w", run, wrap(err))
	}
	err = req.Iter(ctx, func(c *idb.CursorWithValue) error {
		k, err := c.Key()
		if err != nil {
			return err
		}
		v, err := c.Value()
		if err != nil {
			return err
		}
		out = append(out, persist.Object{ID: k.Index(1).String(), Size: int64(v.Get("size").Int())})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("idb: list %s: %w", run, wrap(err))
	}
	return out, nil
}

// Delete removes a checkpoint, and the run's head if it named it, in one
// transaction.
func (s *Store) Delete(ctx context.Context, run, id string) error {
	if err := persist.CheckCall(ctx, run, id); err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	wctx := context.WithoutCancel(ctx)
	fail := func(err error) error { return fmt.Errorf("idb: delete %s/%s: %w", run, id, err) }
	tx, err := s.db.Transaction(idb.TransactionReadWrite, storeObjects, storeBlobs, storeHeads)
	if err != nil {
		return fail(wrap(err))
	}
	objects, blobs, heads, err := stores3(tx)
	if err != nil {
		return fail(err)
	}
	k := key(run, id)
	req, err := objects.GetKey(k)
	if err != nil {
		tx.Abort()
		return fail(wrap(err))
	}
	found, err := req.Await(wctx)
	if err != nil {
		tx.Abort()
		return fail(wrap(err))
	}
	if found.IsUndefined() {
		tx.Abort()
		return fail(persist.ErrNotExist)
	}
	head, err := getHead(wctx, heads, run)
	if err != nil {
		tx.Abort()
		return fail(wrap(err))
	}
	if _, err := objects.Delete(k); err != nil {
		tx.Abort()
		return fail(wrap(err))
	}
	if _, err := blobs.Delete(k); err != nil {
		tx.Abort()
		return fail(wrap(err))
	}
	if head == id {
		if _, err := heads.Delete(js.ValueOf(run)); err != nil {
			tx.Abort()
			return fail(wrap(err))
		}
	}
	tx.Commit()
	if err := tx.Await(wctx); err != nil {
		return fail(wrap(err))
	}
	return nil
}

// Runs lists the runs that have at least one checkpoint, sorted.
func (s *Store) Runs(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("idb: %w", err)
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, storeObjects)
	if err != nil {
		return nil, fmt.Errorf("idb: runs: %w", wrap(err))
	}
	objects, err := tx.ObjectStore(storeObjects)
	if err != nil {
		return nil, fmt.Errorf("idb: runs: %w", err)
	}
	req, err := objects.GetAllKeys()
	if err != nil {
		return nil, fmt.Errorf("idb: runs: %w", wrap(err))
	}
	keys, err := req.Await(ctx)
	if err != nil {
		return nil, fmt.Errorf("idb: runs: %w", wrap(err))
	}
	var runs []string
	for _, k := range keys {
		// Keys arrive sorted, so equal runs are adjacent.
		if r := k.Index(0).String(); len(runs) == 0 || runs[len(runs)-1] != r {
			runs = append(runs, r)
		}
	}
	return runs, nil
}

// Head returns the run's head checkpoint id.
func (s *Store) Head(ctx context.Context, run string) (string, error) {
	if err := persist.CheckCall(ctx, run); err != nil {
		return "", fmt.Errorf("idb: %w", err)
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, storeHeads)
	if err != nil {
		return "", fmt.Errorf("idb: head %s: %w", run, wrap(err))
	}
	heads, err := tx.ObjectStore(storeHeads)
	if err != nil {
		return "", fmt.Errorf("idb: head %s: %w", run, err)
	}
	id, err := getHead(ctx, heads, run)
	if err != nil {
		return "", fmt.Errorf("idb: head %s: %w", run, wrap(err))
	}
	if id == "" {
		return "", fmt.Errorf("idb: head %s: %w", run, persist.ErrNotExist)
	}
	return id, nil
}
