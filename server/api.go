package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
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
			s.fail(w, http.StatusBadRequest, "malformed path %s: %v", quoteClip(r.URL.EscapedPath()), err)
			return
		}
		segs[i] = d
	}
	if len(segs) == 2 && segs[0] == "datasets" {
		s.serveDataset(w, r, segs[1])
		return
	}
	if len(segs) < 1 || segs[0] != "runs" {
		s.fail(w, http.StatusNotFound, "no API route %s (the API is under /api/runs and /api/datasets)", quoteClip(r.URL.EscapedPath()))
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
		s.fail(w, http.StatusNotFound, "no API route %s (routes: /api/runs, /api/runs/RUN/checkpoints, /api/runs/RUN/checkpoints/ID, /api/runs/RUN/head, /api/datasets/SHA256)", quoteClip(r.URL.EscapedPath()))
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
	s.fail(w, http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", quoteClip(r.Method), quoteClip(r.URL.EscapedPath()), allowed)
	return false
}

// storeFail answers for an error of the store. What the store says of
// itself (paths, backends) goes to the log, not to the client.
func (s *Server) storeFail(w *logWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, persist.ErrNotExist):
		s.fail(w, http.StatusNotFound, "%s not found", what)
	case errors.Is(err, persist.ErrBadID):
		s.fail(w, http.StatusBadRequest, "%s: %v", what, err)
	case noSpace(err):
		w.detail = err.Error()
		s.fail(w, http.StatusInsufficientStorage, "%s: the server's disk is full; nothing was stored", what)
	case r.Context().Err() != nil:
		s.fail(w, http.StatusServiceUnavailable, "%s: request canceled", what)
	default:
		w.detail = err.Error()
		s.fail(w, http.StatusInternalServerError, "%s: storage error (the server's log says more)", what)
	}
}

// noSpace reports whether err is a full disk or an exhausted quota.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
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
	objs, err := s.store.List(ctx, run)
	if err != nil {
		s.storeFail(w, r, "run "+run, err)
		return
	}
	// One entry at a time, each at most a few hundred bytes (headers and
	// their strings are bounded): a listing holds one header in memory
	// however many checkpoints the run has.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("["))
	sep := ""
	for _, o := range objs {
		if ctx.Err() != nil {
			return // the client is gone: the JSON stays unterminated
		}
		info, err := persist.ReadInfo(ctx, s.store, run, o.ID)
		if errors.Is(err, persist.ErrNotExist) {
			continue // deleted meanwhile
		}
		c := remote.CheckpointInfo{ID: o.ID, Size: o.Size}
		if err != nil {
			c.Error = headerError(err)
		} else {
			c = checkpointInfo(o.ID, o.Size, info)
		}
		c.Head = o.ID == head
		b, _ := json.Marshal(c)
		w.Write(append([]byte(sep), b...))
		sep = ","
	}
	w.Write([]byte("]\n"))
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
	unlock, err := s.locks.lock(r.Context(), run+"/"+id)
	if err != nil {
		s.storeFail(w, r, "checkpoint "+id+" of run "+run, err)
		return
	}
	defer unlock()
	if err := s.store.Delete(r.Context(), run, id); err != nil {
		s.storeFail(w, r, "checkpoint "+id+" of run "+run, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// headerError is what a listing says of a header it could not read: the
// format's reason, or only that the store failed (its message may name
// server paths).
func headerError(err error) string {
	if formatError(err) {
		return err.Error()
	}
	return "storage error reading its header (the server's log says more)"
}

// formatError reports whether err is a checkpoint's bytes failing the
// format (damaged, not a checkpoint, or of a version or spec this engine
// cannot read), not the store failing.
func formatError(err error) bool {
	for _, k := range []error{persist.ErrTruncated, persist.ErrCorrupt, persist.ErrNotCheckpoint, persist.ErrVersion, persist.ErrIncompatible} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}
