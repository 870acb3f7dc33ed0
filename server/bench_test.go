package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/spec/spectest"
)

// bigCheckpoint is a 50 MB checkpoint of spectest.Big().
func bigCheckpoint(b *testing.B) (run, id string, data []byte) {
	b.Helper()
	tr, err := engine.NewTrainer(spectest.Big())
	if err != nil {
		b.Fatal(err)
	}
	run, id = "big-0badc0de", persist.NewID(0)
	data, err = persist.Encode(&persist.Checkpoint{
		Meta:  persist.Meta{RunID: run, ID: id, Kind: persist.KindAutosave, EngineVersion: engine.Version, Created: time.Now().UTC()},
		State: tr.State(),
	})
	if err != nil {
		b.Fatal(err)
	}
	return run, id, data
}

func put(b *testing.B, url string, data []byte) {
	req, _ := http.NewRequest("PUT", url, bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("PUT: %d %s", resp.StatusCode, msg)
	}
}

// Upload to a server over a disk store: verify, write, fsync, rename.
func BenchmarkUpload50MB(b *testing.B) {
	run, id, data := bigCheckpoint(b)
	base, st := newServer(b, Options{})
	url := base + "/api/runs/" + run + "/checkpoints/" + id
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		put(b, url, data)
		b.StopTimer()
		if err := st.Delete(context.Background(), run, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// nullStore keeps nothing: Put only reads its input, as a store that
// streams to remote storage (R2) does; it isolates the handler's cost.
type nullStore struct{ persist.Store }

func (nullStore) Put(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func (nullStore) Get(ctx context.Context, run, id string) (io.ReadCloser, error) {
	return nil, persist.ErrNotExist
}

func (nullStore) Head(ctx context.Context, run string) (string, error) {
	return "", persist.ErrNotExist
}

// Upload through the handler alone: streaming verification, no storage.
// Its B/op is the handler's memory per upload (the Workers budget).
func BenchmarkUpload50MBVerifyOnly(b *testing.B) {
	run, id, data := bigCheckpoint(b)
	srv := httptest.NewServer(New(nullStore{}, Options{}))
	defer srv.Close()
	url := srv.URL + "/api/runs/" + run + "/checkpoints/" + id
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		put(b, url, data)
	}
}

func BenchmarkDownload50MB(b *testing.B) {
	run, id, data := bigCheckpoint(b)
	base, _ := newServer(b, Options{})
	url := base + "/api/runs/" + run + "/checkpoints/" + id
	put(b, url, data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatalf("GET: %d bytes, %v", n, err)
		}
	}
}
