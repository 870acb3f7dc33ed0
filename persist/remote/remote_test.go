//go:build !js

package remote_test

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/persist/disk"
	"playground/persist/remote"
	"playground/persist/storetest"
	"playground/server"
	"playground/spec"
)

const token = "conformance-token"

// newRemote returns a remote Store over a test server backed by a fresh
// disk store.
func newRemote(t *testing.T, opt server.Options) (*remote.Store, *disk.Store) {
	t.Helper()
	d, err := disk.New(t.TempDir(), disk.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	opt.Token = token
	srv := httptest.NewServer(server.New(d, opt))
	t.Cleanup(srv.Close)
	s, err := remote.New(srv.URL, remote.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return s, d
}

// The suite in its checked mode: the server decodes every upload and
// refuses what a plain store would overwrite.
func TestConformance(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) persist.Store {
		s, _ := newRemote(t, server.Options{})
		return s
	}, storetest.Options{Checked: true})
}

func checkpoints(t *testing.T, run string, n int) (ids []string, blobs [][]byte) {
	t.Helper()
	tr := storetest.NewTrainer(t, "gauss-nesterov")
	parent := ""
	for range n {
		tr.TrainStep()
		id := persist.NewID(tr.Step)
		b, err := persist.Encode(&persist.Checkpoint{
			Meta: persist.Meta{
				RunID: run, ID: id, Parent: parent, Kind: persist.KindAutosave,
				Created: time.Now().UTC(), EngineVersion: engine.Version,
			},
			State: tr.State(),
		})
		if err != nil {
			t.Fatal(err)
		}
		ids, blobs, parent = append(ids, id), append(blobs, b), id
	}
	return ids, blobs
}

func TestChecked(t *testing.T) {
	ctx := t.Context()
	s, d := newRemote(t, server.Options{})
	run := persist.NewRunID("remote test")
	ids, blobs := checkpoints(t, run, 4)

	res, err := s.Upload(ctx, run, ids[0], bytes.NewReader(blobs[0]), persist.PutOptions{SetHead: true, CheckHead: true})
	if err != nil || !res.New || res.Head != ids[0] {
		t.Fatalf("first Upload = %+v, %v", res, err)
	}
	// A stale precondition: ErrHeadMoved, naming the head.
	err = s.Put(ctx, run, ids[1], bytes.NewReader(blobs[1]), persist.PutOptions{SetHead: true, CheckHead: true})
	if !errors.Is(err, persist.ErrHeadMoved) {
		t.Fatalf("Put with stale IfHead = %v, want ErrHeadMoved", err)
	}
	if h, ok := remote.IsHeadMoved(err); !ok || h != ids[0] {
		t.Fatalf("IsHeadMoved = %q, %v", h, ok)
	}
	// Streamed (no length) with the right precondition.
	r := io.MultiReader(bytes.NewReader(blobs[1][:100]), bytes.NewReader(blobs[1][100:]))
	if err := s.Put(ctx, run, ids[1], r, persist.PutOptions{SetHead: true, CheckHead: true, IfHead: ids[0]}); err != nil {
		t.Fatal(err)
	}
	// A retry of identical bytes is no error; other bytes are ErrConflict.
	if err := s.Put(ctx, run, ids[1], bytes.NewReader(blobs[1]), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: ids[0]}); err != nil {
		t.Fatalf("retried Put: %v", err)
	}
	c1, err := persist.Decode(blobs[1])
	if err != nil {
		t.Fatal(err)
	}
	c1.Kind = persist.KindPinned
	other, err := persist.Encode(c1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, run, ids[1], bytes.NewReader(other), persist.PutOptions{}); !errors.Is(err, remote.ErrConflict) {
		t.Fatalf("Put of other bytes under an existing id = %v, want ErrConflict", err)
	}
	// Garbage is refused with the reason.
	err = s.Put(ctx, run, ids[2], strings.NewReader("garbage"), persist.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "not a valid checkpoint") {
		t.Fatalf("Put of garbage = %v", err)
	}
	if err := s.Put(ctx, run, ids[2], bytes.NewReader(blobs[2]), persist.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	infos, err := s.Checkpoints(ctx, run)
	if err != nil || len(infos) != 3 || !infos[1].Head || infos[1].Parent != ids[0] || *infos[2].Step != 3 {
		t.Fatalf("Checkpoints = %+v, %v", infos, err)
	}
	runs, err := s.RunInfos(ctx)
	if err != nil || len(runs) != 1 || runs[0].Head != ids[1] || runs[0].Checkpoints != 3 {
		t.Fatalf("RunInfos = %+v, %v", runs, err)
	}
	c, skipped, err := persist.Newest(ctx, s, run)
	if err != nil || len(skipped) != 0 || c.ID != ids[2] {
		t.Fatalf("Newest over remote = %v, %v, %v", c, skipped, err)
	}
	rc, err := s.Get(ctx, run, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, blobs[1]) {
		t.Fatalf("Get: %d bytes, %v", len(got), err)
	}
	if objs, _ := d.List(ctx, run); len(objs) != 3 {
		t.Fatalf("disk holds %v", objs)
	}

	// The wrong token.
	bad, err := remote.New(s.URL(), remote.Options{Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Runs(ctx); !errors.Is(err, remote.ErrUnauthorized) || !strings.Contains(err.Error(), "wrong bearer token") {
		t.Fatalf("Runs with a wrong token = %v", err)
	}
}

func TestParseRunURL(t *testing.T) {
	for _, tt := range []struct{ in, base, run string }{
		{"http://127.0.0.1:8080/api/runs/spiral-0badc0de", "http://127.0.0.1:8080", "spiral-0badc0de"},
		{"https://example.com/api/runs/r1/", "https://example.com", "r1"},
		{"http://h/prefix/api/runs/r1", "http://h/prefix", "r1"},
		{"http://h/api/runs/r1?x=1#y", "http://h", "r1"},
	} {
		base, run, err := remote.ParseRunURL(tt.in)
		if err != nil || base != tt.base || run != tt.run {
			t.Errorf("ParseRunURL(%q) = %q, %q, %v; want %q, %q", tt.in, base, run, err, tt.base, tt.run)
		}
		s, err := remote.New(base, remote.NewOptions())
		if err != nil {
			t.Fatal(err)
		}
		if b2, r2, err := remote.ParseRunURL(s.RunURL(run)); err != nil || b2 != base || r2 != run {
			t.Errorf("RunURL round trip of %q: %q, %q, %v", tt.in, b2, r2, err)
		}
	}
	for _, bad := range []string{
		"", "runs/x", "ftp://h/api/runs/x", "http:///api/runs/x", "http://h/api/runs/", "http://h/api/runs/x/checkpoints",
		"http://h/api/runs/..", "http://h/api/runs/%2e%2e", "http://h/api/runs/UPPER", "http://h/other/x",
	} {
		if _, _, err := remote.ParseRunURL(bad); err == nil {
			t.Errorf("ParseRunURL(%q): no error", bad)
		}
	}
}

// The data suite through the server, and what the server holds after it.
func TestDataConformance(t *testing.T) {
	storetest.RunData(t, func(t *testing.T) persist.DataStore {
		s, _ := newRemote(t, server.Options{})
		return s
	})
}

// UploadData says whether the server stored the dataset; a missing one's
// error names its URL.
func TestUploadData(t *testing.T) {
	s, d := newRemote(t, server.Options{})
	tab := storetest.Table(t, 9)
	for i, wantNew := range []bool{true, false} {
		res, err := s.UploadData(t.Context(), tab.Name(), tab.Canonical())
		if err != nil || res.New != wantNew || res.Dataset != tab.Name() || res.Size != int64(len(tab.Canonical())) {
			t.Fatalf("upload %d: %+v, %v", i, res, err)
		}
	}
	if b, err := d.GetData(t.Context(), tab.Name()); err != nil || !bytes.Equal(b, tab.Canonical()) {
		t.Fatalf("the server's disk: %v", err)
	}
	other := storetest.Table(t, 10).Name()
	if _, err := s.GetData(t.Context(), other); err == nil || !strings.Contains(err.Error(), s.DataURL(other)) {
		t.Fatalf("missing: %v, want it to name %s", err, s.DataURL(other))
	}
}

// Push uploads the dataset a run's checkpoints name once, before them; a
// local store without it stops the push before any checkpoint, naming it.
func TestPushData(t *testing.T) {
	rs, d := newRemote(t, server.Options{})
	tab := storetest.Table(t, 13)
	tr, err := engine.NewTrainerWith(tab.Apply(spec.Spec{}), tab)
	if err != nil {
		t.Fatal(err)
	}
	local, err := disk.New(t.TempDir(), disk.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	run := persist.NewRunID("csv")
	for range 3 {
		tr.TrainStep()
		id := persist.NewID(tr.Step)
		b, err := persist.Encode(&persist.Checkpoint{Meta: persist.Meta{RunID: run, ID: id, Kind: persist.KindAutosave, EngineVersion: engine.Version, Created: time.Now().UTC()}, State: tr.State()})
		if err != nil {
			t.Fatal(err)
		}
		if err := local.Put(t.Context(), run, id, bytes.NewReader(b), persist.PutOptions{SetHead: true}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = remote.Push(t.Context(), rs, local, run, nil, nil)
	if !errors.Is(err, persist.ErrNotExist) || !strings.Contains(err.Error(), tab.Name()) {
		t.Fatalf("push without the dataset: %v", err)
	}
	if objs, _ := d.List(t.Context(), run); len(objs) != 0 {
		t.Fatalf("the server took %d checkpoints of a run whose dataset it lacks", len(objs))
	}
	if err := local.PutData(t.Context(), tab.Name(), tab.Canonical()); err != nil {
		t.Fatal(err)
	}
	for i, wantNew := range []bool{true, false} {
		r, err := remote.Push(t.Context(), rs, local, run, nil, nil)
		if err != nil || len(r.Datasets) != 1 || r.Datasets[0].Dataset != tab.Name() || r.Datasets[0].New != wantNew {
			t.Fatalf("push %d: %+v, %v", i, r, err)
		}
	}
	if ok, err := d.HasData(t.Context(), tab.Name()); !ok || err != nil {
		t.Fatalf("the server's store: %v %v", ok, err)
	}
}
