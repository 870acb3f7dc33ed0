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
	"os"
	"strconv"
	"strings"
	"time"

	"playground/persist"
	"playground/persist/remote"
)

// putRequest is what a checkpoint PUT asks, from its URL and headers.
type putRequest struct {
	run, id string
	step    uint64 // the step the id names
	move    bool   // ?head=move or ?head=force
	force   bool
	pre     precondition
	digest  []byte // the SHA-256 its Content-Digest states, if any
}

// parsePut reads a PUT's URL and headers, or says why they are refused.
func (s *Server) parsePut(r *http.Request, run, id string) (putRequest, int, error) {
	req := putRequest{run: run, id: id}
	// Checkpoint ids sort by step: what resumes a run without a head takes
	// the highest one.
	var ok bool
	if req.step, ok = persist.StepOfID(id); !ok {
		return req, http.StatusBadRequest, fmt.Errorf("invalid checkpoint id %q: want the step in 12 digits, a dash and 8 hex digits (000000001500-1a2b3c4d), as playground names checkpoints, so that ids sort by step", id)
	}
	switch q := r.URL.Query().Get("head"); q {
	case "", remote.HeadKeep:
	case remote.HeadMove:
		req.move = true
	case remote.HeadForce:
		req.move, req.force = true, true
	default:
		return req, http.StatusBadRequest, fmt.Errorf("head=%s: want %s, %s or %s", quoteClip(q), remote.HeadKeep, remote.HeadMove, remote.HeadForce)
	}
	var err error
	if req.pre, err = parsePrecondition(r.Header); err != nil {
		return req, http.StatusBadRequest, fmt.Errorf("precondition: %v", err)
	}
	if req.move && !req.force && !req.pre.set {
		return req, http.StatusPreconditionRequired, fmt.Errorf(`moving the head of run %s needs a precondition: send If-Match: "<head id>" naming the head you continued from (GET /api/runs/%s/head), or If-None-Match: * if you believe the run has no head`, run, run)
	}
	if r.ContentLength > s.opt.MaxUpload {
		return req, http.StatusRequestEntityTooLarge, fmt.Errorf("checkpoint too large: %d bytes, this server takes uploads of at most %d bytes (%s)", r.ContentLength, s.opt.MaxUpload, mib(s.opt.MaxUpload))
	}
	if req.digest, err = contentDigest(r.Header.Get("Content-Digest")); err != nil {
		return req, http.StatusBadRequest, err
	}
	return req, 0, nil
}

// putCheckpoint stores an upload: see doc.go for the rules.
func (s *Server) putCheckpoint(w *logWriter, r *http.Request, run, id string) {
	req, status, err := s.parsePut(r, run, id)
	if err != nil {
		s.fail(w, status, "%v", err)
		return
	}
	release, ok := s.uploadTurn(w, r)
	if !ok {
		return
	}
	defer release()
	b := s.newBody(w, r, req.digest)
	defer b.settle()
	v := persist.NewVerifyReader(b)
	checked, err := v.Header()
	switch {
	case err != nil:
		s.uploadFail(w, r, b, v)
		return
	case checked.RunID != run || checked.ID != id:
		s.fail(w, http.StatusBadRequest, "the file is checkpoint %s of run %s, but the URL names checkpoint %s of run %s", checked.ID, checked.RunID, id, run)
		return
	case req.step != checked.Step:
		s.fail(w, http.StatusBadRequest, "checkpoint id %s says step %d, but the file holds step %d (ids sort by step)", id, req.step, checked.Step)
		return
	}
	unlock, err := s.locks.lock(r.Context(), run+"/"+id)
	if err != nil {
		s.storeFail(w, r, "checkpoint "+id+" of run "+run, err)
		return
	}
	defer unlock()
	s.putLocked(w, r, req, b, v, checked)
}

// uploadTurn waits for a turn to upload: uploads beyond MaxUploads wait
// (their bodies unread, so they hold no memory) for up to Idle, then get
// 503. With ok, release ends the turn.
func (s *Server) uploadTurn(w *logWriter, r *http.Request) (release func(), ok bool) {
	wait := time.NewTimer(s.opt.Idle)
	defer wait.Stop()
	select {
	case s.uploads <- struct{}{}:
		return func() { <-s.uploads }, true
	case <-wait.C:
		w.Header().Set("Retry-After", "10")
		s.fail(w, http.StatusServiceUnavailable, "this server takes %d uploads at once and none ended for %v: retry later", cap(s.uploads), s.opt.Idle)
	case <-r.Context().Done():
		s.fail(w, http.StatusServiceUnavailable, "request canceled while waiting for a turn to upload")
	}
	return nil, false
}

// putLocked stores a checked upload, holding the id's lock.
func (s *Server) putLocked(w *logWriter, r *http.Request, req putRequest, b *body, v *persist.VerifyReader, checked persist.Info) {
	ctx := r.Context()
	what := "checkpoint " + req.id + " of run " + req.run
	stored, serr := s.storedChecksum(ctx, req.run, req.id)
	exists := serr == nil || errors.Is(serr, errDamaged) // a damaged one may be replaced
	switch {
	case serr != nil && !exists && !errors.Is(serr, persist.ErrNotExist):
		s.storeFail(w, r, what, serr)
		return
	case serr == nil && stored != checked.Checksum:
		s.fail(w, http.StatusConflict, "%s already exists with different content (stored %s, upload %s): an id names one training state; upload this one under a new id", what, stored, checked.Checksum)
		return
	case serr == nil && s.putStored(w, r, req, b, v, checked):
		return
	}
	if req.pre.set {
		// Refuse a stale writer before its body is stored; Put checks
		// again, atomically with the write.
		head, err := s.head(ctx, req.run)
		if err != nil {
			s.storeFail(w, r, "head of run "+req.run, err)
			return
		}
		if head != req.pre.head {
			s.headMoved(w, req.run, req.pre, head)
			return
		}
	}
	opt := persist.PutOptions{SetHead: req.move, CheckHead: req.pre.set, IfHead: req.pre.head, SHA256: req.digest}
	if err := s.store.Put(ctx, req.run, req.id, v, opt); err != nil {
		s.putFail(w, r, req, b, v, err)
		return
	}
	s.putDone(w, r, req, checked, !exists)
}

// putStored answers a PUT of the very bytes stored under its id without
// writing them again: it reads and verifies the body, judges the
// precondition and moves the head alone if asked. It returns false, having
// read nothing, when the bytes must be put again to move the head (a store
// that cannot move a head alone).
func (s *Server) putStored(w *logWriter, r *http.Request, req putRequest, b *body, v *persist.VerifyReader, checked persist.Info) bool {
	ctx := r.Context()
	head, err := s.head(ctx, req.run)
	if err != nil {
		s.storeFail(w, r, "head of run "+req.run, err)
		return true
	}
	// A retry of a PUT that succeeded answers as it did.
	again := !req.pre.set && !req.move || req.move && head == req.id
	mover, canMove := s.store.(persist.HeadMover)
	if !again && req.move && !canMove {
		return false
	}
	if _, err := io.Copy(io.Discard, v); err != nil {
		s.uploadFail(w, r, b, v)
		return true
	}
	if !again && req.pre.set && head != req.pre.head {
		s.headMoved(w, req.run, req.pre, head)
		return true
	}
	if !again && req.move {
		err := mover.MoveHead(ctx, req.run, req.id, persist.PutOptions{CheckHead: req.pre.set, IfHead: req.pre.head})
		if err != nil {
			s.putFail(w, r, req, b, v, err)
			return true
		}
		head = req.id
	}
	putAnswer(w, req, checked, head, false)
	return true
}

// putFail answers for a Put or MoveHead that failed.
func (s *Server) putFail(w *logWriter, r *http.Request, req putRequest, b *body, v *persist.VerifyReader, err error) {
	switch {
	case b.err != nil || v.Defect() != nil:
		s.uploadFail(w, r, b, v)
	case errors.Is(err, persist.ErrHeadMoved):
		head, _ := s.head(r.Context(), req.run)
		s.headMoved(w, req.run, req.pre, head)
	case errors.Is(err, persist.ErrHeadNotMoved):
		w.detail = err.Error()
		status, why := http.StatusInternalServerError, "a storage error (the server's log says more)"
		if noSpace(err) {
			status, why = http.StatusInsufficientStorage, "the server's disk is full"
		}
		s.failBody(w, status, remote.ErrorBody{
			Error:  fmt.Sprintf("checkpoint %s of run %s stored, head not moved: %s; retry to move it (the stored bytes are not written again)", req.id, req.run, why),
			Stored: true,
		})
	default:
		s.storeFail(w, r, "checkpoint "+req.id+" of run "+req.run, err)
	}
}

// putDone answers for a checkpoint Put stored.
func (s *Server) putDone(w *logWriter, r *http.Request, req putRequest, checked persist.Info, created bool) {
	head := req.id
	if !req.move {
		var err error
		if head, err = s.head(r.Context(), req.run); err != nil {
			s.storeFail(w, r, "head of run "+req.run, err)
			return
		}
	}
	putAnswer(w, req, checked, head, created)
}

// putAnswer answers a PUT whose checkpoint is stored (created by it, or
// already there) and whose run's head is head.
func putAnswer(w *logWriter, req putRequest, checked persist.Info, head string, created bool) {
	info := checkpointInfo(req.id, checked.Size(), checked)
	info.Head = head == req.id
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/runs/"+req.run+"/checkpoints/"+req.id)
	}
	writeJSON(w, status, remote.PutResult{Run: req.run, Checkpoint: info, New: created, Head: head})
}

// body reads an upload, remembering the first error of the client's side
// (too large, stalled, too slow, cut off, not the SHA-256 of its
// Content-Digest) apart from errors of the store. Each read must arrive
// within idle, and the whole body by end.
type body struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time // the request's deadline
	err  error
	n    int64
	want []byte    // the SHA-256 the client's Content-Digest states, if any
	h    hash.Hash // of the bytes read, when want is set
}

func (s *Server) newBody(w *logWriter, r *http.Request, digest []byte) *body {
	b := &body{
		r:  http.MaxBytesReader(w, r.Body, s.opt.MaxUpload),
		rc: http.NewResponseController(w), idle: s.opt.Idle,
		end: w.start.Add(s.opt.Deadline),
	}
	if digest != nil {
		b.want, b.h = digest, sha256.New()
	}
	return b
}

// deadline is when the next read must have arrived.
func (b *body) deadline() time.Time {
	d := time.Now().Add(b.idle)
	if d.After(b.end) {
		return b.end
	}
	return d
}

func (b *body) Read(p []byte) (int, error) {
	if b.rc != nil && b.rc.SetReadDeadline(b.deadline()) != nil {
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

// settle sets the connection's read deadline once the answer is decided:
// the server may read what is left of the body to reuse the connection,
// so it gets idle (within the request's deadline) to do so, none after a
// failed read (a body read whole whose digest differs did not fail to
// read).
func (b *body) settle() {
	if b.rc == nil {
		return
	}
	if b.err == nil || errors.As(b.err, new(*digestError)) {
		b.rc.SetReadDeadline(b.deadline())
	} else {
		b.rc.SetReadDeadline(time.Now())
	}
}

// uploadFail answers for a PUT whose body could not be read or checked
// (v is nil for a dataset).
func (s *Server) uploadFail(w *logWriter, r *http.Request, b *body, v *persist.VerifyReader) {
	var tooBig *http.MaxBytesError
	switch {
	case b.err != nil && errors.As(b.err, &tooBig):
		s.fail(w, http.StatusRequestEntityTooLarge, "checkpoint too large: this server takes uploads of at most %d bytes (%s)", tooBig.Limit, mib(tooBig.Limit))
	case b.err != nil && errors.As(b.err, new(*digestError)):
		s.fail(w, http.StatusBadRequest, "%v: the upload was damaged on its way, or the digest is wrong; nothing was stored", b.err)
	case b.err != nil && errors.Is(b.err, os.ErrDeadlineExceeded) && !time.Now().Before(b.end):
		s.fail(w, http.StatusRequestTimeout, "upload too slow: a request must arrive within %v; nothing was stored", s.opt.Deadline)
	case b.err != nil && errors.Is(b.err, os.ErrDeadlineExceeded):
		s.fail(w, http.StatusRequestTimeout, "upload stalled: nothing received for %v; nothing was stored", s.opt.Idle)
	case b.err != nil:
		s.fail(w, http.StatusBadRequest, "reading the upload failed after %d bytes: %v", b.n, b.err)
	case v != nil && v.Defect() != nil:
		s.fail(w, http.StatusBadRequest, "not a valid checkpoint: %v", v.Defect())
	default:
		s.fail(w, http.StatusBadRequest, "reading the upload failed")
	}
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

func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB" }

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
		if formatError(err) {
			return "", errDamaged
		}
		return "", err
	}
	return info.Checksum, nil
}
