//go:build !js

package main

// Continuing a run in PyTorch with python/playground_torch.py, and back.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"playground/engine"
	"playground/engine/enginetest"
	"playground/persist"
)

var (
	pythonOnce sync.Once
	pythonPath string
)

// torchPython is a python3 that imports torch; without one the test is
// skipped, or fails under PLAYGROUND_REQUIRE_TORCH (as in make test).
func torchPython(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		for _, p := range []string{"/usr/bin/python3", "python3"} {
			if exec.Command(p, "-c", "import torch").Run() == nil {
				pythonPath = p
				return
			}
		}
	})
	if pythonPath == "" {
		if os.Getenv("PLAYGROUND_REQUIRE_TORCH") != "" {
			t.Fatal("PyTorch is required (make test installs Debian's python3-torch)")
		}
		t.Skip("no python3 with torch")
	}
	return pythonPath
}

// readmeContinue is the README's "Continue in PyTorch" example: the test
// runs the very lines users copy.
func readmeContinue(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Continue in PyTorch\n")
	_, code, ok2 := strings.Cut(sec, "```python\n")
	code, _, ok3 := strings.Cut(code, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal(`README.md has no python block under "## Continue in PyTorch"`)
	}
	return code
}

// runTorch runs python code in dir with python/ on the path and this
// build's binary as $PLAYGROUND.
func runTorch(t *testing.T, dir, code string, args ...string) result {
	t.Helper()
	build(t)
	py, err := filepath.Abs("../../python")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(torchPython(t), append([]string{"-c", code}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONPATH="+py, "PLAYGROUND="+nativeBin, "OMP_NUM_THREADS=1")
	return runCmd(t, cmd)
}

// torchCase is a run continued in PyTorch: a preset, or a spec in JSON.
// A case with broken set edits the README's lines into a wrong recipe,
// which the parameter tolerance must catch.
type torchCase struct {
	name, preset, spec string
	broken             func(code string) string
}

// torchCases are one run per optimizer and schedule: presets where they
// exist, and a spec whose cosine warm-up, decay and hold after total all
// fall within steps 201-300.
var torchCases = []torchCase{
	{name: "sgd", preset: "circle-sgd"},
	{name: "momentum-step-l2", preset: "xor-momentum"},
	{name: "nesterov-l1", preset: "gauss-nesterov"},
	{name: "adam-cosine", preset: "spiral-adam"},
	{name: "adamw-cosine-mse", preset: "regression-adamw"},
	{name: "rmsprop-step", preset: "spiral-rmsprop"},
	{name: "adam-softmax", preset: "digits"},
	{name: "cosine-warmup-hold", spec: `{"name":"hold <é> & \"q\" \\ \u2028 \t\u0001","seed":7,"dataset":{"kind":"circle","samples":400,"noise":0.1,"test_ratio":0.5},
		"model":{"layers":[{"units":8,"activation":"relu"},{"units":1,"activation":"sigmoid"}]},
		"optimizer":{"kind":"adam","lr":0.02},"schedule":{"kind":"cosine","warmup":230,"total":270,"min_lr":0.004},"batch_size":16}`},
}

var torchLossLine = regexp.MustCompile(`(?m)^(\d+) (\S+)$`)

// From the engine's checkpoint at step 200, the README's lines continue
// 100 steps in PyTorch: the losses equal the engine's, the parameters agree
// to float32 rounding, and the saved state verifies and resumes.
func TestPyTorchContinues(t *testing.T) {
	torchPython(t)
	for _, tc := range torchCases {
		t.Run(tc.name, func(t *testing.T) { continueInTorch(t, tc) })
	}
	// The tolerance is tight enough to see a recipe that leaves out the
	// L2 penalty (rate 0.001, lr 0.03, momentum 0.9: off by ~0.05 in 100
	// steps, 250 times the tolerance).
	t.Run("without-l2-penalty-differs", func(t *testing.T) {
		continueInTorch(t, torchCase{preset: "xor-momentum", broken: func(code string) string {
			const penalty = "(loss + pt.penalty(model, info)).backward()"
			if !strings.Contains(code, penalty) {
				t.Fatalf("the README's lines no longer contain %s", penalty)
			}
			return strings.Replace(code, penalty, "loss.backward()", 1)
		}})
	})
}

func continueInTorch(t *testing.T, tc torchCase) {
	dir := t.TempDir()
	start := []string{"--preset", tc.preset}
	if tc.spec != "" {
		f := filepath.Join(dir, "spec.json")
		if err := os.WriteFile(f, []byte(tc.spec), 0o644); err != nil {
			t.Fatal(err)
		}
		start = []string{"--spec", f}
	}
	store := filepath.Join(dir, "store")
	c200 := ok(t, playground(t, append([]string{"train", "--steps", "200", "--every", "0", "--out", store}, start...)...), "train 200").lastLine()
	if tc.spec != "" {
		checkHonoured(t, tc.spec, decodeFile(t, c200).State.Spec)
	}
	eng := ok(t, playground(t, "train", "--resume", c200, "--steps", "300", "--every", "0", "--log-every", "1", "--out", store), "train 300")
	engLoss := losses(eng.stderr)

	ckpt, err := os.ReadFile(c200)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ckpt.safetensors"), ckpt, 0o644); err != nil {
		t.Fatal(err)
	}
	code := readmeContinue(t)
	if tc.broken != nil {
		code = tc.broken(code)
	}
	py := runTorch(t, dir, code)
	if py.code != 0 {
		t.Fatalf("python: exit %d\n%s", py.code, py.stderr)
	}
	got := torchLossLine.FindAllStringSubmatch(py.stdout, -1)
	if len(got) != 100 {
		t.Fatalf("python printed %d loss lines, want 100:\n%s", len(got), py.stdout)
	}
	for _, m := range got {
		step, _ := strconv.Atoi(m[1])
		theirs, err1 := strconv.ParseFloat(m[2], 64)
		ours, err2 := strconv.ParseFloat(engLoss[step], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("step %d: loss %q (PyTorch) vs %q (engine)", step, m[2], engLoss[step])
		}
		if math.Abs(theirs-ours) > 1e-4*math.Abs(ours) && tc.broken == nil {
			t.Errorf("step %d: PyTorch loss %v, engine %v (relative %.2g)", step, theirs, ours, math.Abs(theirs-ours)/math.Abs(ours))
		}
	}

	// The saved state: verified by the CLI, then compared with the
	// engine's own step 300.
	saved := filepath.Join(dir, "continued.safetensors")
	ok(t, playground(t, "ckpt", "verify", saved), "ckpt verify")
	theirs, ours := decodeFile(t, saved), decodeFile(t, eng.lastLine())
	if theirs.State.Step != 300 || theirs.Parent == "" || theirs.RunID != ours.RunID {
		t.Fatalf("saved: step %d parent %q run %q (engine's run %q)", theirs.State.Step, theirs.Parent, theirs.RunID, ours.RunID)
	}
	diffs := compareParams(t, theirs.State, ours.State)
	if tc.broken != nil {
		if len(diffs) == 0 {
			t.Fatal("a broken recipe's parameters pass the tolerance")
		}
		t.Logf("the broken recipe is caught: %s", diffs[0])
		return
	}
	for _, d := range diffs {
		t.Error(d)
	}

	// The engine resumes it.
	r := ok(t, playground(t, "train", "--resume", saved, "--steps", "310", "--every", "0", "--out", store), "resume PyTorch's state")
	if c := decodeFile(t, r.lastLine()); c.State.Step != 310 || c.Parent != theirs.ID {
		t.Fatalf("resumed to step %d with parent %s, want 310 and %s", c.State.Step, c.Parent, theirs.ID)
	}
}

// checkHonoured fails unless every optimizer setting the spec JSON asks
// for is the normalized spec's (an omitted field of the stored spec is 0).
func checkHonoured(t *testing.T, asked string, stored any) {
	t.Helper()
	var a, s struct {
		Optimizer map[string]any `json:"optimizer"`
	}
	b, _ := json.Marshal(stored)
	if err := json.Unmarshal([]byte(asked), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for k, v := range a.Optimizer {
		got, ok := s.Optimizer[k]
		if !ok {
			got = 0.0
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("optimizer %s: asked for %v, the run uses %v", k, v, got)
		}
	}
}

// torchValues runs body for each case c (its JSON) in python and returns
// the numbers each iteration prints on its line.
func torchValues(t *testing.T, python string, cases any, body string) [][]float64 {
	t.Helper()
	js, _ := json.Marshal(cases)
	r := runCmd(t, exec.Command(python, "-c", "import json, sys, torch\nfor c in json.loads(sys.argv[1]):"+body, string(js)))
	if r.code != 0 {
		t.Fatalf("python: %s", r.stderr)
	}
	var out [][]float64
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row []float64
		for _, f := range strings.Fields(line) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("python printed %q", line)
			}
			row = append(row, v)
		}
		out = append(out, row)
	}
	return out
}

// At saturation the reported softmax_ce loss is CrossEntropyLoss's: the
// engine's loss on a softmax layer whose logits are the first 10 inputs.
func TestSoftmaxCELossMatchesTorchAtSaturation(t *testing.T) {
	python := torchPython(t)
	tr := enginetest.Logits(t)
	cases := []struct {
		Z     [][]float32
		Label []int
	}{
		{[][]float32{{-300, 0, 0, 0, 0, 0, 0, 0, 0, 500}}, []int{0}}, // wrong by 800
		{[][]float32{{-300, 0, 0, 0, 0, 0, 0, 0, 0, 500}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {40, -40, 0, 0, 0, 0, 0, 0, 0, 0}}, []int{0, 3, 0}},
		{[][]float32{{25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 20}}, []int{0, 9}}, // right and saturated
	}
	theirs := torchValues(t, python, cases, `
    z, y = torch.tensor(c["Z"], dtype=torch.float32), torch.tensor(c["Label"])
    print(repr(torch.nn.CrossEntropyLoss()(z, y).item()))
`)
	for i, c := range cases {
		got, want := float64(tr.Evaluate(enginetest.LogitSplit(tr, c.Z, c.Label)).Loss), theirs[i][0]
		if math.Abs(got-want) > 1e-5*want {
			t.Errorf("logits %v labels %v: engine %g, CrossEntropyLoss %g", c.Z, c.Label, got, want)
		} else {
			t.Logf("logits %v labels %v: engine %g, CrossEntropyLoss %g", c.Z, c.Label, got, want)
		}
	}
}

func decodeFile(t *testing.T, path string) *persist.Checkpoint {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := persist.Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// compareParams compares every model parameter of a (PyTorch) with b
// (engine) after 100 steps from the same state, and describes those out
// of tolerance.
//
// Tolerance: both sides compute every step in float32 but sum in different
// orders (torch's BLAS blocks its matrix products and reductions its own
// way; so does the engine's kernel), so each gradient differs by a few ulps
// of the partial sums, i.e. ~1e-7 relative to the gradient's magnitude.
// These differences enter each update scaled by the learning rate (Adam and
// RMSprop normalise by sqrt(v) + eps, which can magnify a ulp-level
// difference of a tiny gradient into a relative one of the update) and
// accumulate over 100 steps, and the training dynamics can grow them. A
// bound of 1e-4 relative to the tensor's largest magnitude (plus 1e-6
// absolute) is ~1000 float32 ulps: loose enough for that accumulation,
// tight enough that any real difference in the recipe (a learning rate off
// by one step, a penalty on the biases, a missed bias correction, a wrong
// batch) exceeds it by orders of magnitude.
func compareParams(t *testing.T, a, b engine.State) []string {
	t.Helper()
	var diffs []string
	for i, tb := range b.Tensors {
		if !strings.HasPrefix(tb.Name, "layers.") {
			continue
		}
		ta := a.Tensors[i]
		scale := 0.0
		for _, v := range tb.F32 {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		tol := 1e-6 + 1e-4*scale
		worst, at := 0.0, 0
		for j := range tb.F32 {
			if d := math.Abs(float64(ta.F32[j]) - float64(tb.F32[j])); d > worst {
				worst, at = d, j
			}
		}
		if worst > tol {
			diffs = append(diffs, fmt.Sprintf("%s[%d]: PyTorch %v, engine %v (|diff| %.3g > %.3g)", tb.Name, at, ta.F32[at], tb.F32[at], worst, tol))
		} else {
			t.Logf("%s: max |diff| %.3g (tolerance %.3g)", tb.Name, worst, tol)
		}
	}
	return diffs
}

// At saturation the reported BCE loss is BCEWithLogitsLoss's value: the
// engine's loss (Evaluate, the same code as a training step's) on
// logistic regression with weight 1 and bias 0, whose logits are the
// inputs, against torch on the same float32 logits.
func TestBCELossMatchesTorchAtSaturation(t *testing.T) {
	python := torchPython(t)
	tr := enginetest.Logistic(t)
	cases := []struct{ Z, Y []float32 }{
		{[]float32{-5000, 5000}, []float32{1, 0}}, // wrong and saturated
		{[]float32{-90, 120, 3, -0.5}, []float32{1, 0, 1, 0}},
		{[]float32{-30, 30, -17.5, 16}, []float32{1, 0, 1, 0}},
		{[]float32{30, -30, 17, -17}, []float32{1, 0, 1, 0}}, // right and saturated: tiny
		{[]float32{0.25, -2, 40, -1e4}, []float32{0, 1, 0, 0}},
	}
	theirs := torchValues(t, python, cases, `
    z, y = torch.tensor(c["Z"], dtype=torch.float32), torch.tensor(c["Y"], dtype=torch.float32)
    bce = torch.nn.BCEWithLogitsLoss()(z, y).item()
    # log_sigmoid uses log1p; torch 1.13's BCEWithLogitsLoss rounds
    # log(1 + e**-|z|) to 0 once e**-|z| < 2**-24.
    ls = -torch.nn.functional.logsigmoid(torch.where(y > 0.5, z, -z)).mean().item()
    print(repr(bce), repr(ls))
`)
	for i, c := range cases {
		bce, ls := theirs[i][0], theirs[i][1]
		got := float64(tr.Evaluate(&engine.Split{N: len(c.Z), X: c.Z, Y: c.Y, Label: c.Y}).Loss)
		if math.Abs(got-ls) > 1e-5*ls {
			t.Errorf("logits %v labels %v: engine %g, torch -logsigmoid %g", c.Z, c.Y, got, ls)
		}
		if bce > 1e-6 && math.Abs(got-bce) > 1e-5*bce {
			t.Errorf("logits %v labels %v: engine %g, torch BCEWithLogitsLoss %g", c.Z, c.Y, got, bce)
		} else {
			t.Logf("logits %v labels %v: engine %g, BCEWithLogitsLoss %g, -logsigmoid %g", c.Z, c.Y, got, bce, ls)
		}
	}
}
