package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"playground/persist"
	"playground/persist/storetest"
)

// Any request (method, path, query, preconditions, digest, body) gets an
// answer, never a panic: an API answer is JSON, never a 500, and a PUT
// stores a checkpoint only if it is a valid one of the URL's run and id
// (byte for byte what was sent).
func FuzzAPI(f *testing.F) {
	good := ckpt(f, testRun, persist.NewID(3), persist.KindAutosave)
	for _, seed := range []struct {
		method, target, ifMatch, digest string
		body                            []byte
	}{
		{"PUT", "/api/runs/" + testRun + "/checkpoints/" + persist.NewID(3) + "?head=move", "", "", good},
		{"PUT", "/api/runs/" + testRun + "/checkpoints/x?head=force", `"a"`, "sha-256=:AAAA:", good[:100]},
		{"GET", "/api/runs/" + testRun + "/head", "", "", nil},
		{"GET", "/api/runs", "", "", nil},
		{"DELETE", "/api/runs/../checkpoints/%2e%2e", "*", "", nil},
		{"PUT", "/api/runs/a/checkpoints/b?head=move", `W/"x"`, "sha-512=:x:, sha-256=:", []byte("garbage")},
		{"GET", "/", "", "", nil},
	} {
		f.Add(seed.method, seed.target, seed.ifMatch, seed.digest, seed.body)
	}
	st := storetest.Disk(f)
	h := New(st, Options{MaxUpload: 1 << 20})
	f.Fuzz(func(t *testing.T, method, target, ifMatch, digest string, body []byte) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		if digest != "" {
			req.Header.Set("Content-Digest", digest)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !strings.HasPrefix(req.URL.Path, "/api/") {
			return
		}
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
		}
		if w.Code >= 400 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: %d with a body that is not JSON: %q", method, target, w.Code, w.Body)
		}
		if method == "PUT" && w.Code/100 == 2 {
			c, err := persist.Decode(body)
			if err != nil {
				t.Fatalf("PUT of an invalid checkpoint answered %d: %v", w.Code, err)
			}
			stored, err := persist.ReadAll(t.Context(), st, c.RunID, c.ID)
			if err != nil || sha256.Sum256(stored) != sha256.Sum256(body) {
				t.Fatalf("PUT answered %d, but %s/%s reads back %d bytes, %v", w.Code, c.RunID, c.ID, len(stored), err)
			}
		}
	})
}

// A Content-Digest header never panics; a sha-256 it finds is 32 bytes.
func FuzzContentDigest(f *testing.F) {
	for _, s := range []string{"sha-256=:AAAA:", "sha-512=:x:, sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:", "sha-256=", "=", ",,,", "SHA-256 = :: "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		sum, err := contentDigest(h)
		if err == nil && sum != nil && len(sum) != sha256.Size {
			t.Fatalf("%q: a sha-256 of %d bytes", h, len(sum))
		}
	})
}
