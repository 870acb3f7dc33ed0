package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"playground/engine"
	"playground/spec"
)

// The workloads of `make bench` (W1, W2, W3 of the performance notes), run
// by `playground bench` natively and under Node. With --serve it answers
// the orchestrator web/bench/run.mjs: one JSON request per line on stdin,
// {"workload":"W2","seconds":2}, one JSON line per answer on stdout,
// {"workload":"W2","steps":N,"seconds":S}: N steps (W3: matmuls) in S
// seconds of wall time.

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	workers := fs.Int("workers", 1, "goroutines for the large products (0: every core; always 1 on js/wasm)")
	seconds := fs.Float64("seconds", 2, "time each workload this long, after a warm-up of half that")
	only := fs.String("workloads", "W1,W2,W3", "comma-separated workloads to run")
	serve := fs.Bool("serve", false, "answer JSON requests on stdin (for web/bench/run.mjs)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	b := &bench{workers: *workers, steps: map[string]func(){}}
	if *serve {
		return b.serve(ctx, os.Stdin, stdout)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workload\tsteps/s\tGFLOP/s\t\n")
	for _, w := range strings.Split(*only, ",") {
		if _, ok := workloads[w]; !ok {
			return exitError{code: 2, msg: fmt.Sprintf("bench: unknown workload %q (want W1, W2 or W3)", w)}
		}
		b.run(w, *seconds/2)
		steps, secs := b.run(w, *seconds)
		rate := float64(steps) / secs
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t\n", w, rate, rate*workloads[w].flops/1e9)
		if ctx.Err() != nil {
			break
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s/%s, %d worker(s)\n", runtime.GOOS, runtime.GOARCH, b.workerCount())
	return nil
}

// workload describes one benchmark: how to build its step function and the
// floating-point operations one step counts for.
type workload struct {
	make  func(workers int) func()
	flops float64
}

// The parameter counts of W1's 2-16-16-1 and W2's 784-256-128-10 MLPs.
const (
	w1Params = 2*16 + 16 + 16*16 + 16 + 16*1 + 1
	w2Params = 784*256 + 256 + 256*128 + 128 + 128*10 + 10
)

var workloads = map[string]workload{
	// W1: the circle-sgd preset, TensorFlow Playground's default network;
	// 6 × params × batch FLOPs per step, as for W2.
	"W1": {make: func(workers int) func() {
		ws, err := spec.Preset("circle-sgd")
		if err != nil {
			panic(err)
		}
		return trainerStep(ws, workers, nil)
	}, flops: 6 * w1Params * 10},
	// W2: 784-256-128-10 ReLU, softmax cross-entropy, batch 64, Adam 1e-3,
	// on 1024 random samples; 6 × params × batch FLOPs per step.
	"W2": {make: func(workers int) func() {
		ws, err := spec.Preset("digits")
		if err != nil {
			panic(err)
		}
		ws.Dataset.Samples, ws.Dataset.TestRatio = 64, 0
		ws.Model.Layers = []spec.LayerSpec{{Units: 256, Activation: "relu"}, {Units: 128, Activation: "relu"}, {Units: 10, Activation: "softmax"}}
		ws.BatchSize = 64
		ws.Optimizer = spec.OptimizerSpec{Kind: "adam", LR: 1e-3}
		return trainerStep(ws, workers, func(d *engine.Dataset) { d.Train = randomSplit(1024, d.Inputs, d.Outputs) })
	}, flops: 6 * w2Params * 64},
	// W3: one 256×256 by 256×256 float32 product.
	"W3": {make: func(workers int) func() {
		const n = 256
		r := rand.New(rand.NewPCG(3, 3))
		a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
		for i := range a {
			a[i], b[i] = r.Float32(), r.Float32()
		}
		mm := engine.MatMul{Workers: workers}
		return func() { mm.NN(c, a, b, n, n, n) }
	}, flops: 2 * 256 * 256 * 256},
}

// trainerStep returns one training step of spec, after data replaces the
// generated dataset if set.
func trainerStep(ws spec.Spec, workers int, data func(*engine.Dataset)) func() {
	tr, err := engine.NewTrainer(ws)
	if err != nil {
		panic(err)
	}
	if data != nil {
		data(tr.Data)
	}
	tr.SetWorkers(workers)
	return func() { tr.TrainStep() }
}

// randomSplit is n samples of uniform inputs and random one-hot targets.
func randomSplit(n, inputs, outputs int) engine.Split {
	r := rand.New(rand.NewPCG(1, 2))
	sp := engine.Split{N: n, X: make([]float32, n*inputs), Y: make([]float32, n*outputs), Label: make([]float32, n)}
	for i := range sp.X {
		sp.X[i] = r.Float32()
	}
	for i := 0; i < n; i++ {
		c := r.IntN(outputs)
		sp.Y[i*outputs+c], sp.Label[i] = 1, float32(c)
	}
	return sp
}

// bench holds the step functions built so far, so that a workload keeps
// its state (and its warmth) across requests.
type bench struct {
	workers int
	steps   map[string]func()
}

// workerCount is the parallelism asked for, within what the runtime has.
func (b *bench) workerCount() int {
	switch {
	case runtime.GOOS == "js":
		return 1
	case b.workers <= 0 || b.workers > runtime.NumCPU():
		return runtime.NumCPU()
	}
	return b.workers
}

// run steps workload w for about seconds and returns the step count and
// the exact elapsed time.
func (b *bench) run(w string, seconds float64) (int, float64) {
	step := b.steps[w]
	if step == nil {
		step = workloads[w].make(b.workerCount())
		b.steps[w] = step
	}
	t0 := time.Now()
	until := t0.Add(time.Duration(seconds * float64(time.Second)))
	n := 0
	for {
		step()
		n++
		if now := time.Now(); !now.Before(until) {
			return n, now.Sub(t0).Seconds()
		}
	}
}

type benchRequest struct {
	Workload string  `json:"workload"`
	Seconds  float64 `json:"seconds"`
}

type benchAnswer struct {
	Workload string  `json:"workload"`
	Steps    int     `json:"steps"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

// serve answers requests until stdin closes.
func (b *bench) serve(ctx context.Context, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	for sc.Scan() && ctx.Err() == nil {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var req benchRequest
		var ans benchAnswer
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			ans.Error = err.Error()
		} else if _, ok := workloads[req.Workload]; !ok {
			ans.Error = fmt.Sprintf("unknown workload %q", req.Workload)
		} else {
			ans.Workload = req.Workload
			ans.Steps, ans.Seconds = b.run(req.Workload, req.Seconds)
		}
		if err := enc.Encode(ans); err != nil {
			return err
		}
	}
	return sc.Err()
}
