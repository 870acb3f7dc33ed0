// Package r2 implements persist.Store on a Cloudflare R2 bucket, for the
// Workers build of the server (server/workers).
//
// Keys, under Options.Prefix:
//
//	checkpoints/RUN/ID.safetensors   one checkpoint
//	heads/RUN                        the run's head: "ID\n", or empty for none
//
// R2 has no rename, but a put is atomic per key: readers see the old
// object or the whole new one, and a put whose body fails before it ends
// stores nothing. So Put streams the body straight into the final key and
// makes the body fail on any error of its reader; a persist.VerifyReader
// reports a bad checksum only at the end, so the last chunk is held back
// until the reader has ended cleanly. Bodies of at most Options.PartSize go
// in one put carrying their SHA-256, which R2 checks; longer ones stream
// with their length known from the checkpoint's header (R2 needs the
// length of a stream up front) and with the SHA-256 of PutOptions.SHA256
// when the writer knows it (the server takes it from the upload's
// Content-Digest), or, when no length is known, go as a multipart upload
// that is completed only after a clean end.
//
// The head is a small object changed only by conditional puts (on its
// etag), so moving it is a compare-and-swap. A Put with CheckHead checks
// the head before it stores the checkpoint and swaps the head after; if
// another writer moved the head in between, the checkpoint it just stored
// is removed again (unless that id existed before, or the new head names
// it) and Put reports persist.ErrHeadMoved. Two writers of different bytes
// under one id at once may lose the older bytes: the server refuses such
// uploads (409), best effort across requests.
//
// The part that talks to the bucket binding (syscall/js) is Binding, in
// the js/wasm build; Store itself is pure Go over the Bucket interface and
// is tested natively against an in-memory bucket.
package r2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"playground/persist"
)

// Bucket is what Store needs of an R2 bucket.
type Bucket interface {
	// Get opens an object; ErrNotExist if there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// Stat describes an object; ErrNotExist if there is none.
	Stat(ctx context.Context, key string) (Object, error)
	// Put stores data under key in one request, sending its SHA-256 for
	// R2 to check (sha256, or computed if nil: R2 refuses a body of
	// another hash); ErrPrecondition, storing nothing, if cond fails.
	Put(ctx context.Context, key string, data []byte, sha256 []byte, cond Cond) error
	// PutStream starts a put of exactly size bytes, written in order with
	// Upload.Write; the object exists once Commit returns. With sha256
	// (nil: unknown) R2 refuses a body of another hash.
	PutStream(ctx context.Context, key string, size int64, sha256 []byte) (Upload, error)
	// PutMultipart starts a multipart upload: each Write is one part, all
	// parts but the last of one size; the object exists once Commit returns.
	PutMultipart(ctx context.Context, key string) (Upload, error)
	// Delete removes an object; deleting a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// List returns one page of the keys under prefix, in key order; with
	// a delimiter, keys that have it after the prefix are rolled up into
	// Prefixes.
	List(ctx context.Context, prefix, delimiter, cursor string) (Page, error)
}

// Upload is an object being written. After a failed Write only Abort is
// called.
type Upload interface {
	Write(p []byte) error
	// Commit ends the upload and stores the object.
	Commit() error
	// Abort ends the upload, storing nothing.
	Abort(reason error)
}

// Object describes a stored object.
type Object struct {
	Key  string
	Size int64
	ETag string
}

// Cond is a precondition of Bucket.Put; the zero Cond always holds.
type Cond struct {
	IfMatch  string // the object's etag must be this
	IfAbsent bool   // there must be no object
}

// Page is one page of a listing.
type Page struct {
	Objects  []Object
	Prefixes []string
	Cursor   string // where the next page starts; "" after the last
}

var (
	// ErrNotExist is returned by a Bucket for a missing object.
	ErrNotExist = persist.ErrNotExist
	// ErrPrecondition is returned by Bucket.Put when its Cond fails.
	ErrPrecondition = errors.New("precondition failed")
)

const (
	ckptDir = "checkpoints/"
	headDir = "heads/"
	ext     = ".safetensors"
)

// Options configure a Store; zero fields take the defaults of NewOptions.
type Options struct {
	// Prefix goes before every key, so that several stores (deployments,
	// tests) can share a bucket; "" or ending in "/".
	Prefix string
	// PartSize is the largest body put in one request and the size of the
	// parts of a multipart upload (R2 wants at least 5 MiB).
	PartSize int
	// ChunkSize is how many bytes a streamed upload reads and writes at a
	// time, checking ctx between chunks.
	ChunkSize int
}

// NewOptions returns the defaults: no prefix, 8 MiB parts, 256 KiB chunks.
func NewOptions() Options {
	return Options{PartSize: 8 << 20, ChunkSize: 256 << 10}
}

// Store is a persist.Store on an R2 bucket.
type Store struct {
	b   Bucket
	opt Options
}

var (
	_ persist.Store     = (*Store)(nil)
	_ persist.HeadMover = (*Store)(nil)
)

// New returns a Store on b.
func New(b Bucket, opt Options) (*Store, error) {
	if b == nil {
		return nil, errors.New("r2: no bucket")
	}
	def := NewOptions()
	if opt.PartSize <= 0 {
		opt.PartSize = def.PartSize
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = def.ChunkSize
	}
	if opt.Prefix != "" && !strings.HasSuffix(opt.Prefix, "/") {
		return nil, fmt.Errorf("r2: prefix %q must end in /", opt.Prefix)
	}
	return &Store{b: b, opt: opt}, nil
}

func (s *Store) runPrefix(run string) string  { return s.opt.Prefix + ckptDir + run + "/" }
func (s *Store) objKey(run, id string) string { return s.runPrefix(run) + id + ext }
func (s *Store) headKey(run string) string    { return s.opt.Prefix + headDir + run }

// Put stores r as checkpoint id of run; see the package doc.
func (s *Store) Put(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) error {
	if err := persist.CheckPut(ctx, run, id, opt); err != nil {
		return fmt.Errorf("r2: %w", err)
	}
	key := s.objKey(run, id)
	cond, err := s.headCond(ctx, "put "+run+"/"+id, run, opt)
	if err != nil {
		return err
	}
	existed := true
	if opt.CheckHead && opt.SetHead {
		_, err := s.b.Stat(ctx, key)
		if err != nil && !errors.Is(err, ErrNotExist) {
			return fmt.Errorf("r2: %w", err)
		}
		existed = err == nil
	}
	if err := s.write(ctx, key, r, opt.SHA256); err != nil {
		return fmt.Errorf("r2: put %s/%s: %w", run, id, err)
	}
	if !opt.SetHead {
		return nil
	}
	// The checkpoint is committed: finish moving the head even if ctx ends.
	ctx = context.WithoutCancel(ctx)
	err = s.b.Put(ctx, s.headKey(run), []byte(id+"\n"), nil, cond)
	if errors.Is(err, ErrPrecondition) {
		// Remove what this Put added, unless the winner's head names it
		// (it stored the same id meanwhile).
		if cur, _, herr := s.head(ctx, run); !existed && herr == nil && cur != id {
			if derr := s.b.Delete(ctx, key); derr != nil {
				return fmt.Errorf("r2: put %s/%s: %w, and removing the checkpoint failed: %v", run, id, persist.ErrHeadMoved, derr)
			}
		}
		return fmt.Errorf("r2: put %s/%s: %w (moved by another writer meanwhile)", run, id, persist.ErrHeadMoved)
	}
	if err != nil {
		return fmt.Errorf("r2: head %s: %w", run, err)
	}
	return nil
}

// MoveHead makes id, which the bucket holds, the head of run without
// writing the checkpoint again (persist.HeadMover): one conditional put
// of the head object, as Put's last step.
func (s *Store) MoveHead(ctx context.Context, run, id string, opt persist.PutOptions) error {
	if err := persist.CheckPut(ctx, run, id, opt); err != nil {
		return fmt.Errorf("r2: %w", err)
	}
	cond, err := s.headCond(ctx, "move head of "+run+" to "+id, run, opt)
	if err != nil {
		return err
	}
	if _, err := s.b.Stat(ctx, s.objKey(run, id)); errors.Is(err, ErrNotExist) {
		return fmt.Errorf("r2: move head of %s to %s: %w", run, id, persist.ErrNotExist)
	} else if err != nil {
		return fmt.Errorf("r2: %w", err)
	}
	err = s.b.Put(ctx, s.headKey(run), []byte(id+"\n"), nil, cond)
	if errors.Is(err, ErrPrecondition) {
		return fmt.Errorf("r2: move head of %s to %s: %w (moved by another writer meanwhile)", run, id, persist.ErrHeadMoved)
	}
	if err != nil {
		return fmt.Errorf("r2: head %s: %w", run, err)
	}
	return nil
}

// headCond is the condition on the run's head object that a Put or
// MoveHead with opt.CheckHead writes under (none without): the head must
// still be the one read now, which must be opt.IfHead (else ErrHeadMoved,
// naming what).
func (s *Store) headCond(ctx context.Context, what, run string, opt persist.PutOptions) (Cond, error) {
	if !opt.CheckHead {
		return Cond{}, nil
	}
	cur, etag, err := s.head(ctx, run)
	if err != nil {
		return Cond{}, fmt.Errorf("r2: %w", err)
	}
	if cur != opt.IfHead {
		return Cond{}, fmt.Errorf("r2: %s: %w (head is %q, not %q)", what, persist.ErrHeadMoved, cur, opt.IfHead)
	}
	return Cond{IfMatch: etag, IfAbsent: etag == ""}, nil
}

// write stores the bytes of r under key, or nothing; sum, if known, is
// their SHA-256, for R2 to check.
func (s *Store) write(ctx context.Context, key string, r io.Reader, sum []byte) error {
	if v, ok := r.(*persist.VerifyReader); ok {
		info, err := v.Header()
		if err != nil {
			return err
		}
		if size := int64(info.HeaderSize) + info.DataSize; size > int64(s.opt.PartSize) {
			up, err := s.b.PutStream(ctx, key, size, sum)
			if err != nil {
				return err
			}
			return pump(ctx, r, up, nil, make([]byte, s.opt.ChunkSize))
		}
	}
	data, err := readUpTo(ctx, r, s.opt.PartSize, s.opt.ChunkSize)
	if err == io.EOF {
		return s.b.Put(ctx, key, data, sum, Cond{})
	}
	if err != nil {
		return err
	}
	up, err := s.b.PutMultipart(ctx, key)
	if err != nil {
		return err
	}
	return pump(ctx, r, up, data, make([]byte, s.opt.PartSize))
}

// readUpTo reads up to limit bytes, in reads of at most chunk bytes,
// checking ctx between them; io.EOF if r ended within them.
func readUpTo(ctx context.Context, r io.Reader, limit, chunk int) ([]byte, error) {
	var b []byte
	for len(b) < limit {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b = slices.Grow(b, min(chunk, limit-len(b)))
		n, err := r.Read(b[len(b):min(cap(b), limit)])
		b = b[:len(b)+n]
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// readFull fills buf from r unless r ends or fails first, checking ctx
// between reads; io.EOF (with n possibly > 0) if r ended.
func readFull(ctx context.Context, r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// pump writes first (if any) and then the rest of r to up in chunks of
// len(buf), and commits once r has ended cleanly. It holds back the last
// chunk read until the next read succeeds or r ends cleanly, so a reader
// that fails at its very end (a VerifyReader whose checksum does not
// match) aborts the upload before its final byte was sent.
func pump(ctx context.Context, r io.Reader, up Upload, first, buf []byte) (err error) {
	defer func() {
		if err != nil {
			up.Abort(err)
		}
	}()
	held := first
	spare := buf
	for {
		n, err := readFull(ctx, r, spare)
		if err != nil && err != io.EOF {
			return err
		}
		if n > 0 && held != nil {
			if err := up.Write(held); err != nil {
				return err
			}
		}
		if err == io.EOF {
			tail := held
			if n > 0 {
				tail = spare[:n]
			}
			if tail != nil {
				if err := up.Write(tail); err != nil {
					return err
				}
			}
			return up.Commit()
		}
		// spare is full (readFull returns short only at an error).
		if held == nil {
			held, spare = spare, make([]byte, len(buf))
		} else {
			held, spare = spare, held[:len(buf)]
		}
	}
}

// Get opens checkpoint id of run.
func (s *Store) Get(ctx context.Context, run, id string) (io.ReadCloser, error) {
	if err := persist.CheckCall(ctx, run, id); err != nil {
		return nil, fmt.Errorf("r2: %w", err)
	}
	rc, _, err := s.b.Get(ctx, s.objKey(run, id))
	if err != nil {
		return nil, fmt.Errorf("r2: get %s/%s: %w", run, id, err)
	}
	return rc, nil
}

// List returns the checkpoints of run sorted by id.
func (s *Store) List(ctx context.Context, run string) ([]persist.Object, error) {
	if err := persist.CheckIDs(run); err != nil {
		return nil, fmt.Errorf("r2: %w", err)
	}
	prefix := s.runPrefix(run)
	var objs []persist.Object
	err := s.list(ctx, prefix, "", func(o Object) {
		id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, prefix), ext)
		if ok && persist.ValidID(id) {
			objs = append(objs, persist.Object{ID: id, Size: o.Size})
		}
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("r2: list %s: %w", run, err)
	}
	// By id, not by key: "a-b.safetensors" < "a.safetensors" but "a" < "a-b".
	slices.SortFunc(objs, func(a, b persist.Object) int { return strings.Compare(a.ID, b.ID) })
	return objs, nil
}

// list calls obj and pre for every object and rolled-up prefix under
// prefix, page by page.
func (s *Store) list(ctx context.Context, prefix, delim string, obj func(Object), pre func(string)) error {
	cursor := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := s.b.List(ctx, prefix, delim, cursor)
		if err != nil {
			return err
		}
		for _, o := range p.Objects {
			if obj != nil {
				obj(o)
			}
		}
		for _, q := range p.Prefixes {
			if pre != nil {
				pre(q)
			}
		}
		if p.Cursor == "" {
			return nil
		}
		cursor = p.Cursor
	}
}

// Delete removes checkpoint id of run, clearing the head first if it
// names id.
func (s *Store) Delete(ctx context.Context, run, id string) error {
	if err := persist.CheckCall(ctx, run, id); err != nil {
		return fmt.Errorf("r2: %w", err)
	}
	key := s.objKey(run, id)
	if _, err := s.b.Stat(ctx, key); err != nil {
		return fmt.Errorf("r2: delete %s/%s: %w", run, id, err)
	}
	for {
		cur, etag, err := s.head(ctx, run)
		if err != nil {
			return fmt.Errorf("r2: %w", err)
		}
		if cur != id {
			break
		}
		err = s.b.Put(ctx, s.headKey(run), nil, nil, Cond{IfMatch: etag})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrPrecondition) {
			return fmt.Errorf("r2: head %s: %w", run, err)
		}
		// The head moved meanwhile: look again.
	}
	if err := s.b.Delete(ctx, key); err != nil {
		return fmt.Errorf("r2: delete %s/%s: %w", run, id, err)
	}
	return nil
}

// Runs lists the runs that hold at least one checkpoint, sorted.
func (s *Store) Runs(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("r2: %w", err)
	}
	prefix := s.opt.Prefix + ckptDir
	var runs []string
	err := s.list(ctx, prefix, "/", nil, func(p string) {
		run := strings.TrimSuffix(strings.TrimPrefix(p, prefix), "/")
		if persist.ValidID(run) {
			runs = append(runs, run)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("r2: runs: %w", err)
	}
	slices.Sort(runs)
	return slices.Compact(runs), nil
}

// Head returns the head checkpoint id of run.
func (s *Store) Head(ctx context.Context, run string) (string, error) {
	if err := persist.CheckCall(ctx, run); err != nil {
		return "", fmt.Errorf("r2: %w", err)
	}
	id, _, err := s.head(ctx, run)
	if err != nil {
		return "", fmt.Errorf("r2: %w", err)
	}
	if id == "" {
		return "", fmt.Errorf("r2: head %s: %w", run, persist.ErrNotExist)
	}
	return id, nil
}

// head reads the run's head object: the id ("" for none) and the
// object's etag ("" if there is no object).
func (s *Store) head(ctx context.Context, run string) (id, etag string, err error) {
	key := s.headKey(run)
	rc, o, err := s.b.Get(ctx, key)
	if errors.Is(err, ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 128))
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", key, err)
	}
	id = strings.TrimSpace(string(b))
	if id != "" && !persist.ValidID(id) {
		return "", "", fmt.Errorf("%s: %w", key, persist.CheckIDs(id))
	}
	return id, o.ETag, nil
}
