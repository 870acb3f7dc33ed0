//go:build js && wasm

// Command workers is the server on Cloudflare Workers: the checkpoint API
// of package server over an R2 bucket (persist/r2). Workers' static assets
// serve the page (web/dist, staged by ./build); requests that match no
// asset, and all of /api/, reach this handler.
//
// Bindings and variables (wrangler.toml):
//
//	BUCKET              the R2 bucket
//	PLAYGROUND_TOKEN    the API's bearer token (a secret); without one the API answers 503
//	PLAYGROUND_TEST=1   test mode, for wrangler dev in tests only: /_test/NS/... is the
//	                    server over keys under _test/NS/, a fresh store for each NS,
//	                    /_test/NS/raw/RUN/ID that store's bytes as they are (PUT, GET),
//	                    both taking only uploads with a Content-Length; and every
//	                    answer carries X-Go-Memory (runtime.MemStats at the time it
//	                    was written)
//
// Workers start the Go runtime afresh for each request, so each request
// builds its handler here.
package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"syscall/js"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"

	"playground/persist"
	"playground/persist/r2"
	"playground/server"
)

func main() {
	h, err := handler()
	if err != nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "playground worker: "+err.Error(), http.StatusInternalServerError)
		})
	}
	workers.Serve(h)
}

func handler() (http.Handler, error) {
	bucket, err := r2.NewBinding(cloudflare.GetBinding("BUCKET"))
	if err != nil {
		return nil, fmt.Errorf("binding BUCKET: %w (add [[r2_buckets]] binding = \"BUCKET\" to wrangler.toml)", err)
	}
	opt := server.NewOptions()
	opt.Token = cloudflare.Getenv("PLAYGROUND_TOKEN")
	opt.Logger = slog.New(slog.NewTextHandler(os.Stdout, nil))
	store, err := r2.New(bucket, r2.NewOptions())
	if err != nil {
		return nil, err
	}
	var h http.Handler = server.New(store, opt)
	if opt.Token == "" {
		h = noToken(h)
	}
	if cloudflare.Getenv("PLAYGROUND_TEST") == "1" {
		h = memHeader(testStores(h, bucket, opt))
	}
	return withBody(h), nil
}

// withBody gives every request a body: the Workers runtime has none (null)
// for an empty one, and the handler reads r.Body of a PUT whatever it is.
// A body is read in large chunks (r2.NewStreamReader): reading it as the
// network delivers it, a few KB per call into JS, made a 50 MB upload take
// several times longer.
func withBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw, ok := r.Body.(interface{ GetRawJSBody() js.Value }); ok {
			r.Body = r2.NewStreamReader(r.Context(), raw.GetRawJSBody(), 0)
		}
		if r.Body == nil {
			r.Body = http.NoBody
		}
		// As net/http does: a body left unread (a refused upload) goes back
		// to the runtime, which drains it.
		defer r.Body.Close()
		h.ServeHTTP(w, r)
	})
}

// noToken refuses the API: a Worker is never on loopback, and the server
// must not run open.
func noToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"error":"the API is off: this worker has no token (set one with: wrangler secret put PLAYGROUND_TOKEN)"}`)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// testStores routes /_test/NS/... to the server over a store of its own
// (the R2 keys under _test/NS/), so each conformance subtest gets an empty
// store; and /_test/NS/raw/RUN/ID to the store itself, which PUT fills
// with the body as it is and GET reads: the server always knows an
// upload's length from its header, so only this route reaches the
// binding's multipart upload.
func testStores(h http.Handler, bucket r2.Bucket, opt server.Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/_test/")
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		ns, path, _ := strings.Cut(rest, "/")
		if !persist.ValidID(ns) {
			http.Error(w, "bad test namespace", http.StatusBadRequest)
			return
		}
		// A client that cuts a chunked body off upsets wrangler dev's
		// local proxy (it held up the next request for 2 minutes), so the
		// suite's failing and canceled readers, sent chunked, are refused
		// here; persist/r2 tests them on a bucket in memory.
		if r.Method == http.MethodPut && r.ContentLength < 0 {
			http.Error(w, "test stores take only bodies with a Content-Length", http.StatusLengthRequired)
			return
		}
		ro := r2.NewOptions()
		ro.Prefix = "_test/" + ns + "/"
		store, err := r2.New(bucket, ro)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if raw, ok := strings.CutPrefix(path, "raw/"); ok {
			rawStore(w, r, store, raw, opt.Token)
			return
		}
		http.StripPrefix("/_test/"+ns, server.New(store, opt)).ServeHTTP(w, r)
	})
}

// rawStore puts or gets RUN/ID of store with bytes as they are; with
// X-Test-SHA256 (hex) the PUT body is a checkpoint, streamed with that
// SHA-256 for R2 to check.
func rawStore(w http.ResponseWriter, r *http.Request, store *r2.Store, path, token string) {
	if r.Header.Get("Authorization") != "Bearer "+token {
		http.Error(w, "no or wrong token", http.StatusUnauthorized)
		return
	}
	run, id, _ := strings.Cut(path, "/")
	switch r.Method {
	case http.MethodPut:
		var body io.Reader = r.Body
		var opt persist.PutOptions
		if h := r.Header.Get("X-Test-SHA256"); h != "" {
			// A checkpoint with a SHA-256 for R2 to check, as the server
			// would pass it on, but unchecked here.
			sum, err := hex.DecodeString(h)
			if err != nil {
				http.Error(w, "X-Test-SHA256: "+err.Error(), http.StatusBadRequest)
				return
			}
			body, opt.SHA256 = persist.NewVerifyReader(r.Body), sum
		}
		if err := store.Put(r.Context(), run, id, body, opt); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		rc, err := store.Get(r.Context(), run, id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer rc.Close()
		io.Copy(w, rc)
	default:
		http.Error(w, "PUT or GET", http.StatusMethodNotAllowed)
	}
}

// memHeader stamps each answer with the Go runtime's memory when its
// header is written (an upload has been read by then).
func memHeader(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&memWriter{ResponseWriter: w}, r)
	})
}

type memWriter struct {
	http.ResponseWriter
	stamped bool
}

func (w *memWriter) stamp() {
	if w.stamped {
		return
	}
	w.stamped = true
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.Header().Set("X-Go-Memory", fmt.Sprintf("sys=%d heap_sys=%d heap_inuse=%d total_alloc=%d num_gc=%d",
		m.Sys, m.HeapSys, m.HeapInuse, m.TotalAlloc, m.NumGC))
}

func (w *memWriter) WriteHeader(code int) { w.stamp(); w.ResponseWriter.WriteHeader(code) }

func (w *memWriter) Write(p []byte) (int, error) { w.stamp(); return w.ResponseWriter.Write(p) }

func (w *memWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
