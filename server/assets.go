package server

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

// assets serves the page's files from an fs.FS.
type assets struct {
	fsys fs.FS // nil when there are none

	mu    sync.Mutex
	etags map[etagKey]string
}

type etagKey struct {
	name    string
	size    int64
	modTime time.Time
}

func newAssets(fsys fs.FS) *assets { return &assets{fsys: fsys, etags: map[etagKey]string{}} }

// hashedName matches file names that carry a hash of their content,
// NAME.HASH.EXT with HASH 8 to 64 lowercase hex digits (app.3f2a9c1b.js,
// engine.0123456789abcdef.wasm): they never change, so they are cached
// for a year as immutable.
var hashedName = regexp.MustCompile(`^[^/]+\.[0-9a-f]{8,64}\.[a-z0-9]+$`)

// Cache-Control values.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache" // HTML and every unhashed name: always revalidated (by ETag)
)

// contentTypes fixes the types the page depends on, whatever the system's
// MIME tables say.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".wasm":        "application/wasm",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".safetensors": "application/octet-stream",
}

func contentType(name string) string {
	ext := path.Ext(name)
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func cacheControl(name string) string {
	if cc := ImmutableCacheControl(name); cc != "" {
		return cc
	}
	return cacheRevalidate
}

// ImmutableCacheControl is the Cache-Control of a file (slash-separated
// name) whose name carries a hash of its content, "" for any other: the
// server sends it, and the Workers build writes it into _headers.
func ImmutableCacheControl(name string) string {
	if hashedName.MatchString(path.Base(name)) {
		return cacheImmutable
	}
	return ""
}

func (a *assets) exists(name string) bool {
	if a.fsys == nil {
		return false
	}
	fi, err := fs.Stat(a.fsys, name)
	return err == nil && fi.Mode().IsRegular()
}

func (a *assets) serve(w *logWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if strings.HasSuffix(r.URL.Path, "/") {
		name = path.Join(name, "index.html")
	}
	if !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	if name == "index.html" && !a.exists(name) && !a.exists(name+".br") && !a.exists(name+".gz") {
		notBuilt(w)
		return
	}
	if a.fsys != nil && !strings.HasSuffix(r.URL.Path, "/") {
		if fi, err := fs.Stat(a.fsys, name); err == nil && fi.IsDir() {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
	}
	a.serveFile(w, r, name)
}

// serveFile serves name, or its precompressed sibling name.br or name.gz
// when the client accepts that encoding; a file shipped only compressed
// is decompressed for a client that does not.
func (a *assets) serveFile(w *logWriter, r *http.Request, name string) {
	plain, br, gz := a.exists(name), a.exists(name+".br"), a.exists(name+".gz")
	if !plain && !br && !gz {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if br || gz {
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("Content-Type", contentType(name))
	h.Set("Cache-Control", cacheControl(name))
	h.Set("X-Content-Type-Options", "nosniff")
	acceptBr, acceptGz := acceptEncodings(r.Header.Get("Accept-Encoding"))
	file, enc := name, ""
	switch {
	case br && acceptBr:
		file, enc = name+".br", "br"
	case gz && acceptGz:
		file, enc = name+".gz", "gzip"
	case plain:
	default:
		a.serveDecoded(w, r, name, br)
		return
	}
	f, err := a.fsys.Open(file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	fi, err := f.Stat()
	rs, ok := f.(io.ReadSeeker)
	if err != nil || !ok {
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			io.Copy(w, f)
		}
		return
	}
	if etag, err := a.etag(file, fi, rs); err == nil {
		h.Set("ETag", etag)
	}
	if enc != "" && r.Header.Get("Range") == "" {
		// ServeContent leaves it out for an encoded body; a page showing
		// download progress wants it.
		h.Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	}
	http.ServeContent(w, r, "", fi.ModTime(), rs)
}

// serveDecoded decompresses name.br (or name.gz) for a client that accepts
// neither encoding.
func (a *assets) serveDecoded(w *logWriter, r *http.Request, name string, br bool) {
	file := name + ".gz"
	if br {
		file = name + ".br"
	}
	f, err := a.fsys.Open(file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	var src io.Reader
	if br {
		src = brotli.NewReader(f)
	} else if src, err = gzip.NewReader(f); err != nil {
		http.Error(w, "damaged asset "+file, http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, src)
	}
}

// etag returns a strong ETag for a file: a hash of its content, computed
// once per (name, size, modification time).
func (a *assets) etag(name string, fi fs.FileInfo, rs io.ReadSeeker) (string, error) {
	k := etagKey{name, fi.Size(), fi.ModTime()}
	a.mu.Lock()
	e, ok := a.etags[k]
	a.mu.Unlock()
	if ok {
		return e, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, rs); err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	e = `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
	a.mu.Lock()
	a.etags[k] = e
	a.mu.Unlock()
	return e, nil
}

// acceptEncodings reports whether an Accept-Encoding header accepts br and
// gzip (a q of 0 refuses; * stands for any not named).
func acceptEncodings(h string) (br, gz bool) {
	q := map[string]bool{}
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		ok := true
		for _, p := range strings.Split(params, ";") {
			if k, v, found := strings.Cut(strings.TrimSpace(p), "="); found && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				ok = err == nil && f > 0
			}
		}
		if name == "x-gzip" {
			name = "gzip"
		}
		if name != "" {
			q[name] = ok
		}
	}
	pick := func(enc string) bool {
		if v, named := q[enc]; named {
			return v
		}
		return q["*"]
	}
	return pick("br"), pick("gzip")
}

// notBuilt answers / when the page has not been built: a small page that
// says so and lists the runs from the API.
func notBuilt(w *logWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cacheRevalidate)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, notBuiltPage)
}

const notBuiltPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Playground: page not built</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
code { background: #f2f2f2; padding: 0 .25em; border-radius: 3px; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; }
#token { display: none; margin: 1rem 0; }
</style>
</head>
<body>
<h1>Playground</h1>
<p>The browser page is not built: this server's assets hold no <code>index.html</code>.
Run <code>make run</code> to build the page and start the server.
The checkpoint API works meanwhile (<code>/api/runs</code>); <code>playground push</code>,
<code>pull</code> and <code>train --resume URL/api/runs/ID</code> use it.</p>
<h2>Runs</h2>
<form id="token">This server needs a token: <input name="t" type="password" size="30"> <button>Use it</button></form>
<table id="runs"><thead><tr><th>run</th><th>head</th><th>checkpoints</th><th>newest step</th></tr></thead><tbody></tbody></table>
<p id="msg">Loading…</p>
<script>
const msg = document.getElementById("msg"), form = document.getElementById("token");
async function load() {
  const t = localStorage.getItem("playground-token");
  const r = await fetch("/api/runs", {headers: t ? {Authorization: "Bearer " + t} : {}});
  if (r.status === 401) { form.style.display = "block"; msg.textContent = "The API needs a bearer token."; return; }
  const body = await r.json();
  if (!r.ok) { msg.textContent = "Error: " + body.error; return; }
  const tb = document.querySelector("#runs tbody");
  tb.replaceChildren();
  for (const run of body) {
    const tr = tb.insertRow();
    const a = document.createElement("a");
    a.href = "/api/runs/" + encodeURIComponent(run.run) + "/checkpoints";
    a.textContent = run.run;
    tr.insertCell().append(a);
    tr.insertCell().textContent = run.head || "(none)";
    tr.insertCell().textContent = run.checkpoints;
    tr.insertCell().textContent = run.newest_step ?? "";
  }
  msg.textContent = body.length ? "" : "No runs yet.";
}
form.onsubmit = e => { e.preventDefault(); localStorage.setItem("playground-token", form.t.value); form.style.display = "none"; load(); };
load().catch(e => { msg.textContent = "Error: " + e; });
</script>
</body>
</html>
`
