//go:build !js

package main

// End-to-end tests of playground serve, push, pull and train --resume URL.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/persist/remote"
	"playground/persist/storetest"
	"playground/spec"
)

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type served struct {
	url    string // base URL, no trailing slash
	cmd    *exec.Cmd
	stderr *lockedBuffer
}

// serve starts playground serve on a free loopback port over data and
// returns once it listens; the process is killed when the test ends.
func serve(t *testing.T, data string, args ...string) *served {
	t.Helper()
	build(t)
	cmd := exec.Command(nativeBin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no URL: %v\nstderr: %s", err, s.stderr.String())
	}
	s.url = strings.TrimSuffix(strings.TrimSpace(line), "/")
	return s
}

// playgroundEnv runs the binary with extra environment variables.
func playgroundEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	build(t)
	cmd := exec.Command(nativeBin, args...)
	cmd.Env = append(os.Environ(), env...)
	return runCmd(t, cmd)
}

// A run trained natively to 100, pushed, continued from the server's URL
// to 300 (pushing back), and pulled, is bit-identical to an uninterrupted
// 300-step run; the server's head is the last checkpoint.
func TestServerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	const name, token = "spiral-adam", "round-trip-token"
	env := []string{tokenEnv + "=" + token}
	srv := serve(t, filepath.Join(dir, "server"), "--token", token)
	ref := ok(t, playground(t, "train", "--preset", name, "--steps", "300", "--every", "0", "--out", filepath.Join(dir, "ref")), "ref")

	local := filepath.Join(dir, "local")
	ok(t, playground(t, "train", "--preset", name, "--steps", "100", "--every", "40", "--out", local), "train to 100")
	runs, _ := filepath.Glob(filepath.Join(local, "*"))
	if len(runs) != 1 {
		t.Fatalf("local store holds %v", runs)
	}
	run := filepath.Base(runs[0])

	if r := playground(t, "push", local, "--server", srv.url, "--run", run); r.code == 0 || !strings.Contains(r.stderr, "missing bearer token") {
		t.Fatalf("push without a token: exit %d, %s", r.code, r.stderr)
	}
	push := ok(t, playgroundEnv(t, env, "push", local, "--server", srv.url, "--run", run), "push")
	runURL := push.lastLine()
	if runURL != srv.url+"/api/runs/"+run {
		t.Fatalf("push printed %q, want the run's URL", runURL)
	}
	// Pushing again uploads nothing new.
	if again := ok(t, playgroundEnv(t, env, "push", local, "--server", srv.url), "push again"); !strings.Contains(again.stderr, "0 checkpoints pushed, 3 already") {
		t.Fatalf("second push: %s", again.stderr)
	}

	copyDir := filepath.Join(dir, "copy")
	res := ok(t, playground(t, "train", "--resume", runURL, "--steps", "300", "--every", "100", "--token", token, "--out", copyDir), "resume from URL")
	if !strings.Contains(res.stderr, "at step 100 ") {
		t.Fatalf("resume did not start at step 100:\n%s", res.stderr)
	}
	final := res.lastLine()
	if d := playground(t, "ckpt", "diff", ref.lastLine(), final); d.code != 0 {
		t.Fatalf("local copy differs from the uninterrupted run: %s", d.stderr)
	}

	pulled := filepath.Join(dir, "pulled")
	pull := ok(t, playgroundEnv(t, env, "pull", runURL, "--out", pulled), "pull")
	if d := playground(t, "ckpt", "diff", ref.lastLine(), pull.lastLine()); d.code != 0 {
		t.Fatalf("pulled head differs from the uninterrupted run: %s", d.stderr)
	}
	if filepath.Base(pull.lastLine()) != filepath.Base(final) {
		t.Fatalf("pulled head %s, trained %s", pull.lastLine(), final)
	}
	rs, err := remote.New(srv.url, remote.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	infos, err := rs.Checkpoints(t.Context(), run)
	if err != nil {
		t.Fatal(err)
	}
	// 40, 80, 100 pushed; 200, 300 from the resumed training.
	if len(infos) != 5 || !infos[4].Head || infos[4].ID+".safetensors" != filepath.Base(final) || infos[3].Parent != infos[2].ID {
		t.Fatalf("server holds %+v", infos)
	}

	// A second writer that resumed from the same head loses: its first
	// push names a head that moved.
	c, err := persist.Decode(readFile(t, filepath.Join(local, run, infos[2].ID+".safetensors")))
	if err != nil {
		t.Fatal(err)
	}
	c.ID = persist.NewID(c.State.Step)
	b, _ := persist.Encode(c)
	err = rs.Put(t.Context(), run, c.ID, bytes.NewReader(b), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: infos[2].ID})
	if h, moved := remote.IsHeadMoved(err); !moved || h != infos[4].ID {
		t.Fatalf("stale writer: %v", err)
	}

	// SIGTERM shuts down gracefully.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, srv.stderr.String())
	}
	log := srv.stderr.String()
	for _, want := range []string{"msg=stopped", "method=PUT", "status=201", "status=401", "duration="} {
		if !strings.Contains(log, want) {
			t.Errorf("server log lacks %q:\n%s", want, log)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SIGKILL the server while a client is in the middle of a slow upload:
// after a restart the checkpoint is neither listed nor served, and the
// same upload then succeeds.
func TestServerSigkillDuringUpload(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "server")
	ck := ok(t, playground(t, "train", "--preset", "digits", "--steps", "2", "--every", "0", "--out", filepath.Join(dir, "local")), "train").lastLine()
	body := readFile(t, ck)
	id := strings.TrimSuffix(filepath.Base(ck), ".safetensors")
	run := filepath.Base(filepath.Dir(ck))
	path := "/api/runs/" + run + "/checkpoints/" + id

	srv := serve(t, data)
	u, _ := url.Parse(srv.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s?head=force HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", path, u.Host, len(body))
	sent := len(body) / 3
	if _, err := conn.Write(body[:sent]); err != nil {
		t.Fatal(err)
	}
	// Wait until the partial upload is being written to a temp file.
	deadline := time.Now().Add(10 * time.Second)
	for {
		temps, _ := filepath.Glob(filepath.Join(data, run, ".*"))
		if len(temps) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no temp file appeared in %s", filepath.Join(data, run))
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.cmd.Wait()

	srv = serve(t, data)
	get := func(p string) (int, []byte) {
		resp, err := http.Get(srv.url + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, b := get("/api/runs"); status != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("runs after restart: %d %s", status, b)
	}
	if status, b := get("/api/runs/" + run + "/checkpoints"); status != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("checkpoints after restart: %d %s", status, b)
	}
	if status, _ := get(path); status != 404 {
		t.Fatalf("GET of the cut-off upload: %d, want 404", status)
	}
	// The client retries and succeeds.
	req, _ := http.NewRequest("PUT", srv.url+path+"?head=force", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("retried upload: %d", resp.StatusCode)
	}
	status, b := get(path)
	if status != 200 || !bytes.Equal(b, body) {
		t.Fatalf("GET after the retry: %d, %d bytes (want %d)", status, len(b), len(body))
	}
	var runs []remote.RunInfo
	if _, b := get("/api/runs"); json.Unmarshal(b, &runs) != nil || len(runs) != 1 || runs[0].Head != id {
		t.Fatalf("runs after the retry: %s", b)
	}
}

func TestServeNeedsTokenOffLoopback(t *testing.T) {
	r := playgroundEnv(t, []string{tokenEnv + "="}, "serve", "--addr", "0.0.0.0:0", "--data", t.TempDir())
	if r.code != 2 || !strings.Contains(r.stderr, "not a loopback address") || !strings.Contains(r.stderr, "--token") {
		t.Fatalf("serve on 0.0.0.0 without a token: exit %d, %s", r.code, r.stderr)
	}
}

// A server whose newest checkpoint (its head) does not restore, though its
// checksum is right: train --resume URL and pull fall back to the one
// before, say so, and the run ends bit-identical to an uninterrupted one.
func TestServerResumeSkipsUnrestorableHead(t *testing.T) {
	dir := t.TempDir()
	const name = "circle-sgd"
	ref := ok(t, playground(t, "train", "--preset", name, "--steps", "300", "--every", "0", "--out", filepath.Join(dir, "ref")), "ref")
	local := filepath.Join(dir, "local")
	last := ok(t, playground(t, "train", "--preset", name, "--steps", "200", "--every", "100", "--out", local), "train to 200").lastLine()
	run := filepath.Base(filepath.Dir(last))
	data := filepath.Join(dir, "server")
	for damage, bad := range storetest.Unrestorable(t, readFile(t, last)) {
		t.Run(damage, func(t *testing.T) {
			os.RemoveAll(data)
			srv := serve(t, data)
			runURL := ok(t, playground(t, "push", local, "--server", srv.url, "--run", run), "push").lastLine()
			// The store holds it as if written before this build verified it.
			if err := os.WriteFile(filepath.Join(data, run, filepath.Base(last)), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			if r := playground(t, "ckpt", "verify", filepath.Join(data, run, filepath.Base(last))); r.code == 0 {
				t.Fatal("ckpt verify accepts it")
			}
			pulled := filepath.Join(dir, "pulled-"+damage)
			p := ok(t, playground(t, "pull", runURL, "--out", pulled), "pull")
			if !strings.Contains(p.stderr, "does not restore") || !strings.Contains(p.lastLine(), "000000000100-") {
				t.Fatalf("pull did not fall back to step 100: %s\n%s", p.stdout, p.stderr)
			}
			r := ok(t, playground(t, "train", "--resume", filepath.Join(pulled, run), "--steps", "300"), "resume pulled")
			if d := playground(t, "ckpt", "diff", ref.lastLine(), r.lastLine()); d.code != 0 {
				t.Fatalf("resumed from the pull: %s", d.stderr)
			}
			r = ok(t, playground(t, "train", "--resume", runURL, "--steps", "300", "--every", "100", "--out", filepath.Join(dir, "copy-"+damage)), "resume URL")
			if !strings.Contains(r.stderr, "does not restore") || !strings.Contains(r.stderr, "at step 100 ") {
				t.Fatalf("resume URL did not fall back to step 100:\n%s", r.stderr)
			}
			if d := playground(t, "ckpt", "diff", ref.lastLine(), r.lastLine()); d.code != 0 {
				t.Fatalf("resumed from the URL: %s", d.stderr)
			}
		})
	}
}

// Six concurrent uploads of the largest header the format allows (with a
// bad checksum), and six of a valid header followed by 17 MB of data that
// fails its checksum, keep a real playground serve under 200 MB of peak
// RSS (VmHWM from /proc).
func TestServeMemoryUnderMaliciousUploads(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("SKIPPED: no /proc to measure RSS")
	}
	srv := serve(t, t.TempDir())
	// Without a token, serve says how to expose it.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(srv.stderr.String(), "--token T"); {
		if time.Now().After(deadline) {
			t.Fatalf("serve without a token does not say how to set one:\n%s", srv.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	const maxHeader = 64 << 10
	big := make([]byte, 8+maxHeader)
	big[0], big[1] = 0, 1 // header length 65536
	for i := 8; i < len(big); i++ {
		big[i] = ' '
	}
	copy(big[8:], `{"__metadata__":{"kind":"`)
	bodies := [][]byte{}
	for range 6 {
		bodies = append(bodies, big)
	}
	ids := []string{"000000000000-0badc0de", "", "", "", "", "", ""}
	for i := 1; i <= 6; i++ { // six ids: all six stream at once
		ids[i] = fmt.Sprintf("000000000000-0000000%d", i)
		bad := largeCheckpoint(t, ids[i])
		bad[len(bad)-100] ^= 1
		bodies = append(bodies, bad)
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(bodies))
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("PUT", srv.url+"/api/runs/big-0badc0de/checkpoints/"+ids[max(0, i-5)], bytes.NewReader(b))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusBadRequest {
			t.Errorf("upload %d: %d, want 400", i, s)
		}
	}
	status := readFile(t, fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
	var hwm int
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Sscan(v, &hwm)
		}
	}
	t.Logf("peak RSS of playground serve: %d MB (12 concurrent uploads: 6 of a %d KiB header, 6 of %d MB)", hwm>>10, maxHeader>>10, len(bodies[6])>>20)
	if hwm == 0 || hwm > 200<<10 {
		t.Fatalf("peak RSS %d KB, want under 200 MB", hwm)
	}
}

// largeCheckpoint is checkpoint id (at step 0) of run big-0badc0de, 17
// MB: a 2-2048-2048-1 MLP with SGD.
func largeCheckpoint(t *testing.T, id string) []byte {
	sp := spec.Spec{
		Name: "big", Seed: 1,
		Dataset:   spec.DatasetSpec{Kind: "gauss", Samples: 100, Noise: 0.1, TestRatio: 0.2},
		Model:     spec.ModelSpec{Layers: []spec.LayerSpec{{Units: 2048, Activation: "tanh"}, {Units: 2048, Activation: "tanh"}, {Units: 1, Activation: "sigmoid"}}},
		Optimizer: spec.OptimizerSpec{Kind: "sgd", LR: 0.01},
		BatchSize: 10,
	}
	tr, err := engine.NewTrainer(sp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := persist.Encode(&persist.Checkpoint{
		Meta:  persist.Meta{RunID: "big-0badc0de", ID: id, Kind: persist.KindAutosave, EngineVersion: engine.Version, Created: time.Unix(1, 0).UTC()},
		State: tr.State(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
