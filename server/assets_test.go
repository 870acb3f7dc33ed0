package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
)

func brotliOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := brotli.NewWriterLevel(&out, brotli.BestCompression)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gzipOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestAssets(t *testing.T) {
	index := []byte("<!doctype html><title>playground</title>")
	app := bytes.Repeat([]byte("console.log('playground');\n"), 50)
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{1, 2, 3, 4}, 500)...)
	css := []byte("body { margin: 0 }")
	fsys := fstest.MapFS{
		"index.html":               {Data: index},
		"app.3f2a9c1b.js":          {Data: app},
		"app.3f2a9c1b.js.br":       {Data: brotliOf(t, app)},
		"app.3f2a9c1b.js.gz":       {Data: gzipOf(t, app)},
		"engine.0123456789ab.wasm": {Data: wasm},
		"main.wasm.br":             {Data: brotliOf(t, wasm)}, // shipped only compressed
		"worker.js":                {Data: app},
		"style.css":                {Data: css},
		"sub/index.html":           {Data: index},
		"sw.js":                    {Data: app},
	}
	srv := httptest.NewServer(New(nil, Options{Assets: fsys, Token: "secret"}))
	defer srv.Close()

	get := func(path string, hdr ...string) answer {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		// A bare transport: no automatic gzip, no decoding.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, b}
	}
	tests := []struct {
		path, accept string
		status       int
		body         []byte
		ctype, enc   string
		cache        string
		vary         bool
	}{
		{"/", "", 200, index, "text/html; charset=utf-8", "", "no-cache", false},
		{"/index.html", "br, gzip", 200, index, "text/html; charset=utf-8", "", "no-cache", false},
		{"/sub/", "", 200, index, "text/html; charset=utf-8", "", "no-cache", false},
		{"/app.3f2a9c1b.js", "gzip, deflate, br", 200, fsys["app.3f2a9c1b.js.br"].Data, "text/javascript; charset=utf-8", "br", cacheImmutable, true},
		{"/app.3f2a9c1b.js", "gzip", 200, fsys["app.3f2a9c1b.js.gz"].Data, "text/javascript; charset=utf-8", "gzip", cacheImmutable, true},
		{"/app.3f2a9c1b.js", "br;q=0, gzip;q=0.5", 200, fsys["app.3f2a9c1b.js.gz"].Data, "text/javascript; charset=utf-8", "gzip", cacheImmutable, true},
		{"/app.3f2a9c1b.js", "*", 200, fsys["app.3f2a9c1b.js.br"].Data, "text/javascript; charset=utf-8", "br", cacheImmutable, true},
		{"/app.3f2a9c1b.js", "", 200, app, "text/javascript; charset=utf-8", "", cacheImmutable, true},
		{"/engine.0123456789ab.wasm", "br", 200, wasm, "application/wasm", "", cacheImmutable, false},
		{"/main.wasm", "br", 200, fsys["main.wasm.br"].Data, "application/wasm", "br", "no-cache", true},
		{"/main.wasm", "gzip", 200, wasm, "application/wasm", "", "no-cache", true},
		{"/worker.js", "", 200, app, "text/javascript; charset=utf-8", "", "no-cache", false},
		{"/style.css", "", 200, css, "text/css; charset=utf-8", "", "no-cache", false},
		// The service worker: a script at the root (its scope is the whole
		// page), revalidated so that a deploy replaces it.
		{"/sw.js", "", 200, app, "text/javascript; charset=utf-8", "", "no-cache", false},
		{"/missing.js", "", 404, nil, "", "", "", false},
		{"/../../etc/passwd", "", 404, nil, "", "", "", false},
	}
	for _, tt := range tests {
		a := get(tt.path, "Accept-Encoding", tt.accept)
		what := tt.path + " (Accept-Encoding: " + tt.accept + ")"
		if a.status != tt.status {
			t.Errorf("%s: status %d, want %d", what, a.status, tt.status)
			continue
		}
		if tt.status != 200 {
			continue
		}
		if !bytes.Equal(a.body, tt.body) {
			t.Errorf("%s: body of %d bytes, want %d", what, len(a.body), len(tt.body))
		}
		if got := a.header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("%s: Content-Type %q, want %q", what, got, tt.ctype)
		}
		if got := a.header.Get("Content-Encoding"); got != tt.enc {
			t.Errorf("%s: Content-Encoding %q, want %q", what, got, tt.enc)
		}
		if got := a.header.Get("Cache-Control"); got != tt.cache {
			t.Errorf("%s: Cache-Control %q, want %q", what, got, tt.cache)
		}
		if got := a.header.Get("Content-Length"); tt.path != "/main.wasm" || tt.enc != "" {
			if got != strconv.Itoa(len(tt.body)) {
				t.Errorf("%s: Content-Length %q, want %d", what, got, len(tt.body))
			}
		}
		if got := a.header.Get("Vary") == "Accept-Encoding"; got != tt.vary {
			t.Errorf("%s: Vary %q, want Accept-Encoding: %v", what, a.header.Get("Vary"), tt.vary)
		}
	}

	// Revalidation by ETag, distinct per encoding.
	br := get("/app.3f2a9c1b.js", "Accept-Encoding", "br")
	gz := get("/app.3f2a9c1b.js", "Accept-Encoding", "gzip")
	if br.header.Get("ETag") == "" || br.header.Get("ETag") == gz.header.Get("ETag") {
		t.Errorf("ETags br %q gzip %q: want two distinct ones", br.header.Get("ETag"), gz.header.Get("ETag"))
	}
	if a := get("/app.3f2a9c1b.js", "Accept-Encoding", "br", "If-None-Match", br.header.Get("ETag")); a.status != 304 {
		t.Errorf("conditional GET: %d, want 304", a.status)
	}
	if a := get("/sub"); a.status != 301 || a.header.Get("Location") != "/sub/" {
		t.Errorf("/sub: %d to %q, want a redirect to /sub/", a.status, a.header.Get("Location"))
	}
	req, _ := http.NewRequest("POST", srv.URL+"/index.html", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST asset: %v %v, want 405", resp.Status, err)
	}
	// The assets are public; the API is not.
	if a := get("/api/runs"); a.status != 401 {
		t.Errorf("/api/runs without token: %d", a.status)
	}
}

func TestNotBuiltPage(t *testing.T) {
	for _, fsys := range []fs.FS{nil, fstest.MapFS{"README.md": {Data: []byte("placeholder")}}} {
		base, _ := newServer(t, Options{Assets: fsys})
		a := send(t, "GET", base+"/", nil)
		page := string(a.body)
		if a.status != 200 || a.header.Get("Content-Type") != "text/html; charset=utf-8" || a.header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("/: %d %v", a.status, a.header)
		}
		for _, want := range []string{"not built", "make run", `fetch("/api/runs"`} {
			if !strings.Contains(page, want) {
				t.Errorf("placeholder page does not contain %q", want)
			}
		}
		if a := send(t, "GET", base+"/api/runs", nil); a.status != 200 || strings.TrimSpace(string(a.body)) != "[]" {
			t.Errorf("/api/runs on an empty store: %d %s", a.status, a.body)
		}
	}
}

func TestAcceptEncodings(t *testing.T) {
	for _, tt := range []struct {
		h      string
		br, gz bool
	}{
		{"", false, false},
		{"gzip", false, true},
		{"br", true, false},
		{"gzip, deflate, br, zstd", true, true},
		{"br;q=0", false, false},
		{"br; q=0.0, gzip; q=1", false, true},
		{"*", true, true},
		{"*;q=0, gzip", false, true},
		{"identity", false, false},
		{"x-gzip", false, true},
		{"BR", true, false},
	} {
		if br, gz := acceptEncodings(tt.h); br != tt.br || gz != tt.gz {
			t.Errorf("acceptEncodings(%q) = %v, %v; want %v, %v", tt.h, br, gz, tt.br, tt.gz)
		}
	}
}

// checkAnswers checks that f answers each input of want as it says.
func checkAnswers(t *testing.T, name string, f func(string) bool, want map[string]bool) {
	t.Helper()
	for in, w := range want {
		if got := f(in); got != w {
			t.Errorf("%s(%q) = %v, want %v", name, in, got, w)
		}
	}
}

func TestHashedNames(t *testing.T) {
	immutable := func(name string) bool { return cacheControl(name) == cacheImmutable }
	checkAnswers(t, "immutable", immutable, map[string]bool{
		"app.3f2a9c1b.js":                  true,
		"engine.0123456789abcdef0123.wasm": true,
		"a/b/app.3f2a9c1b.css":             true,
		"app.js":                           false,
		"app.3f2a9c1.js":                   false, // 7 digits
		"app.3F2A9C1B.js":                  false,
		"index.html":                       false,
		"wasm_exec.js":                     false,
		"3f2a9c1b.js":                      false,
	})
}

func TestIsLoopback(t *testing.T) {
	checkAnswers(t, "IsLoopback", IsLoopback, map[string]bool{
		"127.0.0.1:8080": true,
		"127.1.2.3:80":   true,
		"[::1]:8080":     true,
		"localhost:8080": true,
		"LOCALHOST:1":    true,
		":8080":          false,
		"0.0.0.0:8080":   false,
		"[::]:8080":      false,
		"192.168.1.2:80": false,
		"example.com:80": false,
		"127.0.0.1":      true,
	})
}
