package r2_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
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
	"playground/persist/r2"
	"playground/persist/storetest"
)

// memBucket is an R2 bucket in memory, as strict as R2: a streamed put
// stores its object as soon as the last of its bytes arrives (so a Store
// must hold back its final chunk until its reader has ended cleanly),
// multipart parts must be of one size but the last, and listings come in
// small pages.
type memBucket struct {
	mu      sync.Mutex
	objs    map[string][]byte
	streams int // PutStream calls
	digests int // of them with a SHA-256
	parts   int // PutMultipart calls
	sums    int // Put calls given a SHA-256
	// afterStore, if set, runs after an object is stored (outside mu).
	afterStore func(key string)
}

func newMemBucket() *memBucket { return &memBucket{objs: map[string][]byte{}} }

func etag(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func (m *memBucket) store(key string, b []byte) {
	m.mu.Lock()
	m.objs[key] = b
	hook := m.afterStore
	m.mu.Unlock()
	if hook != nil {
		hook(key)
	}
}

func (m *memBucket) Get(ctx context.Context, key string) (io.ReadCloser, r2.Object, error) {
	o, err := m.Stat(ctx, key)
	if err != nil {
		return nil, o, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return io.NopCloser(bytes.NewReader(m.objs[key])), o, nil
}

func (m *memBucket) Stat(ctx context.Context, key string) (r2.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return r2.Object{}, r2.ErrNotExist
	}
	return r2.Object{Key: key, Size: int64(len(b)), ETag: etag(b)}, nil
}

func (m *memBucket) Put(ctx context.Context, key string, data []byte, sum []byte, cond r2.Cond) error {
	// As R2: a body of another SHA-256 than the one given stores nothing.
	if got := sha256.Sum256(data); sum != nil && !bytes.Equal(got[:], sum) {
		return fmt.Errorf("body's SHA-256 %x is not the %x given", got, sum)
	}
	m.mu.Lock()
	if sum != nil {
		m.sums++
	}
	cur, ok := m.objs[key]
	if cond.IfAbsent && ok || cond.IfMatch != "" && (!ok || etag(cur) != cond.IfMatch) {
		m.mu.Unlock()
		return r2.ErrPrecondition
	}
	m.mu.Unlock()
	m.store(key, slices.Clone(data))
	return nil
}

type memStream struct {
	m      *memBucket
	key    string
	size   int64
	sha256 []byte
	buf    []byte
	stored bool
}

func (m *memBucket) PutStream(ctx context.Context, key string, size int64, sum []byte) (r2.Upload, error) {
	m.mu.Lock()
	m.streams++
	if sum != nil {
		m.digests++
	}
	m.mu.Unlock()
	return &memStream{m: m, key: key, size: size, sha256: sum}, nil
}

func (u *memStream) Write(p []byte) error {
	if int64(len(u.buf)+len(p)) > u.size {
		return fmt.Errorf("stream of %d bytes got more", u.size)
	}
	u.buf = append(u.buf, p...)
	if int64(len(u.buf)) == u.size {
		// As R2: a body of another SHA-256 than the one given stores
		// nothing.
		if got := sha256.Sum256(u.buf); u.sha256 != nil && !bytes.Equal(got[:], u.sha256) {
			return fmt.Errorf("stream's SHA-256 %x is not the %x given", got, u.sha256)
		}
		u.m.store(u.key, u.buf)
		u.stored = true
	}
	return nil
}

func (u *memStream) Commit() error {
	if !u.stored {
		return fmt.Errorf("stream of %d bytes got %d", u.size, len(u.buf))
	}
	return nil
}

func (u *memStream) Abort(error) {}

type memMultipart struct {
	m     *memBucket
	key   string
	parts [][]byte
}

func (m *memBucket) PutMultipart(ctx context.Context, key string) (r2.Upload, error) {
	m.mu.Lock()
	m.parts++
	m.mu.Unlock()
	return &memMultipart{m: m, key: key}, nil
}

func (u *memMultipart) Write(p []byte) error {
	if len(p) == 0 {
		return errors.New("empty part")
	}
	u.parts = append(u.parts, slices.Clone(p))
	return nil
}

func (u *memMultipart) Commit() error {
	if len(u.parts) == 0 {
		return errors.New("no parts")
	}
	for _, p := range u.parts[:len(u.parts)-1] {
		if len(p) != len(u.parts[0]) {
			return errors.New("parts of different sizes")
		}
	}
	u.m.store(u.key, bytes.Join(u.parts, nil))
	return nil
}

func (u *memMultipart) Abort(error) { u.parts = nil }

func (m *memBucket) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	return nil
}

const pageSize = 3

func (m *memBucket) List(ctx context.Context, prefix, delim, cursor string) (r2.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objs {
		if strings.HasPrefix(k, prefix) && k > cursor {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var p r2.Page
	for _, k := range keys {
		if len(p.Objects)+len(p.Prefixes) == pageSize {
			p.Cursor = cursor
			break
		}
		cursor = k
		if i := strings.Index(k[len(prefix):], delim); delim != "" && i >= 0 {
			rolled := k[:len(prefix)+i+len(delim)]
			if len(p.Prefixes) == 0 || p.Prefixes[len(p.Prefixes)-1] != rolled {
				p.Prefixes = append(p.Prefixes, rolled)
			}
			continue
		}
		p.Objects = append(p.Objects, r2.Object{Key: k, Size: int64(len(m.objs[k])), ETag: etag(m.objs[k])})
	}
	return p, nil
}

func (m *memBucket) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func newStore(t *testing.T, b r2.Bucket, opt r2.Options) *r2.Store {
	t.Helper()
	s, err := r2.New(b, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persist.Store { return newStore(t, newMemBucket(), r2.NewOptions()) })
}

// TestConformanceMultipart makes parts far smaller than a checkpoint, so
// bodies of unknown length go as multipart uploads.
func TestConformanceMultipart(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persist.Store {
		return newStore(t, newMemBucket(), r2.Options{Prefix: "p/", PartSize: 1000, ChunkSize: 7})
	})
}

func TestLayout(t *testing.T) {
	ctx := t.Context()
	b := newMemBucket()
	s := newStore(t, b, r2.Options{Prefix: "deploy/"})
	if err := s.Put(ctx, "run1", "a", strings.NewReader("one"), persist.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "run1", "b", strings.NewReader("two"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"deploy/checkpoints/run1/a.safetensors", "deploy/checkpoints/run1/b.safetensors", "deploy/heads/run1"}
	if got := b.keys(); !slices.Equal(got, want) {
		t.Errorf("keys = %q, want %q", got, want)
	}
	if _, err := r2.New(b, r2.Options{Prefix: "no-slash"}); err == nil {
		t.Error("New with a prefix not ending in / succeeded")
	}
}

// bigCheckpoint returns a real checkpoint larger than the parts used here.
func bigCheckpoint(t *testing.T) (run, id string, data []byte) {
	t.Helper()
	tr := storetest.NewTrainer(t, "gauss-nesterov")
	tr.TrainStep()
	run, id = "big", persist.NewID(tr.Step)
	data, err := persist.Encode(&persist.Checkpoint{
		Meta:  persist.Meta{RunID: run, ID: id, Kind: persist.KindAutosave, EngineVersion: engine.Version, Created: time.Unix(0, 0).UTC()},
		State: tr.State(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return run, id, data
}

// A verified upload longer than a part streams with its length from the
// header, and any defect, even one found only at the end, stores nothing.
func TestStreamVerified(t *testing.T) {
	ctx := t.Context()
	run, id, data := bigCheckpoint(t)
	// Chunks that divide the file exactly: the last chunk read is whole,
	// and the checksum error comes only with the next read.
	chunk := 256
	for len(data)%chunk != 0 {
		chunk--
	}
	opt := r2.Options{PartSize: len(data) / 3, ChunkSize: chunk}
	put := func(s *r2.Store, b []byte, r io.Reader) error {
		if r == nil {
			r = bytes.NewReader(b)
		}
		return s.Put(ctx, run, id, persist.NewVerifyReader(r), persist.PutOptions{SetHead: true})
	}

	b := newMemBucket()
	s := newStore(t, b, opt)
	if err := put(s, data, nil); err != nil {
		t.Fatal(err)
	}
	if b.streams != 1 || b.parts != 0 {
		t.Errorf("%d streamed puts, %d multipart; want 1 and 0", b.streams, b.parts)
	}
	rc, err := s.Get(ctx, run, id)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, data) {
		t.Errorf("Get: %d bytes, want the %d put", len(got), len(data))
	}

	lastByte := bytes.Clone(data)
	lastByte[len(lastByte)-1] ^= 1
	midByte := bytes.Clone(data)
	midByte[len(midByte)/2] ^= 1
	boom := errors.New("boom")
	for _, tt := range []struct {
		name string
		b    []byte
		r    io.Reader
		want error
	}{
		{"last byte flipped", lastByte, nil, persist.ErrCorrupt},
		{"middle byte flipped", midByte, nil, persist.ErrCorrupt},
		{"last byte missing", data[:len(data)-1], nil, persist.ErrTruncated},
		{"a byte too many", append(bytes.Clone(data), 0), nil, persist.ErrCorrupt},
		{"reader fails", nil, io.MultiReader(bytes.NewReader(data[:len(data)-1]), iotest.ErrReader(boom)), boom},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newMemBucket()
			s := newStore(t, b, opt)
			if err := put(s, tt.b, tt.r); !errors.Is(err, tt.want) {
				t.Errorf("Put = %v, want %v", err, tt.want)
			}
			if keys := b.keys(); len(keys) != 0 {
				t.Errorf("stored %q, want nothing", keys)
			}
		})
	}
}

// A streamed put carries the SHA-256 the writer gave (from the upload's
// Content-Digest) for R2 to check: a wrong one stores nothing.
func TestStreamDigest(t *testing.T) {
	ctx := t.Context()
	run, id, data := bigCheckpoint(t)
	opt := r2.Options{PartSize: len(data) / 3, ChunkSize: 4096}
	sum := sha256.Sum256(data)
	wrong := sha256.Sum256(append(bytes.Clone(data), 0))
	for _, tt := range []struct {
		name   string
		sum    []byte
		stored bool
	}{{"right", sum[:], true}, {"wrong", wrong[:], false}} {
		t.Run(tt.name, func(t *testing.T) {
			b := newMemBucket()
			s := newStore(t, b, opt)
			err := s.Put(ctx, run, id, persist.NewVerifyReader(bytes.NewReader(data)), persist.PutOptions{SetHead: true, SHA256: tt.sum})
			if (err == nil) != tt.stored {
				t.Fatalf("Put = %v, want stored %v", err, tt.stored)
			}
			if b.streams != 1 || b.digests != 1 {
				t.Errorf("%d streamed puts, %d with a SHA-256; want 1 and 1", b.streams, b.digests)
			}
			if keys := b.keys(); tt.stored != (len(keys) > 0) {
				t.Errorf("stored %q", keys)
			}
		})
	}
}

// A put in one request carries the writer's SHA-256 rather than hashing
// the body again; the head object goes without one (computed by Put).
func TestPutDigest(t *testing.T) {
	ctx := t.Context()
	run, id, data := bigCheckpoint(t)
	sum := sha256.Sum256(data)
	wrong := sha256.Sum256(append(bytes.Clone(data), 0))
	for _, tt := range []struct {
		name   string
		sum    []byte
		stored bool
		sums   int
	}{{"right", sum[:], true, 1}, {"wrong", wrong[:], false, 0}, {"none", nil, true, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			b := newMemBucket()
			s := newStore(t, b, r2.NewOptions())
			err := s.Put(ctx, run, id, persist.NewVerifyReader(bytes.NewReader(data)), persist.PutOptions{SetHead: true, SHA256: tt.sum})
			if (err == nil) != tt.stored {
				t.Fatalf("Put = %v, want stored %v", err, tt.stored)
			}
			if b.streams != 0 || b.parts != 0 || b.sums != tt.sums {
				t.Errorf("%d streamed, %d multipart, %d puts with a SHA-256; want 0, 0 and %d", b.streams, b.parts, b.sums, tt.sums)
			}
			if keys := b.keys(); tt.stored != (len(keys) == 2) || !tt.stored && len(keys) != 0 {
				t.Errorf("stored %q", keys)
			}
		})
	}
}

// Of two writers that saw the same head, the one whose head swap comes
// second loses, and the checkpoint it stored is removed again.
func TestHeadRace(t *testing.T) {
	ctx := t.Context()
	b := newMemBucket()
	s := newStore(t, b, r2.NewOptions())
	if err := s.Put(ctx, "run", "a", strings.NewReader("a"), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}
	other := newStore(t, b, r2.NewOptions())
	b.afterStore = func(key string) {
		if strings.HasSuffix(key, "/c.safetensors") {
			b.afterStore = nil
			if err := other.Put(ctx, "run", "b", strings.NewReader("b"), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: "a"}); err != nil {
				t.Errorf("other writer: %v", err)
			}
		}
	}
	err := s.Put(ctx, "run", "c", strings.NewReader("c"), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: "a"})
	if !errors.Is(err, persist.ErrHeadMoved) {
		t.Fatalf("Put = %v, want ErrHeadMoved", err)
	}
	if h, err := s.Head(ctx, "run"); err != nil || h != "b" {
		t.Errorf("Head = %q, %v; want b", h, err)
	}
	objs, err := s.List(ctx, "run")
	if err != nil {
		t.Fatal(err)
	}
	if want := []persist.Object{{ID: "a", Size: 1}, {ID: "b", Size: 1}}; !slices.Equal(objs, want) {
		t.Errorf("List = %v, want %v (the loser's checkpoint removed)", objs, want)
	}
}

func TestDataConformance(t *testing.T) {
	storetest.RunData(t, func(t *testing.T) persist.DataStore {
		return newStore(t, newMemBucket(), r2.Options{Prefix: "p/"})
	})
}

// A dataset is one object, datasets/NAME.csv, put once.
func TestDataLayout(t *testing.T) {
	b := newMemBucket()
	s := newStore(t, b, r2.NewOptions())
	tab := storetest.Table(t, 12)
	for range 2 {
		if err := s.PutData(t.Context(), tab.Name(), tab.Canonical()); err != nil {
			t.Fatal(err)
		}
	}
	if keys := b.keys(); len(keys) != 1 || keys[0] != "datasets/"+tab.Name()+".csv" {
		t.Fatalf("keys %v", keys)
	}
}
