//go:build js && wasm

package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall/js"

	"playground/internal/jspromise"
)

// Options configure a Store; zero fields take the defaults of NewOptions.
// In the browser requests go through fetch: net/http's client would more
// than double the size of the engine worker's wasm.
type Options struct {
	Token string // bearer token sent with every request; "" sends none
	// Digest sends the SHA-256 of an upload whose bytes are at hand as
	// its Content-Digest (see the native Options). Off by default here:
	// hashing in wasm holds up the thread that trains.
	Digest bool
}

// NewOptions returns the default options: no token, no digests.
func NewOptions() Options { return Options{} }

func (o *Options) fill() {}

var (
	jsObject     = js.Global().Get("Object")
	jsUint8Array = js.Global().Get("Uint8Array")
)

// roundTrip sends req with fetch. An upload is read whole first (fetch
// streams request bodies only over HTTP/2); the response streams. ctx
// aborts the request.
func (s *Store) roundTrip(ctx context.Context, req request) (int, io.ReadCloser, error) {
	fetch := js.Global().Get("fetch")
	if fetch.Type() != js.TypeFunction {
		return 0, nil, errors.New("remote: this JavaScript host has no fetch")
	}
	init := jsObject.New()
	init.Set("method", req.method)
	hdr := jsObject.New()
	for _, h := range req.header {
		hdr.Set(h[0], h[1])
	}
	init.Set("headers", hdr)
	if req.body != nil {
		b, err := io.ReadAll(req.body)
		if err != nil {
			return 0, nil, err
		}
		u := jsUint8Array.New(len(b))
		js.CopyBytesToJS(u, b)
		init.Set("body", u)
	}
	ac := js.Global().Get("AbortController").New()
	init.Set("signal", ac.Get("signal"))
	stop := context.AfterFunc(ctx, func() { ac.Call("abort") })
	resp, err := jspromise.Await(fetch.Invoke(req.url, init))
	if err != nil {
		stop()
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		// fetch rejects only when no answer came: the network or the server is away.
		return 0, nil, unreachable(req, err)
	}
	body := &streamBody{ctx: ctx, stop: stop}
	if b := resp.Get("body"); b.Truthy() {
		body.reader = b.Call("getReader")
	}
	return resp.Get("status").Int(), body, nil
}

// streamBody reads a fetch response's ReadableStream.
type streamBody struct {
	ctx    context.Context
	stop   func() bool
	reader js.Value // undefined: no body
	buf    []byte
	err    error
}

func (b *streamBody) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if !b.reader.Truthy() {
			b.err = io.EOF
			continue
		}
		r, err := jspromise.Await(b.reader.Call("read"))
		switch {
		case err != nil && b.ctx.Err() != nil:
			b.err = b.ctx.Err()
		case err != nil:
			b.err = fmt.Errorf("remote: reading the response: %w", err)
		case r.Get("done").Bool():
			b.err = io.EOF
		default:
			v := r.Get("value")
			b.buf = make([]byte, v.Length())
			js.CopyBytesToGo(b.buf, v)
		}
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *streamBody) Close() error {
	if b.reader.Truthy() && b.err == nil {
		b.reader.Call("cancel")
	}
	b.err = errors.New("remote: body closed")
	b.stop()
	return nil
}
