package remote

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"playground/persist"
)

// The JSON bodies of the checkpoint API, shared by this client and the
// server (playground/server), which encodes them.

// RunInfo is one entry of GET /api/runs.
type RunInfo struct {
	Run         string  `json:"run"`
	Head        string  `json:"head,omitempty"`        // "" when the run has no head
	Checkpoints int     `json:"checkpoints"`           // how many are stored
	Newest      string  `json:"newest,omitempty"`      // the highest id
	NewestStep  *uint64 `json:"newest_step,omitempty"` // its step, when known
}

// CheckpointInfo is one entry of GET /api/runs/{run}/checkpoints; with
// ?brief=1 the listing holds only ID and Size.
type CheckpointInfo struct {
	ID        string     `json:"id"`
	Size      int64      `json:"size"`
	Step      *uint64    `json:"step,omitempty"`
	Parent    string     `json:"parent,omitempty"`
	ParentRun string     `json:"parent_run,omitempty"`
	Created   *time.Time `json:"created,omitempty"`
	Checksum  string     `json:"checksum,omitempty"`
	Kind      string     `json:"kind,omitempty"`
	Head      bool       `json:"head,omitempty"`  // it is the run's head
	Error     string     `json:"error,omitempty"` // why its header could not be read
}

// HeadInfo is the body of GET /api/runs/{run}/head.
type HeadInfo struct {
	Run  string  `json:"run"`
	Head string  `json:"head"`
	Step *uint64 `json:"step,omitempty"`
}

// PutResult is the body of a successful PUT.
type PutResult struct {
	Run        string         `json:"run"`
	Checkpoint CheckpointInfo `json:"checkpoint"`
	New        bool           `json:"new"`            // false when identical bytes were already stored
	Head       string         `json:"head,omitempty"` // the run's head after the write
}

// DataResult answers PUT /api/datasets/NAME.
type DataResult struct {
	Dataset string `json:"dataset"` // its name, the SHA-256 of its bytes
	Size    int64  `json:"size"`
	New     bool   `json:"new"` // stored by this request (201); false: the server had it (200)
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error string `json:"error"`
	Head  string `json:"head,omitempty"` // the run's current head, on 412
	// Stored says the checkpoint was stored though the request failed (its
	// head was not moved): retrying moves the head without new bytes.
	Stored bool `json:"stored,omitempty"`
}

// Values of the head query parameter of a checkpoint PUT.
const (
	HeadKeep  = "keep"  // leave the run's head alone (the default)
	HeadMove  = "move"  // move it to the new checkpoint; needs a precondition
	HeadForce = "force" // move it whatever it is (a single writer that owns the run)
)

// ParseRunURL splits a run's URL (BASE/api/runs/RUN, as the server shows
// it) into the server's base URL and the run id.
func ParseRunURL(s string) (base, run string, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("run url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", "", fmt.Errorf("run url %q: want http(s)://HOST/api/runs/RUN", s)
	}
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	prefix, esc, ok := cutLast(p, "/api/runs/")
	if !ok || strings.Contains(esc, "/") {
		return "", "", fmt.Errorf("run url %q: want http(s)://HOST/api/runs/RUN", s)
	}
	if run, err = url.PathUnescape(esc); err != nil {
		return "", "", fmt.Errorf("run url %q: %w", s, err)
	}
	if err := persist.CheckIDs(run); err != nil {
		return "", "", fmt.Errorf("run url %q: %w", s, err)
	}
	u.RawPath, u.Path = "", ""
	u.RawQuery, u.Fragment = "", ""
	if prefix != "" {
		if u.Path, err = url.PathUnescape(prefix); err != nil {
			return "", "", fmt.Errorf("run url %q: %w", s, err)
		}
		u.RawPath = prefix
	}
	return u.String(), run, nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// ErrConflict is returned by Put when the server holds other bytes under
// the checkpoint's id (409): an id names one training state.
var ErrConflict = errors.New("checkpoint exists with different content")

// ErrUnauthorized is returned when the server refuses the token (401).
var ErrUnauthorized = errors.New("unauthorized")
