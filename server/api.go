package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"playground/persist"
	"playground/persist/remote"
)

// serveAPI routes /api/<rest> (rest still escaped) by hand, so every
// refusal, including a malformed or traversing path, is a JSON error.
func (s *Server) serveAPI(w *logWriter, r *http.Request, rest string) {
	w.Header().Set("Cache-Control", "no-store")
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil {
			s.fail(w, http.StatusBadRequest, "malformed path %q: %v", r.URL.EscapedPath(), err)
			return
		}
		segs[i] = d
	}
	if len(segs) < 1 || segs[0] != "runs" {
		s.fail(w, http.StatusNotFound, "no API route %s (the API is under /api/runs)", r.URL.EscapedPath())
		return
	}
	if len(segs) == 1 {
		if s.allow(w, r, http.MethodGet) {
			s.listRuns(w, r)
		}
		return
	}
	run := segs[1]
	if err := persist.CheckIDs(run); err != nil {
		s.fail(w, http.StatusBadRequest, "run: %v", err)
		return
	}
	switch {
	case len(segs) == 3 && segs[2] == "checkpoints":
		if s.allow(w, r, http.MethodGet) {
			s.listCheckpoints(w, r, run)
		}
	case len(segs) == 3 && segs[2] == "head":
		if s.allow(w, r, http.MethodGet) {
			s.getHead(w, r, run)
		}
	case len(segs) == 4 && segs[2] == "checkpoints":
		id := segs[3]
		if err := persist.CheckIDs(id); err != nil {
			s.fail(w, http.StatusBadRequest, "checkpoint: %v", err)
			return
		}
		if !s.allow(w, r, http.MethodGet, http.MethodPut, http.MethodDelete) {
			return
		}
		switch r.Method {
		case http.MethodPut:
			s.putCheckpoint(w, r, run, id)
		case http.MethodDelete:
			s.deleteCheckpoint(w, r, run, id)
		default:
			s.getCheckpoint(w, r, run, id)
		}
	default:
		s.fail(w, http.StatusNotFound, "no API route %s (routes: /api/runs, /api/runs/RUN/checkpoints, /api/runs/RUN/checkpoints/ID, /api/runs/RUN/head)", r.URL.EscapedPath())
	}
}

// allow answers 405 unless r's method is one of methods (HEAD goes with GET).
func (s *Server) allow(w *logWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m || r.Method == http.MethodHead && m == http.MethodGet {
			return true
		}
	}
	allowed := strings.Join(methods, ", ")
	if strings.Contains(allowed, http.MethodGet) {
		allowed += ", " + http.MethodHead
	}
	w.Header().Set("Allow", allowed)
	s.fail(w, http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.EscapedPath(), allowed)
	return false
}

// storeFail answers for an error of the store.
func (s *Server) storeFail(w *logWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, persist.ErrNotExist):
		s.fail(w, http.StatusNotFound, "%s not found", what)
	case errors.Is(err, persist.ErrBadID):
		s.fail(w, http.StatusBadRequest, "%s: %v", what, err)
	case r.Context().Err() != nil:
		s.fail(w, http.StatusServiceUnavailable, "%s: request canceled: %v", what, err)
	default:
		s.fail(w, http.StatusInternalServerError, "%s: storage error: %v", what, err)
	}
}

func (s *Server) listRuns(w *logWriter, r *http.Request) {
	ctx := r.Context()
	runs, err := s.store.Runs(ctx)
	if err != nil {
		s.storeFail(w, r, "runs", err)
		return
	}
	out := make([]remote.RunInfo, 0, len(runs))
	for _, run := range runs {
		objs, err := s.store.List(ctx, run)
		if err != nil {
			s.storeFail(w, r, "run "+run, err)
			return
		}
		if len(objs) == 0 {
			continue // emptied meanwhile
		}
		head, err := s.head(ctx, run)
		if err != nil {
			s.storeFail(w, r, "head of run "+run, err)
			return
		}
		newest := objs[len(objs)-1].ID
		out = append(out, remote.RunInfo{
			Run: run, Head: head, Checkpoints: len(objs),
			Newest: newest, NewestStep: s.stepOf(ctx, run, newest),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// head returns the run's head, "" if it has none.
func (s *Server) head(ctx context.Context, run string) (string, error) {
	h, err := s.store.Head(ctx, run)
	if errors.Is(err, persist.ErrNotExist) {
		return "", nil
	}
	return h, err
}

// stepOf is the step of checkpoint id: from the id when it has the form
// NewID makes, else from its header; nil if neither says.
func (s *Server) stepOf(ctx context.Context, run, id string) *uint64 {
	if step, ok := persist.StepOfID(id); ok {
		return &step
	}
	info, err := persist.ReadInfo(ctx, s.store, run, id)
	if err != nil {
		return nil
	}
	return &info.Step
}

// checkpointInfo is what the API says of checkpoint id of size bytes whose
// header is h (Head is left to the caller).
func checkpointInfo(id string, size int64, h persist.Info) remote.CheckpointInfo {
	return remote.CheckpointInfo{
		ID: id, Size: size, Step: &h.Step,
		Parent: h.Parent, ParentRun: h.ParentRun, Created: &h.Created,
		Checksum: h.Checksum, Kind: h.Kind,
	}
}

func (s *Server) listCheckpoints(w *logWriter, r *http.Request, run string) {
	ctx := r.Context()
	if r.URL.Query().Get("brief") == "1" {
		objs, err := s.store.List(ctx, run)
		if err != nil {
			s.storeFail(w, r, "run "+run, err)
			return
		}
		out := make([]remote.CheckpointInfo, len(objs))
		for i, o := range objs {
			out[i] = remote.CheckpointInfo{ID: o.ID, Size: o.Size}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	head, err := s.head(ctx, run)
	if err != nil {
		s.storeFail(w, r, "head of run "+run, err)
		return
	}
	ls, err := persist.ListInfo(ctx, s.store, run)
	if err != nil {
		s.storeFail(w, r, "run "+run, err)
		return
	}
	out := make([]remote.CheckpointInfo, len(ls))
	for i, l := range ls {
		var c remote.CheckpointInfo
		if l.Err != nil {
			c = remote.CheckpointInfo{ID: l.ID, Size: l.Size, Error: l.Err.Error()}
		} else {
			c = checkpointInfo(l.ID, l.Size, l.Info)
		}
		c.Head = l.ID == head
		out[i] = c
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getHead(w *logWriter, r *http.Request, run string) {
	ctx := r.Context()
	head, err := s.head(ctx, run)
	if err != nil {
		s.storeFail(w, r, "head of run "+run, err)
		return
	}
	if head == "" {
		objs, err := s.store.List(ctx, run)
		if err == nil && len(objs) == 0 {
			s.fail(w, http.StatusNotFound, "run %s not found (it has no checkpoints)", run)
		} else {
			s.fail(w, http.StatusNotFound, "run %s has no head", run)
		}
		return
	}
	w.Header().Set("ETag", strconv.Quote(head))
	writeJSON(w, http.StatusOK, remote.HeadInfo{Run: run, Head: head, Step: s.stepOf(ctx, run, head)})
}

func (s *Server) getCheckpoint(w *logWriter, r *http.Request, run, id string) {
	rc, err := s.store.Get(r.Context(), run, id)
	if err != nil {
		s.storeFail(w, r, "checkpoint "+id+" of run "+run, err)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+id+`.safetensors"`)
	h.Set("Cache-Control", "no-cache")
	// The ETag is the file's checksum, which covers every other byte.
	if rs, ok := rc.(io.ReadSeeker); ok {
		if info, err := persist.ReadHeader(rs); err == nil {
			h.Set("ETag", strconv.Quote(info.Checksum))
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			h.Del("ETag")
			s.storeFail(w, r, "checkpoint "+id+" of run "+run, err)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, rs)
		return
	}
	var hb bytes.Buffer
	if info, err := persist.ReadHeader(io.TeeReader(rc, &hb)); err == nil {
		etag := strconv.Quote(info.Checksum)
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, io.MultiReader(&hb, rc))
	}
}

func (s *Server) deleteCheckpoint(w *logWriter, r *http.Request, run, id string) {
	defer s.locks.lock(run + "/" + id)()
	if err := s.store.Delete(r.Context(), run, id); err != nil {
		s.storeFail(w, r, "checkpoint "+id+" of run "+run, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// precondition is what a PUT says it believes the run's head is.
type precondition struct {
	set  bool   // a precondition was sent
	head string // the head it names; "" for If-None-Match: * (no head)
	hdr  string // the header, for messages
}

func parsePrecondition(h http.Header) (precondition, error) {
	im, inm := h.Values("If-Match"), h.Values("If-None-Match")
	switch {
	case len(im) > 0 && len(inm) > 0:
		return precondition{}, errors.New("send If-Match or If-None-Match, not both")
	case len(inm) > 0:
		if len(inm) != 1 || strings.TrimSpace(inm[0]) != "*" {
			return precondition{}, errors.New(`If-None-Match on a PUT must be "*" (the run has no head)`)
		}
		return precondition{set: true, hdr: "If-None-Match: *"}, nil
	case len(im) > 0:
		v := strings.TrimSpace(im[0])
		if len(im) != 1 || strings.Contains(v, ",") {
			return precondition{}, errors.New("If-Match must name exactly one head")
		}
		if v == "*" {
			return precondition{}, errors.New(`If-Match: * is not a precondition on the head: name the head you have seen, If-Match: "<head id>"`)
		}
		if strings.HasPrefix(v, "W/") {
			return precondition{}, errors.New(`If-Match needs a strong entity tag: "<head id>", not W/"…"`)
		}
		id, err := strconv.Unquote(v)
		if err != nil || !strings.HasPrefix(v, `"`) {
			return precondition{}, errors.New(`If-Match must be a quoted head id: If-Match: "<head id>"`)
		}
		if err := persist.CheckIDs(id); err != nil {
			return precondition{}, err
		}
		return precondition{set: true, head: id, hdr: "If-Match: " + v}, nil
	}
	return precondition{}, nil
}

// body reads an upload, remembering the first error of the client's side
// (too large, stalled, cut off, not the SHA-256 of its Content-Digest)
// apart from errors of the store.
type body struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	err  error
	n    int64
	want []byte    // the SHA-256 the client's Content-Digest states, if any
	h    hash.Hash // of the bytes read, when want is set
}

func (b *body) Read(p []byte) (int, error) {
	if b.rc != nil && b.rc.SetReadDeadline(time.Now().Add(b.idle)) != nil {
		b.rc = nil // not supported here (e.g. on Workers)
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.want != nil {
		b.h.Write(p[:n])
		if err == io.EOF {
			if got := b.h.Sum(nil); !bytes.Equal(got, b.want) {
				// Fail instead of ending: the store then keeps nothing.
				err = &digestError{got: got, want: b.want}
			}
		}
	}
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// digestError is an upload whose bytes do not have the SHA-256 its
// Content-Digest states.
type digestError struct{ got, want []byte }

func (e *digestError) Error() string {
	return fmt.Sprintf("the upload's SHA-256 is %x, but its Content-Digest says %x", e.got, e.want)
}

// contentDigest reads the sha-256 of a Content-Digest header (RFC 9530:
// `sha-256=:BASE64:`, among other algorithms); nil if it names none.
func contentDigest(h string) ([]byte, error) {
	for _, item := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || strings.ToLower(strings.TrimSpace(k)) != "sha-256" {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' {
			return nil, fmt.Errorf("Content-Digest: sha-256 is not :base64:")
		}
		sum, err := base64.StdEncoding.DecodeString(v[1 : len(v)-1])
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("Content-Digest: sha-256 is not the base64 of 32 bytes")
		}
		return sum, nil
	}
	return nil, nil
}

// uploadFail answers for a PUT whose body could not be read or checked.
func (s *Server) uploadFail(w *logWriter, r *http.Request, b *body, v *persist.VerifyReader) {
	var tooBig *http.MaxBytesError
	switch {
	case b.err != nil && errors.As(b.err, &tooBig):
		s.fail(w, http.StatusRequestEntityTooLarge, "checkpoint too large: this server takes uploads of at most %d bytes (%s)", tooBig.Limit, mib(tooBig.Limit))
	case b.err != nil && errors.As(b.err, new(*digestError)):
		s.fail(w, http.StatusBadRequest, "%v: the upload was damaged on its way, or the digest is wrong; nothing was stored", b.err)
	case b.err != nil && errors.Is(b.err, os.ErrDeadlineExceeded):
		s.fail(w, http.StatusRequestTimeout, "upload stalled: nothing received for %v", s.opt.Idle)
	case b.err != nil:
		s.fail(w, http.StatusBadRequest, "reading the upload failed after %d bytes: %v", b.n, b.err)
	case v.Defect() != nil:
		s.fail(w, http.StatusBadRequest, "not a valid checkpoint: %v", v.Defect())
	default:
		s.fail(w, http.StatusBadRequest, "reading the upload failed")
	}
}

func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB" }

// putCheckpoint stores an upload: see doc.go for the rules.
func (s *Server) putCheckpoint(w *logWriter, r *http.Request, run, id string) {
	ctx := r.Context()
	// Checkpoint ids sort by step: what resumes a run without a head takes
	// the highest one.
	idStep, ok := persist.StepOfID(id)
	if !ok {
		s.fail(w, http.StatusBadRequest, "invalid checkpoint id %q: want the step in 12 digits, a dash and 8 hex digits (000000001500-1a2b3c4d), as playground names checkpoints, so that ids sort by step", id)
		return
	}
	var move bool
	force := false
	switch q := r.URL.Query().Get("head"); q {
	case "", remote.HeadKeep:
	case remote.HeadMove:
		move = true
	case remote.HeadForce:
		move, force = true, true
	default:
		s.fail(w, http.StatusBadRequest, "head=%q: want %s, %s or %s", q, remote.HeadKeep, remote.HeadMove, remote.HeadForce)
		return
	}
	pre, err := parsePrecondition(r.Header)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "precondition: %v", err)
		return
	}
	if move && !force && !pre.set {
		s.fail(w, http.StatusPreconditionRequired, `moving the head of run %s needs a precondition: send If-Match: "<head id>" naming the head you continued from (GET /api/runs/%s/head), or If-None-Match: * if you believe the run has no head`, run, run)
		return
	}
	if r.ContentLength > s.opt.MaxUpload {
		s.fail(w, http.StatusRequestEntityTooLarge, "checkpoint too large: %d bytes, this server takes uploads of at most %d bytes (%s)", r.ContentLength, s.opt.MaxUpload, mib(s.opt.MaxUpload))
		return
	}
	b := &body{r: http.MaxBytesReader(w, r.Body, s.opt.MaxUpload), rc: http.NewResponseController(w), idle: s.opt.Idle}
	defer func() {
		// The server may read what is left of the body to reuse the
		// connection: give it Idle to do so, none after a failed read (a
		// body read whole whose digest differs did not fail to read).
		if b.rc != nil && (b.err == nil || errors.As(b.err, new(*digestError))) {
			b.rc.SetReadDeadline(time.Now().Add(s.opt.Idle))
		} else if b.rc != nil {
			b.rc.SetReadDeadline(time.Now())
		}
	}()
	opt := persist.PutOptions{SetHead: move, CheckHead: pre.set, IfHead: pre.head}
	if want, err := contentDigest(r.Header.Get("Content-Digest")); err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	} else if want != nil {
		b.want, b.h, opt.SHA256 = want, sha256.New(), want
	}

	v := persist.NewVerifyReader(b)
	checked, err := v.Header()
	if err != nil {
		s.uploadFail(w, r, b, v)
		return
	}
	if checked.RunID != run || checked.ID != id {
		s.fail(w, http.StatusBadRequest, "the file is checkpoint %s of run %s, but the URL names checkpoint %s of run %s", checked.ID, checked.RunID, id, run)
		return
	}
	if idStep != checked.Step {
		s.fail(w, http.StatusBadRequest, "checkpoint id %s says step %d, but the file holds step %d (ids sort by step)", id, idStep, checked.Step)
		return
	}
	info := checkpointInfo(id, checked.Size(), checked)

	defer s.locks.lock(run + "/" + id)()
	stored, serr := s.storedChecksum(ctx, run, id)
	exists := serr == nil || errors.Is(serr, errDamaged) // a damaged one may be replaced
	if serr != nil && !exists && !errors.Is(serr, persist.ErrNotExist) {
		s.storeFail(w, r, "checkpoint "+id+" of run "+run, serr)
		return
	}
	if serr == nil && stored != checked.Checksum {
		s.fail(w, http.StatusConflict, "checkpoint %s of run %s already exists with different content (stored %s, upload %s): an id names one training state; upload this one under a new id", id, run, stored, checked.Checksum)
		return
	}
	if serr == nil {
		// Identical bytes are stored: answer again without writing, unless
		// a precondition must still be judged or the head still moved.
		head, err := s.head(ctx, run)
		if err != nil {
			s.storeFail(w, r, "head of run "+run, err)
			return
		}
		if !pre.set && !move || move && head == id {
			if _, err := io.Copy(io.Discard, v); err != nil {
				s.uploadFail(w, r, b, v)
				return
			}
			info.Head = head == id
			writeJSON(w, http.StatusOK, remote.PutResult{Run: run, Checkpoint: info, New: false, Head: head})
			return
		}
	}

	if pre.set {
		// Refuse a stale writer before its body is stored; Put checks
		// again, atomically with the write.
		head, err := s.head(ctx, run)
		if err != nil {
			s.storeFail(w, r, "head of run "+run, err)
			return
		}
		if head != pre.head {
			s.headMoved(w, run, pre, head)
			return
		}
	}
	err = s.store.Put(ctx, run, id, v, opt)
	switch {
	case err == nil:
	case b.err != nil || v.Defect() != nil:
		s.uploadFail(w, r, b, v)
		return
	case errors.Is(err, persist.ErrHeadMoved):
		head, _ := s.head(ctx, run)
		s.headMoved(w, run, pre, head)
		return
	default:
		s.storeFail(w, r, "checkpoint "+id+" of run "+run, err)
		return
	}
	head := id
	if !move {
		if head, err = s.head(ctx, run); err != nil {
			s.storeFail(w, r, "head of run "+run, err)
			return
		}
	}
	info.Head = head == id
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/runs/"+run+"/checkpoints/"+id)
	}
	writeJSON(w, status, remote.PutResult{Run: run, Checkpoint: info, New: !exists, Head: head})
}

// headMoved answers 412 for a precondition that names another head.
func (s *Server) headMoved(w *logWriter, run string, pre precondition, head string) {
	if head != "" {
		w.Header().Set("ETag", strconv.Quote(head))
	}
	believed := "the run has no head"
	if pre.head != "" {
		believed = "its head is " + pre.head
	}
	now := "it has none"
	if head != "" {
		now = "it is " + head
	}
	s.failBody(w, http.StatusPreconditionFailed, remote.ErrorBody{
		Error: "head of run " + run + " moved: the request (" + pre.hdr + ") believes " + believed + ", but " + now + "; nothing was stored: fetch the head, continue from it, and retry",
		Head:  head,
	})
}

// errDamaged marks a stored checkpoint whose header cannot be read; an
// upload may replace it.
var errDamaged = errors.New("stored checkpoint is damaged")

// storedChecksum returns the checksum a stored checkpoint's header states
// (unverified; the file was verified when it was uploaded).
func (s *Server) storedChecksum(ctx context.Context, run, id string) (string, error) {
	info, err := persist.ReadInfo(ctx, s.store, run, id)
	if err != nil {
		for _, k := range []error{persist.ErrTruncated, persist.ErrCorrupt, persist.ErrNotCheckpoint, persist.ErrVersion, persist.ErrIncompatible} {
			if errors.Is(err, k) {
				return "", errDamaged
			}
		}
		return "", err
	}
	return info.Checksum, nil
}
