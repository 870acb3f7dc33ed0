//go:build js && wasm

package r2

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"syscall/js"
)

// Binding is a Bucket over an R2 bucket binding of a Worker (env.BUCKET),
// called through syscall/js: puts stream (FixedLengthStream, multipart)
// and listings take a prefix and a cursor, which github.com/syumai/workers'
// r2 package does not offer.
type Binding struct {
	v js.Value
}

var _ Bucket = (*Binding)(nil)

// NewBinding returns the Bucket of a binding, e.g.
// cloudflare.GetBinding("BUCKET").
func NewBinding(v js.Value) (*Binding, error) {
	if v.Type() != js.TypeObject || v.Get("put").Type() != js.TypeFunction {
		return nil, errors.New("r2: not an R2 bucket binding")
	}
	return &Binding{v: v}, nil
}

var (
	jsObject     = js.Global().Get("Object")
	jsArray      = js.Global().Get("Array")
	jsUint8Array = js.Global().Get("Uint8Array")
	jsError      = js.Global().Get("Error")
)

// promise is a JS promise whose outcome Go can wait for; the handlers are
// attached at once, so a rejection nobody waits for is still handled.
type promise struct {
	done chan struct{}
	val  js.Value
	err  error
}

func await(p js.Value) *promise {
	w := &promise{done: make(chan struct{})}
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		if len(args) > 0 {
			w.val = args[0]
		}
		close(w.done)
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		w.err = errors.New("(no reason)")
		if len(args) > 0 {
			w.err = jsErr(args[0])
		}
		close(w.done)
		return nil
	})
	p.Call("then", then, catch)
	return w
}

// wait returns the promise's value, or ctx's error if ctx ends first (the
// JS operation itself goes on).
func (w *promise) wait(ctx context.Context) (js.Value, error) {
	select {
	case <-w.done:
		return w.val, w.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// call calls a method that returns a promise and waits for it; a
// synchronous throw comes back as an error too.
func call(ctx context.Context, v js.Value, method string, args ...any) (val js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", method, r)
		}
	}()
	return await(v.Call(method, args...)).wait(ctx)
}

// jsErr turns a thrown JS value into an error carrying its message.
func jsErr(v js.Value) error {
	if v.Type() == js.TypeObject && !v.Get("message").IsUndefined() {
		return errors.New(v.Get("message").String())
	}
	return errors.New(v.Call("toString").String())
}

func bytesToJS(p []byte) js.Value {
	u := jsUint8Array.New(len(p))
	js.CopyBytesToJS(u, p)
	return u
}

func toObject(v js.Value) Object {
	return Object{Key: v.Get("key").String(), Size: int64(v.Get("size").Float()), ETag: v.Get("etag").String()}
}

// Get opens an object; its body streams as it is read.
func (b *Binding) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	v, err := call(ctx, b.v, "get", key)
	if err != nil {
		return nil, Object{}, fmt.Errorf("get %s: %w", key, err)
	}
	if v.IsNull() || v.IsUndefined() {
		return nil, Object{}, fmt.Errorf("get %s: %w", key, ErrNotExist)
	}
	// Reading stops early (a header is all the server wants of some),
	// and then the download is cancelled.
	return &streamReader{ctx: ctx, stream: v.Get("body"), chunk: 256 << 10, cancel: true}, toObject(v), nil
}

// streamReader reads a JS ReadableStream.
type streamReader struct {
	ctx    context.Context
	stream js.Value
	r      js.Value // ReadableStreamBYOBReader or ReadableStreamDefaultReader, once reading
	byob   bool
	chunk  int
	cancel bool // Close cancels the stream rather than drain it
	buf    []byte
	rest   []byte // buf's bytes not yet returned
	err    error
	done   bool
}

// NewStreamReader reads a JS ReadableStream, such as a request's body.
// Each read from JS (a promise and a wake-up of Go) costs far more than
// the bytes it brings, so a byte stream is read with BYOB reads of at
// least chunk bytes (default 256 KiB) rather than in the few KB the
// network delivers at a time. Close reads what is left of a stream that
// was read in part (a handler that refused an upload after its header):
// a request whose body was read only in part stalled the next request on
// the same connection under wrangler dev (workerd), and answered 503.
func NewStreamReader(ctx context.Context, stream js.Value, chunk int) io.ReadCloser {
	if chunk <= 0 {
		chunk = 256 << 10
	}
	return &streamReader{ctx: ctx, stream: stream, chunk: chunk}
}

// lock gets the stream's reader: BYOB if it is a byte stream.
func (r *streamReader) lock() (err error) {
	func() {
		defer func() { recover() }() // not a byte stream: getReader throws
		opts := jsObject.New()
		opts.Set("mode", "byob")
		r.r = r.stream.Call("getReader", opts)
		r.byob = true
	}()
	if r.byob {
		return nil
	}
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("reading a stream: %v", e)
		}
	}()
	r.r = r.stream.Call("getReader")
	return nil
}

func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if err := r.ctx.Err(); err != nil {
			return 0, err
		}
		if r.r.IsUndefined() {
			if r.err = r.lock(); r.err != nil {
				continue
			}
		}
		var v js.Value
		var err error
		if r.byob {
			o := jsObject.New()
			o.Set("min", r.chunk)
			v, err = call(r.ctx, r.r, "read", jsUint8Array.New(r.chunk), o)
		} else {
			v, err = call(r.ctx, r.r, "read")
		}
		if err != nil {
			r.err = err
			continue
		}
		// A BYOB read may bring the last bytes together with done.
		if chunk := v.Get("value"); !chunk.IsUndefined() {
			if n := chunk.Get("byteLength").Int(); n > 0 {
				if cap(r.buf) < n {
					r.buf = make([]byte, n)
				}
				r.rest = r.buf[:n]
				js.CopyBytesToGo(r.rest, chunk)
			}
		}
		if v.Get("done").Bool() {
			r.err, r.done = io.EOF, true
		}
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

func (r *streamReader) Close() error {
	if r.r.IsUndefined() || r.done {
		return nil // never read (the runtime drains it), or read to the end
	}
	if r.cancel {
		r.done = true
		await(r.r.Call("cancel")) // its outcome does not matter
		return nil
	}
	for r.err == nil && r.ctx.Err() == nil {
		r.rest = nil
		r.Read(nil)
	}
	return nil
}

// Stat describes an object.
func (b *Binding) Stat(ctx context.Context, key string) (Object, error) {
	v, err := call(ctx, b.v, "head", key)
	if err != nil {
		return Object{}, fmt.Errorf("head %s: %w", key, err)
	}
	if v.IsNull() || v.IsUndefined() {
		return Object{}, fmt.Errorf("head %s: %w", key, ErrNotExist)
	}
	return toObject(v), nil
}

// Put stores data with its SHA-256 (sha256, or computed by WebCrypto if
// nil), which R2 checks before it stores anything.
func (b *Binding) Put(ctx context.Context, key string, data []byte, sha256 []byte, cond Cond) error {
	u := bytesToJS(data)
	opts := jsObject.New()
	if sha256 != nil {
		opts.Set("sha256", hex.EncodeToString(sha256))
	} else {
		sum, err := call(ctx, js.Global().Get("crypto").Get("subtle"), "digest", "SHA-256", u)
		if err != nil {
			return fmt.Errorf("put %s: sha-256: %w", key, err)
		}
		opts.Set("sha256", sum)
	}
	if cond.IfMatch != "" || cond.IfAbsent {
		only := jsObject.New()
		if cond.IfMatch != "" {
			only.Set("etagMatches", cond.IfMatch)
		}
		if cond.IfAbsent {
			only.Set("etagDoesNotMatch", "*")
		}
		opts.Set("onlyIf", only)
	}
	v, err := call(ctx, b.v, "put", key, u, opts)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if v.IsNull() {
		return fmt.Errorf("put %s: %w", key, ErrPrecondition)
	}
	return nil
}

// streamUpload writes into the writable half of a FixedLengthStream whose
// readable half is the body of a pending put.
type streamUpload struct {
	ctx context.Context
	key string
	w   js.Value // WritableStreamDefaultWriter
	put *promise
}

// PutStream starts a put whose body is a FixedLengthStream of size bytes
// (R2 refuses a stream of unknown length).
func (b *Binding) PutStream(ctx context.Context, key string, size int64, sha256 []byte) (u Upload, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("put %s: %v", key, r)
		}
	}()
	fls := js.Global().Get("FixedLengthStream")
	if fls.IsUndefined() {
		return nil, fmt.Errorf("put %s: no FixedLengthStream (not on Workers)", key)
	}
	s := fls.New(float64(size))
	opts := jsObject.New()
	if sha256 != nil {
		opts.Set("sha256", hex.EncodeToString(sha256))
	}
	put := await(b.v.Call("put", key, s.Get("readable"), opts))
	return &streamUpload{ctx: ctx, key: key, w: s.Get("writable").Call("getWriter"), put: put}, nil
}

func (u *streamUpload) Write(p []byte) error {
	// The write resolves once the put has taken the chunk: at most one
	// chunk is in flight.
	if _, err := call(u.ctx, u.w, "write", bytesToJS(p)); err != nil {
		return u.failed(err)
	}
	return nil
}

// failed prefers the put's own error (why the stream was cancelled) to the
// writer's.
func (u *streamUpload) failed(err error) error {
	select {
	case <-u.put.done:
		if u.put.err != nil {
			err = u.put.err
		}
	default:
	}
	return fmt.Errorf("put %s: %w", u.key, err)
}

func (u *streamUpload) Commit() error {
	if _, err := call(u.ctx, u.w, "close"); err != nil {
		return u.failed(err)
	}
	if _, err := u.put.wait(u.ctx); err != nil {
		return fmt.Errorf("put %s: %w", u.key, err)
	}
	return nil
}

// Abort errors the stream, so the put fails and stores nothing.
func (u *streamUpload) Abort(reason error) {
	await(u.w.Call("abort", jsError.New(reason.Error())))
	u.put.wait(context.WithoutCancel(u.ctx))
}

// multipartUpload uploads each Write as the next part.
type multipartUpload struct {
	ctx   context.Context
	key   string
	mp    js.Value // R2MultipartUpload
	parts js.Value // Array of R2UploadedPart
}

// PutMultipart starts a multipart upload.
func (b *Binding) PutMultipart(ctx context.Context, key string) (Upload, error) {
	mp, err := call(ctx, b.v, "createMultipartUpload", key)
	if err != nil {
		return nil, fmt.Errorf("put %s: multipart: %w", key, err)
	}
	return &multipartUpload{ctx: ctx, key: key, mp: mp, parts: jsArray.New()}, nil
}

func (u *multipartUpload) Write(p []byte) error {
	n := u.parts.Length() + 1
	part, err := call(u.ctx, u.mp, "uploadPart", n, bytesToJS(p))
	if err != nil {
		return fmt.Errorf("put %s: part %d: %w", u.key, n, err)
	}
	u.parts.Call("push", part)
	return nil
}

func (u *multipartUpload) Commit() error {
	if _, err := call(u.ctx, u.mp, "complete", u.parts); err != nil {
		return fmt.Errorf("put %s: complete multipart: %w", u.key, err)
	}
	return nil
}

func (u *multipartUpload) Abort(error) {
	call(context.WithoutCancel(u.ctx), u.mp, "abort")
}

// Delete removes an object.
func (b *Binding) Delete(ctx context.Context, key string) error {
	if _, err := call(ctx, b.v, "delete", key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// List returns one page of the keys under prefix.
func (b *Binding) List(ctx context.Context, prefix, delimiter, cursor string) (Page, error) {
	opts := jsObject.New()
	opts.Set("prefix", prefix)
	if delimiter != "" {
		opts.Set("delimiter", delimiter)
	}
	if cursor != "" {
		opts.Set("cursor", cursor)
	}
	v, err := call(ctx, b.v, "list", opts)
	if err != nil {
		return Page{}, fmt.Errorf("list %s: %w", prefix, err)
	}
	var p Page
	objs := v.Get("objects")
	for i := range objs.Length() {
		p.Objects = append(p.Objects, toObject(objs.Index(i)))
	}
	if pre := v.Get("delimitedPrefixes"); !pre.IsUndefined() {
		for i := range pre.Length() {
			p.Prefixes = append(p.Prefixes, pre.Index(i).String())
		}
	}
	if v.Get("truncated").Bool() {
		p.Cursor = v.Get("cursor").String()
	}
	return p, nil
}
