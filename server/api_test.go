package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/persist/disk"
	"playground/persist/remote"
)

const (
	testRun   = "spiral-0badc0de"
	testToken = "s3cret-token"
)

// Every refusal answers its status with a message that says what is
// wrong, and leaves the store exactly as it was.
func TestRefusals(t *testing.T) {
	head := persist.NewID(3)
	headBytes := ckpt(t, testRun, head, persist.KindAutosave)
	id := persist.NewID(4)
	good := ckpt(t, testRun, id, persist.KindAutosave)
	// Two servers: a roomy one, and one whose limit good exceeds.
	type target struct {
		base   string
		st     persist.Store
		dir    string
		before []string
	}
	var srv [2]target
	maxUpload := int64(len(good) - 1)
	for i, max := range []int64{int64(len(good)) + 64, maxUpload} {
		base, st := newServer(t, Options{Token: testToken, MaxUpload: max})
		if err := st.Put(t.Context(), testRun, head, bytes.NewReader(headBytes), persist.PutOptions{SetHead: true}); err != nil {
			t.Fatal(err)
		}
		srv[i] = target{base, st, st.Dir(), files(t, st.Dir())}
	}
	base := srv[0].base
	tight := srv[1].base

	auth := "Bearer " + testToken
	url := func(run, id string) string { return base + "/api/runs/" + run + "/checkpoints/" + id }
	u := url(testRun, id)
	tu := tight + "/api/runs/" + testRun + "/checkpoints/" + id
	flipped := bytes.Clone(good)
	flipped[len(flipped)-5] ^= 0x40
	other := ckpt(t, testRun, head, persist.KindPinned) // other bytes under the head's id
	lying := "000000000009" + id[12:]
	lyingBytes, err := persist.Encode(&persist.Checkpoint{
		Meta:  persist.Meta{RunID: testRun, ID: lying, Kind: persist.KindAutosave, EngineVersion: engine.Version},
		State: stateAt(t, 4),
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		method  string
		url     string
		body    io.Reader
		hdr     []string
		status  int
		message string
	}{
		{"no token", "PUT", u, bytes.NewReader(good), nil, 401, "missing bearer token"},
		{"no token GET", "GET", base + "/api/runs", nil, nil, 401, "missing bearer token"},
		{"wrong token", "PUT", u, bytes.NewReader(good), []string{"Authorization", "Bearer nope"}, 401, "wrong bearer token"},
		{"basic auth", "GET", base + "/api/runs", nil, []string{"Authorization", "Basic eDp5"}, 401, "missing bearer token"},
		{"traversal run", "PUT", url("..%2F..%2Fetc", id), bytes.NewReader(good), []string{"Authorization", auth}, 400, "invalid id"},
		{"traversal dots", "PUT", url("..", id), bytes.NewReader(good), []string{"Authorization", auth}, 400, "invalid id"},
		{"traversal id", "PUT", url(testRun, "..%2F..%2Fx"), bytes.NewReader(good), []string{"Authorization", auth}, 400, "invalid id"},
		{"dot id", "GET", url(testRun, "%2e%2e"), nil, []string{"Authorization", auth}, 400, "invalid id"},
		{"backslash id", "PUT", url(testRun, "a%5C..%5Cb"), bytes.NewReader(good), []string{"Authorization", auth}, 400, "invalid id"},
		{"upper case", "PUT", url("RUN", id), bytes.NewReader(good), []string{"Authorization", auth}, 400, "invalid id"},
		{"long id", "PUT", url(testRun, strings.Repeat("a", 65)), bytes.NewReader(good), []string{"Authorization", auth}, 400, "invalid id"},
		{"id without a step", "PUT", url(testRun, "checkpoint-one"), bytes.NewReader(good), []string{"Authorization", auth}, 400, "want the step in 12 digits"},
		{"garbage", "PUT", u, strings.NewReader("this is not a checkpoint at all"), []string{"Authorization", auth}, 400, "not a valid checkpoint"},
		{"empty", "PUT", u, http.NoBody, []string{"Authorization", auth}, 400, "truncated"},
		{"truncated", "PUT", u, bytes.NewReader(good[:len(good)/2]), []string{"Authorization", auth}, 400, "truncated"},
		{"truncated header", "PUT", u, bytes.NewReader(good[:100]), []string{"Authorization", auth}, 400, "truncated"},
		{"bit flip", "PUT", u, bytes.NewReader(flipped), []string{"Authorization", auth}, 400, "checksum mismatch"},
		{"trailing bytes", "PUT", url(testRun, head), bytes.NewReader(append(bytes.Clone(headBytes), 0)), []string{"Authorization", auth}, 400, "trailing bytes"},
		{"other run", "PUT", url("other-run", id), bytes.NewReader(good), []string{"Authorization", auth}, 400, "but the URL names checkpoint " + id + " of run other-run"},
		{"other id", "PUT", url(testRun, persist.NewID(4)), bytes.NewReader(good), []string{"Authorization", auth}, 400, "the file is checkpoint " + id},
		{"id names another step", "PUT", url(testRun, lying), bytes.NewReader(lyingBytes), []string{"Authorization", auth}, 400, "says step 9, but the file holds step 4"},
		{"oversize by length", "PUT", tu, bytes.NewReader(good), []string{"Authorization", auth}, 413, "too large"},
		{"oversize streamed", "PUT", tu, iotest.HalfReader(bytes.NewReader(good)), []string{"Authorization", auth}, 413, fmt.Sprintf("at most %d bytes", maxUpload)},
		{"no precondition", "PUT", u + "?head=move", bytes.NewReader(good), []string{"Authorization", auth}, 428, "needs a precondition"},
		{"stale head", "PUT", u + "?head=move", bytes.NewReader(good), []string{"Authorization", auth, "If-Match", `"` + persist.NewID(2) + `"`}, 412, "moved"},
		{"stale no head", "PUT", u + "?head=move", bytes.NewReader(good), []string{"Authorization", auth, "If-None-Match", "*"}, 412, "believes the run has no head, but it is " + head},
		{"stale keep", "PUT", u, bytes.NewReader(good), []string{"Authorization", auth, "If-Match", `"` + persist.NewID(2) + `"`}, 412, "nothing was stored"},
		{"if-match star", "PUT", u + "?head=move", bytes.NewReader(good), []string{"Authorization", auth, "If-Match", "*"}, 400, "name the head you have seen"},
		{"weak etag", "PUT", u + "?head=move", bytes.NewReader(good), []string{"Authorization", auth, "If-Match", `W/"` + head + `"`}, 400, "strong"},
		{"unquoted", "PUT", u + "?head=move", bytes.NewReader(good), []string{"Authorization", auth, "If-Match", head}, 400, "quoted"},
		{"bad head mode", "PUT", u + "?head=yes", bytes.NewReader(good), []string{"Authorization", auth}, 400, "want keep, move or force"},
		{"wrong digest", "PUT", u, bytes.NewReader(good), []string{"Authorization", auth, "Content-Digest", digest(flipped)}, 400, "but its Content-Digest says"},
		{"malformed digest", "PUT", u, bytes.NewReader(good), []string{"Authorization", auth, "Content-Digest", "sha-256=abc"}, 400, "not :base64:"},
		{"short digest", "PUT", u, bytes.NewReader(good), []string{"Authorization", auth, "Content-Digest", "sha-256=:AAAA:"}, 400, "not the base64 of 32 bytes"},
		{"different bytes", "PUT", url(testRun, head), bytes.NewReader(other), []string{"Authorization", auth}, 409, "already exists with different content"},
		{"unknown route", "GET", base + "/api/nothing", nil, []string{"Authorization", auth}, 404, "no API route"},
		{"bad method", "POST", u, bytes.NewReader(good), []string{"Authorization", auth}, 405, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, tt.method, tt.url, tt.body, tt.hdr...)
			if a.status != tt.status {
				t.Errorf("status %d, want %d; body %s", a.status, tt.status, a.body)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if msg := a.errMsg(); !strings.Contains(msg, tt.message) {
				t.Errorf("error %q does not say %q", msg, tt.message)
			}
			if a.status == 401 && a.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if a.status == 412 {
				var e remote.ErrorBody
				a.decode(t, &e)
				if e.Head != head || a.header.Get("ETag") != strconv.Quote(head) {
					t.Errorf("412 names head %q (ETag %s), want %q", e.Head, a.header.Get("ETag"), head)
				}
			}
			for _, sv := range srv {
				if after := files(t, sv.dir); !slices.Equal(after, sv.before) {
					t.Errorf("store changed: files %q, were %q", after, sv.before)
				}
				if h, err := sv.st.Head(t.Context(), testRun); err != nil || h != head {
					t.Errorf("head = %q, %v; want %q", h, err, head)
				}
				sameBytes(t, "stored head", readStored(t, sv.st, testRun, head), headBytes)
			}
		})
	}
}

// digest is the Content-Digest of b.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// An upload whose Content-Digest matches is stored; other algorithms are
// ignored; persist/remote sends one for bytes at hand.
func TestContentDigest(t *testing.T) {
	base, st := newServer(t, Options{Token: testToken})
	auth := "Bearer " + testToken
	for i, hdr := range []func(b []byte) string{digest, func([]byte) string { return "sha-512=:AAAA:" }, func(b []byte) string { return "sha-512=:AAAA:, " + digest(b) }} {
		id := persist.NewID(uint64(5 + i))
		b := ckpt(t, testRun, id, persist.KindAutosave)
		a := send(t, "PUT", base+"/api/runs/"+testRun+"/checkpoints/"+id, bytes.NewReader(b), "Authorization", auth, "Content-Digest", hdr(b))
		if a.status != http.StatusCreated {
			t.Errorf("Content-Digest %q: status %d, %s", hdr(b), a.status, a.body)
		}
	}
	rs, err := remote.New(base, remote.Options{Token: testToken, Digest: true})
	if err != nil {
		t.Fatal(err)
	}
	id := persist.NewID(8)
	b := ckpt(t, testRun, id, persist.KindAutosave)
	if err := rs.Put(t.Context(), testRun, id, bytes.NewReader(b), persist.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	wrong := sha256.Sum256(nil)
	id9 := persist.NewID(9)
	err = rs.Put(t.Context(), testRun, id9, bytes.NewReader(ckpt(t, testRun, id9, persist.KindAutosave)), persist.PutOptions{SHA256: wrong[:]})
	if err == nil || !strings.Contains(err.Error(), "Content-Digest") {
		t.Errorf("Put with a wrong SHA256 = %v", err)
	}
	if objs, _ := st.List(t.Context(), testRun); len(objs) != 4 {
		t.Errorf("stored %v, want the 4 with a right or no sha-256", objs)
	}
}

func readStored(t *testing.T, st persist.Store, run, id string) []byte {
	t.Helper()
	b, err := persist.ReadAll(t.Context(), st, run, id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckpointLifecycle(t *testing.T) {
	base, _ := newServer(t, Options{})
	id1, id2 := persist.NewID(3), persist.NewID(5)
	b1, b2 := ckpt(t, testRun, id1, persist.KindAutosave), ckpt(t, testRun, id2, persist.KindPinned)
	u1 := base + "/api/runs/" + testRun + "/checkpoints/" + id1
	u2 := base + "/api/runs/" + testRun + "/checkpoints/" + id2

	// A new run: If-None-Match: * moves the head to the first checkpoint.
	a := send(t, "PUT", u1+"?head=move", bytes.NewReader(b1), "If-None-Match", "*")
	if a.status != 201 || a.header.Get("Location") == "" {
		t.Fatalf("first PUT: %d %s (Location %q)", a.status, a.body, a.header.Get("Location"))
	}
	var pr remote.PutResult
	a.decode(t, &pr)
	if !pr.New || pr.Head != id1 || pr.Checkpoint.Size != int64(len(b1)) || pr.Checkpoint.Step == nil || *pr.Checkpoint.Step != 3 || !pr.Checkpoint.Head {
		t.Fatalf("first PUT answered %+v", pr)
	}
	// Retrying the same request after it succeeded is answered 200.
	a = send(t, "PUT", u1+"?head=move", bytes.NewReader(b1), "If-None-Match", "*")
	if a.status != 200 {
		t.Fatalf("retried PUT: %d %s", a.status, a.body)
	}
	a.decode(t, &pr)
	if pr.New || pr.Head != id1 {
		t.Fatalf("retried PUT answered %+v", pr)
	}
	// The next one names the head it continues from.
	a = send(t, "PUT", u2+"?head=move", bytes.NewReader(b2), "If-Match", strconv.Quote(id1))
	if a.status != 201 {
		t.Fatalf("second PUT: %d %s", a.status, a.body)
	}
	// Its retry succeeds again although the head is no longer id1.
	if a = send(t, "PUT", u2+"?head=move", bytes.NewReader(b2), "If-Match", strconv.Quote(id1)); a.status != 200 {
		t.Fatalf("retried second PUT: %d %s", a.status, a.body)
	}
	// But moving the head back to id1 from a stale view fails.
	if a = send(t, "PUT", u1+"?head=move", bytes.NewReader(b1), "If-Match", strconv.Quote(id1)); a.status != 412 {
		t.Fatalf("stale move: %d %s", a.status, a.body)
	}
	// Identical bytes without moving the head: 200, nothing changes.
	if a = send(t, "PUT", u1, bytes.NewReader(b1)); a.status != 200 {
		t.Fatalf("identical PUT: %d %s", a.status, a.body)
	}

	a = send(t, "GET", base+"/api/runs/"+testRun+"/head", nil)
	var hi remote.HeadInfo
	a.decode(t, &hi)
	if a.status != 200 || hi.Head != id2 || hi.Step == nil || *hi.Step != 5 || a.header.Get("ETag") != strconv.Quote(id2) {
		t.Fatalf("head: %d %s ETag %s", a.status, a.body, a.header.Get("ETag"))
	}

	a = send(t, "GET", u1, nil)
	sameBytes(t, "GET", a.body, b1)
	if a.header.Get("Content-Type") != "application/octet-stream" || a.header.Get("Content-Length") != strconv.Itoa(len(b1)) {
		t.Errorf("GET headers: %v", a.header)
	}
	info, _ := persist.ReadHeader(bytes.NewReader(b1))
	if etag := a.header.Get("ETag"); etag != strconv.Quote(info.Checksum) {
		t.Errorf("ETag %s, want the checksum %s", etag, info.Checksum)
	}
	if a = send(t, "GET", u1, nil, "If-None-Match", a.header.Get("ETag")); a.status != 304 {
		t.Errorf("conditional GET: %d", a.status)
	}
	if a = send(t, "GET", u1, nil, "Range", "bytes=0-7"); a.status != 206 || !bytes.Equal(a.body, b1[:8]) {
		t.Errorf("range GET: %d %q", a.status, a.body)
	}

	a = send(t, "GET", base+"/api/runs/"+testRun+"/checkpoints", nil)
	var list []remote.CheckpointInfo
	a.decode(t, &list)
	if len(list) != 2 || list[0].ID != id1 || list[1].ID != id2 || !list[1].Head || list[0].Head ||
		list[1].Kind != persist.KindPinned || list[0].Checksum != info.Checksum || list[0].Created == nil || *list[1].Step != 5 {
		t.Fatalf("checkpoints: %s", a.body)
	}
	a = send(t, "GET", base+"/api/runs/"+testRun+"/checkpoints?brief=1", nil)
	list = nil
	a.decode(t, &list)
	if len(list) != 2 || list[0].Size != int64(len(b1)) || list[0].Checksum != "" {
		t.Fatalf("brief checkpoints: %s", a.body)
	}
	a = send(t, "GET", base+"/api/runs", nil)
	var runs []remote.RunInfo
	a.decode(t, &runs)
	if len(runs) != 1 || runs[0].Run != testRun || runs[0].Head != id2 || runs[0].Checkpoints != 2 || *runs[0].NewestStep != 5 {
		t.Fatalf("runs: %s", a.body)
	}

	if a = send(t, "DELETE", u2, nil); a.status != 204 {
		t.Fatalf("DELETE: %d %s", a.status, a.body)
	}
	if a = send(t, "DELETE", u2, nil); a.status != 404 || !strings.Contains(a.errMsg(), "not found") {
		t.Fatalf("DELETE again: %d %s", a.status, a.body)
	}
	if a = send(t, "GET", u2, nil); a.status != 404 {
		t.Fatalf("GET deleted: %d %s", a.status, a.body)
	}
	if a = send(t, "GET", base+"/api/runs/"+testRun+"/head", nil); a.status != 404 || !strings.Contains(a.errMsg(), "has no head") {
		t.Fatalf("head after deleting it: %d %s", a.status, a.body)
	}
	if a = send(t, "GET", base+"/api/runs/nothing/head", nil); a.status != 404 || !strings.Contains(a.errMsg(), "not found") {
		t.Fatalf("head of unknown run: %d %s", a.status, a.body)
	}
	// force moves the head without a precondition.
	if a = send(t, "PUT", u2+"?head=force", bytes.NewReader(b2)); a.status != 201 {
		t.Fatalf("forced PUT: %d %s", a.status, a.body)
	}
	a = send(t, "GET", base+"/api/runs/"+testRun+"/head", nil)
	if a.decode(t, &hi); hi.Head != id2 {
		t.Fatalf("head after force: %s", a.body)
	}
}

// 50 clients each upload 20 checkpoints of one run, every upload moving
// the head from the head the client last saw (retrying on 412), while
// readers keep reading the head: every checkpoint is stored byte for
// byte, and the head always names a whole checkpoint that was uploaded.
func TestConcurrentClients(t *testing.T) {
	const clients, uploads = 50, 20
	// On tmpfs when there is one: this is about the server, and the disk
	// store's fsyncs (tested in persist/disk) would dominate the time.
	dir := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "playground-server-test"); err == nil {
			dir = d
			t.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	st, err := disk.New(dir, disk.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(st, Options{}))
	defer srv.Close()
	base := srv.URL
	runURL := base + "/api/runs/" + testRun
	blobs := map[string][]byte{}
	ids := make([][]string, clients)
	for c := range clients {
		for u := range uploads {
			id := persist.NewID(uint64(1 + u*clients + c))
			ids[c] = append(ids[c], id)
			blobs[id] = ckpt(t, testRun, id, persist.KindAutosave)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients + 4}}
	do := func(req *http.Request) (int, []byte, error) {
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}

	var (
		wg       sync.WaitGroup
		errs     = make(chan error, clients+4)
		done     = make(chan struct{})
		attempts = make([]int, clients)
	)
	for c := range clients {
		wg.Go(func() {
			seen := "" // the head this client believes in
			for _, id := range ids[c] {
				for {
					attempts[c]++
					req, _ := http.NewRequest("PUT", runURL+"/checkpoints/"+id+"?head=move", bytes.NewReader(blobs[id]))
					if seen == "" {
						req.Header.Set("If-None-Match", "*")
					} else {
						req.Header.Set("If-Match", strconv.Quote(seen))
					}
					status, body, err := do(req)
					if err != nil {
						errs <- err
						return
					}
					if status == http.StatusPreconditionFailed {
						var e remote.ErrorBody
						if err := json.Unmarshal(body, &e); err != nil {
							errs <- err
							return
						}
						seen = e.Head
						continue
					}
					if status != http.StatusCreated {
						errs <- fmt.Errorf("PUT %s: %d %s", id, status, body)
						return
					}
					seen = id
					break
				}
			}
		})
	}
	var readers sync.WaitGroup
	var heads atomic.Int64
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				req, _ := http.NewRequest("GET", runURL+"/head", nil)
				status, body, err := do(req)
				if err != nil {
					errs <- err
					return
				}
				if status == 404 {
					continue // no head yet
				}
				var h remote.HeadInfo
				if err := json.Unmarshal(body, &h); err != nil {
					errs <- fmt.Errorf("head: %d %s: %v", status, body, err)
					return
				}
				req, _ = http.NewRequest("GET", runURL+"/checkpoints/"+h.Head, nil)
				status, b, err := do(req)
				if err != nil || status != 200 || !bytes.Equal(b, blobs[h.Head]) {
					errs <- fmt.Errorf("head %s reads back %d bytes (status %d, %v), not the %d uploaded", h.Head, len(b), status, err, len(blobs[h.Head]))
					return
				}
				heads.Add(1)
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	total := 0
	for _, n := range attempts {
		total += n
	}
	t.Logf("%d uploads in %d attempts; readers saw %d heads", clients*uploads, total, heads.Load())

	objs, err := st.List(t.Context(), testRun)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(blobs) {
		t.Fatalf("%d checkpoints stored, want %d", len(objs), len(blobs))
	}
	for _, o := range objs {
		req, _ := http.NewRequest("GET", runURL+"/checkpoints/"+o.ID, nil)
		status, b, err := do(req)
		if err != nil || status != 200 || !bytes.Equal(b, blobs[o.ID]) {
			t.Fatalf("checkpoint %s reads back %d bytes (status %d, %v), not the %d uploaded", o.ID, len(b), status, err, len(blobs[o.ID]))
		}
	}
	h, err := st.Head(t.Context(), testRun)
	if err != nil || blobs[h] == nil {
		t.Fatalf("head %q (%v) is not one of the uploads", h, err)
	}
}

// An upload that stalls is dropped after Options.Idle with 408, and
// leaves nothing behind.
func TestStalledUpload(t *testing.T) {
	id := persist.NewID(4)
	b := ckpt(t, testRun, id, persist.KindAutosave)
	base, st := newServer(t, Options{Idle: 200 * time.Millisecond})
	u, _ := neturl.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /api/runs/%s/checkpoints/%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", testRun, id, u.Host, len(b))
	conn.Write(b[:len(b)/2])
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(msg), "upload stalled") {
		t.Fatalf("stalled upload: %d %s", resp.StatusCode, msg)
	}
	if f := files(t, st.Dir()); len(f) != 0 {
		t.Fatalf("files left: %q", f)
	}
}
