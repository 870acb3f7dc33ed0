//go:build js && wasm && playgroundtest

package main

// Test mode, compiled only with the playgroundtest build tag (which only
// workers_test sets, through PLAYGROUND_WORKER_TAGS for ./build) and on
// only with PLAYGROUND_TEST=1 and a token: /_test/NS/... is the server over
// keys under _test/NS/, a fresh store for each NS, /_test/NS/raw/RUN/ID
// that store's bytes as they are (PUT, GET), both taking only uploads with
// a Content-Length; and every answer carries X-Go-Memory (runtime.MemStats
// at the time it was written).

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"

	"github.com/syumai/workers/cloudflare"

	"playground/persist"
	"playground/persist/r2"
	"playground/server"
)

// testMode adds the test routes and X-Go-Memory to h.
func testMode(h http.Handler, bucket r2.Bucket, opt server.Options) http.Handler {
	if cloudflare.Getenv("PLAYGROUND_TEST") != "1" || opt.Token == "" {
		return h
	}
	return memHeader(testStores(h, bucket, opt))
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
	got, want := sha256.Sum256([]byte(r.Header.Get("Authorization"))), sha256.Sum256([]byte("Bearer "+token))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
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
