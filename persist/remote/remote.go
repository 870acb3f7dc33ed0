// Package remote implements persist.Store over the checkpoint API of a
// playground server (package playground/server): each method is one HTTP
// request, uploads and downloads stream, and Put's head options map to the
// API's head preconditions:
//
//	PutOptions{SetHead, CheckHead, IfHead: ""}  PUT ?head=move  If-None-Match: *
//	PutOptions{SetHead, CheckHead, IfHead: H}   PUT ?head=move  If-Match: "H"
//	PutOptions{SetHead}                         PUT ?head=force
//	PutOptions{CheckHead, IfHead: ...}          PUT (head kept) with the same precondition
//	PutOptions{SHA256: S}                       Content-Digest: sha-256=:base64(S):
//
// With Options.Digest an upload from a *bytes.Reader carries its
// Content-Digest too.
//
// Status codes map to persist's errors: 404 to ErrNotExist, 412 to
// ErrHeadMoved, 409 to ErrConflict, 401 to ErrUnauthorized.
package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"playground/dataset"
	"playground/persist"
)

// Store is a persist.Store over a playground server's API.
type Store struct {
	base *url.URL // the server's root, without a trailing slash
	opt  Options
}

var _ persist.Store = (*Store)(nil)

// New returns a Store over the server at baseURL (http(s)://HOST[:PORT][/PREFIX]).
func New(baseURL string, opt Options) (*Store, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("remote: base url %q: want http(s)://HOST[:PORT]", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("remote: base url %q: want no query, fragment or user info", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	opt.fill()
	return &Store{base: u, opt: opt}, nil
}

// URL returns the server's base URL.
func (s *Store) URL() string { return s.base.String() }

// RunURL returns the URL of run (BASE/api/runs/RUN), as ParseRunURL reads it.
func (s *Store) RunURL(run string) string { return s.url("api", "runs", run) }

// CheckpointURL returns the URL of one checkpoint's file.
func (s *Store) CheckpointURL(run, id string) string {
	return s.url("api", "runs", run, "checkpoints", id)
}

func (s *Store) url(elem ...string) string {
	u := *s.base
	for _, e := range elem {
		u.Path += "/" + e
		if u.RawPath != "" {
			u.RawPath += "/" + url.PathEscape(e)
		}
	}
	return u.String()
}

// Error is a response that is not a success; it unwraps to the persist or
// remote error its status means, if any.
type Error struct {
	Method, URL string
	Status      int
	Message     string // the server's explanation
	Head        string // the run's current head, on 412
	Stored      bool   // the checkpoint was stored, its head not moved (ErrHeadNotMoved)
}

// Error says which request failed and the server's explanation.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = statusText[e.Status]
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, msg)
}

// Unwrap maps the status to persist.ErrNotExist, persist.ErrHeadMoved,
// persist.ErrBadID, dataset.ErrDataset, ErrConflict or ErrUnauthorized, and an answer that says
// the checkpoint was stored to persist.ErrHeadNotMoved.
func (e *Error) Unwrap() error {
	if e.Stored {
		return persist.ErrHeadNotMoved
	}
	switch e.Status {
	case 404:
		return persist.ErrNotExist
	case 412:
		return persist.ErrHeadMoved
	case 409:
		return ErrConflict
	case 401:
		return ErrUnauthorized
	case 400:
		if strings.Contains(e.Message, "invalid id") {
			return persist.ErrBadID
		}
		if strings.Contains(e.Message, dataset.ErrDataset.Error()) {
			return dataset.ErrDataset
		}
	}
	return nil
}

// statusText names the statuses the API answers with.
var statusText = map[int]string{
	400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
	409: "Conflict", 412: "Precondition Failed", 413: "Request Entity Too Large",
	428: "Precondition Required", 500: "Internal Server Error", 501: "Not Implemented",
	502: "Bad Gateway", 503: "Service Unavailable", 507: "Insufficient Storage",
}

// ErrUnreachable is a request that got no answer at all: the server (or
// the network to it) is away, as opposed to one that answered with an
// error. Trying again later may work.
var ErrUnreachable = errors.New("server unreachable")

// UnreachableError is a request that got no answer: it is
// ErrUnreachable, and unwraps to Err, why (as the network said).
type UnreachableError struct {
	Method, URL string
	Err         error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s %s: %v (%v)", e.Method, e.URL, ErrUnreachable, e.Err)
}

func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }
func (e *UnreachableError) Unwrap() error        { return e.Err }

// unreachable is req's error when it got no answer (err says why).
func unreachable(req request, err error) error {
	return &UnreachableError{Method: req.method, URL: req.url, Err: err}
}

// request is one API call; roundTrip (transport_*.go) sends it.
type request struct {
	method, url string
	header      [][2]string
	body        io.Reader // nil: none
}

// do sends req and returns the response body if its status is 2xx, else
// an *Error built from the body.
func (s *Store) do(ctx context.Context, req request) (io.ReadCloser, error) {
	if s.opt.Token != "" {
		req.header = append(req.header, [2]string{"Authorization", "Bearer " + s.opt.Token})
	}
	status, body, err := s.roundTrip(ctx, req)
	if err != nil {
		return nil, err
	}
	if status/100 == 2 {
		return body, nil
	}
	defer body.Close()
	e := &Error{Method: req.method, URL: req.url, Status: status}
	b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	var eb ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		e.Message, e.Head, e.Stored = eb.Error, eb.Head, eb.Stored
	} else {
		e.Message = strings.TrimSpace(string(b))
	}
	return nil, e
}

// getJSON GETs u into v.
func (s *Store) getJSON(ctx context.Context, u string, v any) error {
	body, err := s.do(ctx, request{method: "GET", url: u, header: [][2]string{{"Accept", "application/json"}}})
	if err != nil {
		return err
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decoding the answer: %w", u, err)
	}
	return nil
}

// Put streams r to the server as checkpoint id of run; see the package
// doc for how opt maps to the API.
func (s *Store) Put(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) error {
	_, err := s.Upload(ctx, run, id, r, opt)
	return err
}

// Upload is Put that also returns the server's answer.
func (s *Store) Upload(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) (*PutResult, error) {
	if err := persist.CheckPut(ctx, run, id, opt); err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	u := s.CheckpointURL(run, id)
	switch {
	case opt.SetHead && opt.CheckHead:
		u += "?head=" + HeadMove
	case opt.SetHead:
		u += "?head=" + HeadForce
	}
	req := request{method: "PUT", url: u, body: r, header: [][2]string{
		{"Content-Type", "application/octet-stream"}, {"Accept", "application/json"},
	}}
	sum := opt.SHA256
	if br, ok := r.(*bytes.Reader); ok && sum == nil && s.opt.Digest {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(br, br.Size()-int64(br.Len()), int64(br.Len()))); err != nil {
			return nil, fmt.Errorf("remote: put %s/%s: %w", run, id, err)
		}
		sum = h.Sum(nil)
	}
	if sum != nil {
		req.header = append(req.header, [2]string{"Content-Digest", "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"})
	}
	if opt.CheckHead {
		if opt.IfHead == "" {
			req.header = append(req.header, [2]string{"If-None-Match", "*"})
		} else {
			req.header = append(req.header, [2]string{"If-Match", strconv.Quote(opt.IfHead)})
		}
	}
	body, err := s.do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("remote: put %s/%s: %w", run, id, err)
	}
	defer body.Close()
	var res PutResult
	if err := json.NewDecoder(body).Decode(&res); err != nil {
		return nil, fmt.Errorf("remote: put %s/%s: decoding the answer: %w", run, id, err)
	}
	return &res, nil
}

// Get opens a checkpoint; its bytes stream from the server as they are read.
func (s *Store) Get(ctx context.Context, run, id string) (io.ReadCloser, error) {
	if err := persist.CheckIDs(run, id); err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	body, err := s.do(ctx, request{method: "GET", url: s.CheckpointURL(run, id)})
	if err != nil {
		return nil, fmt.Errorf("remote: get %s/%s: %w", run, id, err)
	}
	return body, nil
}

// List returns the run's checkpoints sorted by id.
func (s *Store) List(ctx context.Context, run string) ([]persist.Object, error) {
	infos, err := s.checkpoints(ctx, run, "list", "?brief=1")
	if err != nil {
		return nil, err
	}
	objs := make([]persist.Object, len(infos))
	for i, c := range infos {
		objs[i] = persist.Object{ID: c.ID, Size: c.Size}
	}
	return objs, nil
}

// Checkpoints returns the run's checkpoints with what their headers say.
func (s *Store) Checkpoints(ctx context.Context, run string) ([]CheckpointInfo, error) {
	return s.checkpoints(ctx, run, "checkpoints", "")
}

// checkpoints asks for the run's checkpoints, whole or (query ?brief=1)
// ids and sizes only; op names the call in errors.
func (s *Store) checkpoints(ctx context.Context, run, op, query string) ([]CheckpointInfo, error) {
	if err := persist.CheckIDs(run); err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	var infos []CheckpointInfo
	if err := s.getJSON(ctx, s.url("api", "runs", run, "checkpoints")+query, &infos); err != nil {
		return nil, fmt.Errorf("remote: %s %s: %w", op, run, err)
	}
	return infos, nil
}

// Delete removes a checkpoint.
func (s *Store) Delete(ctx context.Context, run, id string) error {
	if err := persist.CheckIDs(run, id); err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	body, err := s.do(ctx, request{method: "DELETE", url: s.CheckpointURL(run, id)})
	if err != nil {
		return fmt.Errorf("remote: delete %s/%s: %w", run, id, err)
	}
	body.Close()
	return nil
}

// Runs lists the runs that have at least one checkpoint, sorted.
func (s *Store) Runs(ctx context.Context) ([]string, error) {
	infos, err := s.RunInfos(ctx)
	if err != nil {
		return nil, err
	}
	runs := make([]string, len(infos))
	for i, r := range infos {
		runs[i] = r.Run
	}
	return runs, nil
}

// RunInfos lists the runs with their heads and checkpoint counts.
func (s *Store) RunInfos(ctx context.Context) ([]RunInfo, error) {
	var infos []RunInfo
	if err := s.getJSON(ctx, s.url("api", "runs"), &infos); err != nil {
		return nil, fmt.Errorf("remote: runs: %w", err)
	}
	return infos, nil
}

// Head returns the run's head checkpoint id.
func (s *Store) Head(ctx context.Context, run string) (string, error) {
	if err := persist.CheckIDs(run); err != nil {
		return "", fmt.Errorf("remote: %w", err)
	}
	var h HeadInfo
	if err := s.getJSON(ctx, s.url("api", "runs", run, "head"), &h); err != nil {
		return "", fmt.Errorf("remote: head %s: %w", run, err)
	}
	if err := persist.CheckIDs(h.Head); err != nil {
		return "", fmt.Errorf("remote: head %s: the server answered %w", run, err)
	}
	return h.Head, nil
}

// IsHeadMoved reports whether err is a refused precondition, and the
// run's head the server reported with it ("" if none or unknown).
func IsHeadMoved(err error) (head string, ok bool) {
	var e *Error
	if errors.As(err, &e) && e.Status == 412 {
		return e.Head, true
	}
	return "", errors.Is(err, persist.ErrHeadMoved)
}
