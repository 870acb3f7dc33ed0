//go:build !js

package main

// End-to-end tests of the playground binary: built natively and for js/wasm
// (run under Node), driven as a user would drive it.

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/persist/storetest"
	"playground/spec"
)

var (
	nativeBin string
	wasmBin   string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "playground-cli")
	if err != nil {
		panic(err)
	}
	nativeBin = filepath.Join(dir, "playground")
	wasmBin = filepath.Join(dir, "playground.wasm")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func build(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", nativeBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("native build: %v\n%s", err, out)
			return
		}
		cmd := exec.Command("go", "build", "-o", wasmBin, ".")
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("wasm build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

type result struct {
	stdout, stderr string
	code           int
}

// lastLine is the last line of stdout: the final checkpoint's path.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[len(lines)-1]
}

func playground(t *testing.T, args ...string) result {
	t.Helper()
	build(t)
	return runCmd(t, exec.Command(nativeBin, args...))
}

func playgroundWasm(t *testing.T, args ...string) result {
	t.Helper()
	return playgroundWasmEnv(t, nil, args...)
}

// playgroundWasmEnv runs the wasm build with env added to the environment.
func playgroundWasmEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	build(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is required for the wasm build's tests")
	}
	// Go's wasm_exec_node.js with the engine's SIMD kernels.
	shim := filepath.Join("..", "..", "engine", "wasmsimd", "exec_node.js")
	cmd := exec.Command(node, append([]string{shim, wasmBin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return runCmd(t, cmd)
}

func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return r
}

func ok(t *testing.T, r result, what string) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
	}
	return r
}

var lossLine = regexp.MustCompile(`(?m)^step (\d+) loss (\S+) `)

// losses maps step to the printed loss text.
func losses(stderr string) map[int]string {
	m := map[int]string{}
	for _, g := range lossLine.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(g[1])
		m[n] = g[2]
	}
	return m
}

var fpLine = regexp.MustCompile(`(?m)^fingerprint:\s+([0-9a-f]{64})$`)

func fingerprint(t *testing.T, file string) string {
	t.Helper()
	r := ok(t, playground(t, "ckpt", "inspect", file), "inspect")
	m := fpLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no fingerprint in inspect output:\n%s", r.stdout)
	}
	return m[1]
}

func TestPresetsCommand(t *testing.T) {
	r := ok(t, playground(t, "presets"), "presets")
	got := strings.Fields(r.stdout)
	if !slices.Equal(got, spec.PresetNames()) {
		t.Fatalf("presets printed %v, want %v", got, spec.PresetNames())
	}
}

// For every preset: 400 steps straight equals 150 (or a mid-epoch step)
// then a resume to 400, in state and in every logged loss.
func TestResumeEqualsUninterrupted(t *testing.T) {
	for _, name := range spec.PresetNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			a := ok(t, playground(t, "train", "--preset", name, "--steps", "400", "--every", "0", "--log-every", "1", "--out", filepath.Join(dir, "A")), "train A")
			ref := losses(a.stderr)
			if len(ref) != 400 {
				t.Fatalf("uninterrupted run printed %d losses, want 400", len(ref))
			}
			spec, _ := spec.Preset(name)
			tr, _ := engine.NewTrainer(spec)
			mid := tr.BatchesPerEpoch() + tr.BatchesPerEpoch()/2 // mid-epoch
			for _, k := range []int{150, mid} {
				if k >= 400 {
					k = 399
				}
				b := filepath.Join(dir, fmt.Sprintf("B%d", k))
				ok(t, playground(t, "train", "--preset", name, "--steps", strconv.Itoa(k), "--every", "50", "--out", b), "train B")
				r := ok(t, playground(t, "train", "--resume", b, "--steps", "400", "--every", "50", "--log-every", "1"), "resume B")
				if !strings.Contains(r.stderr, fmt.Sprintf("at step %d ", k)) {
					t.Fatalf("resume did not report step %d:\n%s", k, r.stderr)
				}
				got := losses(r.stderr)
				for s := k + 1; s <= 400; s++ {
					if got[s] != ref[s] {
						t.Fatalf("resumed at %d: loss at step %d is %q, uninterrupted %q", k, s, got[s], ref[s])
					}
				}
				if len(got) != 400-k {
					t.Fatalf("resumed at %d: printed %d losses, want %d", k, len(got), 400-k)
				}
				d := playground(t, "ckpt", "diff", a.lastLine(), r.lastLine())
				if d.code != 0 {
					t.Fatalf("resumed at %d: final states differ: %s", k, d.stderr)
				}
			}
		})
	}
}

// The wasm build under Node computes the same bits as the native build,
// with the SIMD kernels (as the runtime offers them) and without
// (PLAYGROUND_SIMD=0 on the wasm side).
func TestWasmMatchesNative(t *testing.T) {
	for _, name := range spec.PresetNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			n := ok(t, playground(t, "train", "--preset", name, "--steps", "400", "--every", "0", "--out", filepath.Join(dir, "native")), "native train")
			fn := fingerprint(t, n.lastLine())
			for _, simd := range []string{"1", "0"} {
				w := ok(t, playgroundWasmEnv(t, []string{"PLAYGROUND_SIMD=" + simd}, "train", "--preset", name, "--steps", "400", "--every", "200",
					"--out", filepath.Join(dir, "wasm"+simd)), "wasm train")
				if fw := fingerprint(t, w.lastLine()); fn != fw {
					t.Fatalf("fingerprint native %s, wasm (PLAYGROUND_SIMD=%s) %s", fn, simd, fw)
				}
				if d := playground(t, "ckpt", "diff", n.lastLine(), w.lastLine()); d.code != 0 {
					t.Fatalf("PLAYGROUND_SIMD=%s: diff: %s", simd, d.stderr)
				}
			}
		})
	}
}

// The wasm build under Node (engine/wasmsimd/exec_node.js) uses the SIMD128
// kernels, and PLAYGROUND_SIMD=0 turns them off; natively, the AVX2
// kernels where the CPU has AVX2.
func TestSIMDInUse(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want string
	}{{"", "SIMD: wasm-simd128"}, {"PLAYGROUND_SIMD=0", "SIMD: off"}} {
		r := ok(t, playgroundWasmEnv(t, []string{tc.env}, "bench", "--workloads", "W3", "--seconds", "0.2"), "wasm bench")
		if !strings.Contains(r.stdout, tc.want) {
			t.Errorf("%s: wasm bench says %q, want %q", tc.env, r.stdout, tc.want)
		}
	}
	// Natively the binary finds what this test process finds (the AVX2
	// kernel on amd64 with AVX2, else none).
	r := ok(t, playground(t, "bench", "--workloads", "W3", "--seconds", "0.2"), "native bench")
	if want := "SIMD: " + cmp.Or(engine.SIMD(), "off"); !strings.Contains(r.stdout, want) {
		t.Errorf("native bench says %q, want %q", r.stdout, want)
	}
}

// A checkpoint written by the wasm build resumes natively and the reverse,
// landing on the same bits as an uninterrupted run.
func TestCrossRuntimeResume(t *testing.T) {
	dir := t.TempDir()
	const name = "spiral-adam"
	ref := ok(t, playground(t, "train", "--preset", name, "--steps", "300", "--every", "0", "--out", filepath.Join(dir, "ref")), "ref")
	w := filepath.Join(dir, "w")
	ok(t, playgroundWasm(t, "train", "--preset", name, "--steps", "100", "--out", w), "wasm 0-100")
	ok(t, playground(t, "train", "--resume", w, "--steps", "200"), "native 100-200")
	last := ok(t, playgroundWasm(t, "train", "--resume", w, "--steps", "300"), "wasm 200-300")
	if d := playground(t, "ckpt", "diff", ref.lastLine(), last.lastLine()); d.code != 0 {
		t.Fatalf("diff: %s", d.stderr)
	}
}

// SIGKILL a run that checkpoints every step, 20 times at random moments:
// every resume starts from the newest valid checkpoint, no file is
// damaged, and the final state equals the uninterrupted run's.
func TestSigkillResume(t *testing.T) {
	build(t)
	dir := t.TempDir()
	const name, steps = "circle-sgd", "3000"
	ref := ok(t, playground(t, "train", "--preset", name, "--steps", steps, "--every", "0", "--out", filepath.Join(dir, "ref")), "ref")
	out := filepath.Join(dir, "run")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	resumes := 0
	for kill := 0; kill < 20; kill++ {
		newest := newestValid(t, out)
		args := []string{"train", "--resume", out, "--steps", steps, "--every", "1", "--keep", "5"}
		if len(checkpoints(t, out)) == 0 {
			args = []string{"train", "--preset", name, "--steps", steps, "--every", "1", "--keep", "5", "--out", out}
		}
		cmd := exec.Command(nativeBin, args...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(30+rng.IntN(200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if args[1] == "--resume" {
			if m := regexp.MustCompile(`at step (\d+) `).FindStringSubmatch(errb.String()); m != nil {
				resumes++
				if got, _ := strconv.ParseUint(m[1], 10, 64); got != newest {
					t.Fatalf("kill %d: resumed at step %d, newest valid checkpoint is at %d", kill, got, newest)
				}
			}
		}
		verifyAll(t, out)
	}
	if resumes < 10 {
		t.Fatalf("only %d of 20 runs got to resume before the kill", resumes)
	}
	final := ok(t, playground(t, "train", "--resume", out, "--steps", steps, "--every", "1", "--keep", "5"), "final resume")
	if d := playground(t, "ckpt", "diff", ref.lastLine(), final.lastLine()); d.code != 0 {
		t.Fatalf("after 20 kills the final state differs: %s", d.stderr)
	}
}

// SIGINT and SIGTERM save a checkpoint and print its path last.
func TestSignalSavesCheckpoint(t *testing.T) {
	build(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		out := t.TempDir()
		cmd := exec.Command(nativeBin, "train", "--preset", "spiral-adam", "--steps", "100000000", "--every", "0", "--out", out)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Fatalf("%v: exit %v, want 130; stderr %s", sig, err, stderr.String())
		}
		path := result{stdout: stdout.String()}.lastLine()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v: last line %q is not the checkpoint: %v", sig, path, err)
		}
		c, err := persist.Decode(b)
		if err != nil || c.State.Step == 0 {
			t.Fatalf("%v: saved checkpoint: step %v, %v", sig, c, err)
		}
	}
}

// checkpoints lists the checkpoint files (not temporary files) under dir.
func checkpoints(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func verifyAll(t *testing.T, dir string) {
	t.Helper()
	files := checkpoints(t, dir)
	if len(files) == 0 {
		return
	}
	if r := playground(t, append([]string{"ckpt", "verify"}, files...)...); r.code != 0 {
		t.Fatalf("damaged checkpoint after SIGKILL: %s", r.stderr)
	}
}

func newestValid(t *testing.T, dir string) uint64 {
	t.Helper()
	var best uint64
	for _, f := range checkpoints(t, dir) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if c, err := persist.Decode(b); err == nil && c.State.Step > best {
			best = c.State.Step
		}
	}
	return best
}

// A damaged newest checkpoint is reported and the previous valid one is
// used; the run still ends on the uninterrupted run's bits.
func TestDamagedCheckpointFallback(t *testing.T) {
	dir := t.TempDir()
	const name = "xor-momentum"
	ref := ok(t, playground(t, "train", "--preset", name, "--steps", "300", "--every", "0", "--out", filepath.Join(dir, "ref")), "ref")
	// Bytes damaged, and checkpoints whose checksum is right but whose
	// state does not restore: verify refuses both, resume falls back.
	for _, damage := range []string{"bitflip", "truncate", "empty-rng", "inconsistent-step", "step-max", "optimizer-step"} {
		t.Run(damage, func(t *testing.T) {
			out := filepath.Join(dir, damage)
			last := ok(t, playground(t, "train", "--preset", name, "--steps", "200", "--every", "50", "--out", out), "train").lastLine()
			b, err := os.ReadFile(last)
			if err != nil {
				t.Fatal(err)
			}
			switch damage {
			case "bitflip":
				b[len(b)-7] ^= 0x10
			case "truncate":
				b = b[:len(b)/2]
			default:
				b = storetest.Unrestorable(t, b)[damage]
			}
			if err := os.WriteFile(last, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if r := playground(t, "ckpt", "verify", last); r.code == 0 || !strings.Contains(r.stderr, filepath.Base(last)) {
				t.Fatalf("verify accepted a damaged file (exit %d): %s", r.code, r.stderr)
			}
			r := ok(t, playground(t, "train", "--resume", out, "--steps", "300"), "resume")
			if !strings.Contains(r.stderr, "(damaged): checkpoint") || !strings.Contains(r.stderr, "at step 150 ") {
				t.Fatalf("resume did not report the fallback to step 150:\n%s", r.stderr)
			}
			if d := playground(t, "ckpt", "diff", ref.lastLine(), r.lastLine()); d.code != 0 {
				t.Fatalf("diff: %s", d.stderr)
			}
		})
	}
}

// ckpt verify reads only regular files: a device or a FIFO is refused at
// once, never read until memory runs out or blocked on forever.
func TestVerifyRefusesNonRegularFiles(t *testing.T) {
	build(t)
	fifo := filepath.Join(t.TempDir(), "fifo.safetensors")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo} {
		for _, args := range [][]string{{"ckpt", "verify", path}, {"ckpt", "inspect", path}, {"train", "--spec", path, "--steps", "1"}} {
			cmd := exec.Command(nativeBin, args...)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			timer := time.AfterFunc(time.Second, func() { cmd.Process.Kill() })
			err := cmd.Wait()
			timer.Stop()
			if took := time.Since(start); took >= time.Second {
				t.Fatalf("%v took %v (killed after 1 s)", args, took)
			}
			if err == nil || !strings.Contains(errb.String(), "not a regular file") {
				t.Fatalf("%v: %v, stderr %q; want a non-zero exit that says it is not a regular file", args, err, errb.String())
			}
		}
	}
}

func TestDiffNamesFirstDifference(t *testing.T) {
	dir := t.TempDir()
	a := ok(t, playground(t, "train", "--preset", "gauss-nesterov", "--steps", "10", "--out", filepath.Join(dir, "a")), "a").lastLine()
	b := ok(t, playground(t, "train", "--preset", "gauss-nesterov", "--steps", "11", "--out", filepath.Join(dir, "b")), "b").lastLine()
	d := playground(t, "ckpt", "diff", a, b)
	if d.code != 1 || !strings.Contains(d.stderr, "layers.0.weight[") {
		t.Fatalf("diff of different states: exit %d, %s", d.code, d.stderr)
	}
}

func TestEvalAndData(t *testing.T) {
	dir := t.TempDir()
	ck := ok(t, playground(t, "train", "--preset", "circle-sgd", "--steps", "2000", "--out", dir), "train").lastLine()
	r := ok(t, playground(t, "eval", "--ckpt", ck), "eval")
	m := regexp.MustCompile(`(?m)^test\s+loss (\S+) accuracy (\S+) \((\d+) samples\)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("eval output: %s", r.stdout)
	}
	if acc, _ := strconv.ParseFloat(m[2], 64); acc < 0.9 {
		t.Fatalf("test accuracy after 2000 steps of circle-sgd is %v", acc)
	}
	d := ok(t, playground(t, "data", "--preset", "circle-sgd"), "data")
	lines := strings.Split(strings.TrimSpace(d.stdout), "\n")
	if lines[0] != "x,y,label,split" || len(lines) != 1001 {
		t.Fatalf("data: header %q, %d lines", lines[0], len(lines))
	}
	if !strings.HasSuffix(lines[1], ",train") || !strings.HasSuffix(lines[len(lines)-1], ",test") {
		t.Fatalf("data rows: %q ... %q", lines[1], lines[len(lines)-1])
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"train", "--steps", "10"},
		{"train", "--preset", "nope", "--steps", "10"},
		{"train", "--preset", "circle-sgd"},
		{"ckpt", "verify", "/does/not/exist"},
		{"eval"},
	} {
		r := playground(t, args...)
		if r.code == 0 || strings.Contains(r.stderr, "panic") || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// The model tensors load into a torch.nn.Sequential of the same shape by
// name, and PyTorch computes the same test loss as the engine.
func TestPyTorchLoadsCheckpoint(t *testing.T) {
	python := torchPython(t)
	for _, name := range spec.PresetNames() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ck := ok(t, playground(t, "train", "--preset", name, "--steps", "300", "--out", dir), "train").lastLine()
			data := filepath.Join(dir, "data.csv")
			if err := os.WriteFile(data, []byte(ok(t, playground(t, "data", "--preset", name), "data").stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			ev := ok(t, playground(t, "eval", "--ckpt", ck), "eval")
			m := regexp.MustCompile(`(?m)^test\s+loss (\S+) `).FindStringSubmatch(ev.stdout)
			if m == nil {
				t.Fatalf("eval: %s", ev.stdout)
			}
			r := runCmd(t, exec.Command(python, "testdata/torch_check.py", ck, data))
			if r.code != 0 {
				t.Fatalf("torch: %s", r.stderr)
			}
			ours, _ := strconv.ParseFloat(m[1], 64)
			theirs, _ := strconv.ParseFloat(strings.TrimSpace(r.stdout), 64)
			if diff := ours - theirs; diff > 1e-4*max(1, ours) || -diff > 1e-4*max(1, ours) {
				t.Fatalf("test loss: engine %v, PyTorch %v", ours, theirs)
			}
		})
	}
}
