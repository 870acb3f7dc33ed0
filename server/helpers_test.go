package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"playground/engine"
	"playground/engine/enginetest"
	"playground/persist"
	"playground/persist/disk"
	"playground/persist/remote"
	"playground/persist/storetest"
)

var (
	statesMu sync.Mutex
	trainer  *engine.Trainer
	states   = map[uint64]engine.State{}
)

// stateAt is the state of a small run after step steps, computed once.
func stateAt(tb testing.TB, step uint64) engine.State {
	tb.Helper()
	statesMu.Lock()
	defer statesMu.Unlock()
	if s, ok := states[step]; ok {
		return s
	}
	if trainer == nil || trainer.Step > step {
		trainer = enginetest.PresetTrained(tb, "gauss-nesterov", 0)
	}
	for trainer.Step < step {
		trainer.TrainStep()
		states[trainer.Step] = trainer.State()
	}
	if step == 0 {
		states[0] = trainer.State()
	}
	return states[step]
}

// ckpt encodes checkpoint id of run, the state at the step the id names
// (NewID's form); the same arguments give the same bytes, another kind
// other bytes.
func ckpt(tb testing.TB, run, id, kind string) []byte {
	tb.Helper()
	step, ok := persist.StepOfID(id)
	if !ok {
		tb.Fatalf("id %q does not name a step", id)
	}
	b, err := persist.Encode(&persist.Checkpoint{
		Meta: persist.Meta{
			RunID: run, ID: id, Kind: kind, EngineVersion: engine.Version,
			Created: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
		},
		State: stateAt(tb, step),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// newServer starts a test server over a fresh disk store.
func newServer(tb testing.TB, opt Options) (base string, st *disk.Store) {
	tb.Helper()
	st = storetest.Disk(tb)
	srv := httptest.NewServer(New(st, opt))
	tb.Cleanup(srv.Close)
	return srv.URL, st
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// errMsg is the "error" of a JSON error body.
func (a answer) errMsg() string {
	var e remote.ErrorBody
	json.Unmarshal(a.body, &e)
	return e.Error
}

func (a answer) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		tb.Fatalf("decoding %s: %v", a.body, err)
	}
}

// send makes one request; hdr holds header pairs.
func send(tb testing.TB, method, url string, body io.Reader, hdr ...string) answer {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// files lists every file under dir, relative, sorted.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func sameBytes(tb testing.TB, what string, got, want []byte) {
	tb.Helper()
	if !bytes.Equal(got, want) {
		tb.Fatalf("%s: got %d bytes, want %d (contents differ)", what, len(got), len(want))
	}
}
