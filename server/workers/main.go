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
//	PLAYGROUND_TEST=1   test mode, in a build with the playgroundtest tag only (the one
//	                    workers_test builds, never a deploy) and with a token: see
//	                    testmode.go
//
// Workers start the Go runtime afresh for each request, so each request
// builds its handler here.
package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"syscall/js"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"

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
	return withBody(testMode(h, bucket, opt)), nil
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
