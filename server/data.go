package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"playground/persist"
	"playground/persist/remote"
	"playground/spec"
)

// serveDataset answers /api/datasets/NAME: GET (and HEAD) the dataset's
// canonical bytes, PUT them. A dataset is named by the SHA-256 of its
// bytes, so it never changes: a PUT of other bytes is refused.
func (s *Server) serveDataset(w *logWriter, r *http.Request, name string) {
	if err := persist.CheckDataName(name); err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	ds, ok := s.store.(persist.DataStore)
	if !ok {
		s.fail(w, http.StatusNotImplemented, "this server's store keeps no datasets")
		return
	}
	if !s.allow(w, r, http.MethodGet, http.MethodPut) {
		return
	}
	if r.Method == http.MethodPut {
		s.putDataset(w, r, ds, name)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	h.Set("ETag", strconv.Quote(name))
	if r.Method == http.MethodHead {
		// Whether it is there, without reading it; and no Content-Length
		// without a body (Workers would wait for the bytes).
		has, err := ds.HasData(r.Context(), name)
		if err == nil && !has {
			err = persist.ErrNotExist
		}
		if err != nil {
			s.storeFail(w, r, "dataset "+name, err)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	b, err := ds.GetData(r.Context(), name)
	if err != nil {
		s.storeFail(w, r, "dataset "+name, err)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// putDataset stores an uploaded dataset once it has checked that the body
// is the canonical dataset its name says; otherwise nothing is stored.
func (s *Server) putDataset(w *logWriter, r *http.Request, ds persist.DataStore, name string) {
	limit := min(s.opt.MaxUpload, spec.MaxCustomBytes)
	if r.ContentLength > limit {
		s.fail(w, http.StatusRequestEntityTooLarge, "dataset too large: %d bytes, this server takes datasets of at most %d bytes (%s)", r.ContentLength, limit, mib(limit))
		return
	}
	digest, err := contentDigest(r.Header.Get("Content-Digest"))
	if err != nil {
		s.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	release, ok := s.uploadTurn(w, r)
	if !ok {
		return
	}
	defer release()
	b := s.newBody(w, r, digest)
	b.r = http.MaxBytesReader(w, r.Body, limit)
	defer b.settle()
	data, err := io.ReadAll(b)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.fail(w, http.StatusRequestEntityTooLarge, "dataset too large: this server takes datasets of at most %d bytes (%s); nothing was stored", limit, mib(limit))
		return
	case err != nil:
		s.uploadFail(w, r, b, nil)
		return
	}
	if _, err := persist.CheckData(name, data); err != nil {
		s.fail(w, http.StatusBadRequest, "%v; nothing was stored", err)
		return
	}
	unlock, err := s.locks.lock(r.Context(), "dataset/"+name)
	if err != nil {
		s.storeFail(w, r, "dataset "+name, err)
		return
	}
	defer unlock()
	had, err := ds.HasData(r.Context(), name)
	if err == nil && !had {
		err = ds.PutData(r.Context(), name, data)
	}
	if err != nil {
		s.storeFail(w, r, "dataset "+name, err)
		return
	}
	status := http.StatusOK
	if !had {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/datasets/"+name)
	}
	writeJSON(w, status, remote.DataResult{Dataset: name, Size: int64(len(data)), New: !had})
}
