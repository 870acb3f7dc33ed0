package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"playground/internal/defaults"
	"playground/persist"
	"playground/persist/remote"
)

// Options configure a Server; zero fields take the defaults of NewOptions
// (except Assets and Token, whose zero values mean what they say).
type Options struct {
	Assets     fs.FS         // the built page; nil or one without index.html serves a placeholder at /
	Token      string        // bearer token the API requires; "" turns auth off and admits only loopback Hosts
	MaxUpload  int64         // largest checkpoint a PUT may send, in bytes
	MaxUploads int           // uploads at once; more wait up to Idle for a turn, then get 503
	Idle       time.Duration // an upload that sends nothing for this long is dropped
	Deadline   time.Duration // a request's body must arrive within this, its answer be taken within Idle more
	Logger     *slog.Logger  // one line per request
}

// NewOptions returns the defaults: 256 MiB uploads, 8 at once, a 1 minute
// idle limit, a 10 minute deadline per request, slog.Default().
func NewOptions() Options {
	return Options{
		MaxUpload:  256 << 20,
		MaxUploads: 8,
		Idle:       time.Minute,
		Deadline:   10 * time.Minute,
		Logger:     slog.Default(),
	}
}

// Server is the http.Handler of the page and the checkpoint API.
type Server struct {
	store   persist.Store
	opt     Options
	token   [sha256.Size]byte // SHA-256 of the token, so comparing takes constant time whatever the lengths
	assets  *assets
	locks   keyLocks
	uploads chan struct{} // one token per upload in progress
}

// New returns a Server over store.
func New(store persist.Store, opt Options) *Server {
	def := NewOptions()
	defaults.Positive(&opt.MaxUpload, def.MaxUpload)
	defaults.Positive(&opt.Idle, def.Idle)
	defaults.Positive(&opt.Deadline, def.Deadline)
	defaults.Positive(&opt.MaxUploads, def.MaxUploads)
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{store: store, opt: opt, assets: newAssets(opt.Assets), uploads: make(chan struct{}, opt.MaxUploads)}
	if opt.Token != "" {
		s.token = sha256.Sum256([]byte(opt.Token))
	}
	return s
}

// ServeHTTP serves the API under /api/ and the page's assets elsewhere,
// logging one line per request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lw := &logWriter{ResponseWriter: w, start: start}
	// A stalled client is cut (where the platform has deadlines: not on
	// Workers): a body must arrive within Deadline, and the answer be
	// taken within Idle more (time to answer a body cut at Deadline).
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(start.Add(s.opt.Deadline))
	rc.SetWriteDeadline(start.Add(s.opt.Deadline + s.opt.Idle))
	switch rest, api := strings.CutPrefix(r.URL.EscapedPath(), "/api/"); {
	case !s.sameSite(lw, r):
	case api || r.URL.EscapedPath() == "/api":
		if s.authorized(lw, r) {
			s.serveAPI(lw, r, rest)
		}
	default:
		s.assets.serve(lw, r)
	}
	if lw.status == 0 {
		lw.status = http.StatusOK
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", lw.status),
		slog.Int64("bytes", lw.bytes),
		slog.Duration("duration", time.Since(start)),
	}
	if lw.err != "" {
		attrs = append(attrs, slog.String("error", lw.err))
	}
	if lw.detail != "" {
		attrs = append(attrs, slog.String("detail", lw.detail))
	}
	level := slog.LevelInfo
	if lw.status >= 500 {
		level = slog.LevelError
	}
	s.opt.Logger.LogAttrs(r.Context(), level, "request", attrs...)
}

// authorized checks the bearer token, answering 401 if it is missing or
// wrong.
func (s *Server) authorized(w *logWriter, r *http.Request) bool {
	if s.opt.Token == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="playground"`)
		s.fail(w, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token> (the server's --token or PLAYGROUND_TOKEN)")
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="playground", error="invalid_token"`)
		s.fail(w, http.StatusUnauthorized, "wrong bearer token")
		return false
	}
	return true
}

// fail answers with a JSON error.
func (s *Server) fail(w *logWriter, status int, format string, args ...any) {
	s.failBody(w, status, remote.ErrorBody{Error: fmt.Sprintf(format, args...)})
}

func (s *Server) failBody(w *logWriter, status int, body remote.ErrorBody) {
	w.err = body.Error
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	h.Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, status = []byte(`{"error":"encoding the answer failed"}`), http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// logWriter records what a request was answered, for the log line.
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	err    string // the error message sent, if any
	detail string // what the log says beyond it (a storage error the client is not told)
	start  time.Time
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's fast path (sendfile) for io.Copy.
func (w *logWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// keyLocks serializes writes of one checkpoint id within this process, so
// the check for different bytes under an existing id and the write that
// follows it are one step. Waiting for a lock gives up when the request's
// context ends.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds a token while locked
	refs int
}

func (k *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// IsLoopback reports whether a listen address (host:port) only accepts
// connections from this machine: a loopback IP or "localhost". An empty
// host (all interfaces) is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// sameSite admits a request to a server without a token only if its Host
// is a loopback name or address (with any port), and a write only if its
// Origin, when sent, is that same host: a page of another site that
// rebinds its name to 127.0.0.1 gets 403. With a token, the token decides.
func (s *Server) sameSite(w *logWriter, r *http.Request) bool {
	if s.opt.Token != "" {
		return true
	}
	if !IsLoopback(r.Host) {
		s.fail(w, http.StatusForbidden, "host %s is not this machine: a server without a token answers only to localhost or a loopback address (start it with --token or %s to serve other names)", quoteClip(r.Host), "PLAYGROUND_TOKEN")
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	if u, err := url.Parse(origin); err != nil || !strings.EqualFold(u.Host, r.Host) || u.Scheme != "http" && u.Scheme != "https" {
		s.fail(w, http.StatusForbidden, "origin %s is another site: a server without a token takes writes only from its own pages", quoteClip(origin))
		return false
	}
	return true
}

// quoteClip quotes s, cut to 100 bytes: an answer never echoes unbounded
// input.
func quoteClip(s string) string {
	if len(s) > 100 {
		return strconv.Quote(s[:100]) + "…"
	}
	return strconv.Quote(s)
}
