// Package workload is the benchmark workloads W1-W3 of make bench
// (../shared/PERF-NOTES.md), timed by `playground bench` natively and under
// Node, and by the engine worker in the browser (make bench-browser).
package workload

import (
	"math/rand/v2"
	"runtime"
	"time"

	"playground/engine"
	"playground/spec"
)

// Workload is one benchmark: how to build its step function and the
// floating-point operations one step counts for.
type Workload struct {
	Make  func(workers int) func()
	Flops float64
}

// The parameter counts of W1's 2-16-16-1 and W2's 784-256-128-10 MLPs.
const (
	w1Params = 2*16 + 16 + 16*16 + 16 + 16*1 + 1
	w2Params = 784*256 + 256 + 256*128 + 128 + 128*10 + 10
)

// All is every workload by name.
var All = map[string]Workload{
	// W1: the circle-sgd preset, TensorFlow Playground's default network;
	// 6 × params × batch FLOPs per step, as for W2.
	"W1": {Make: func(workers int) func() {
		ws, err := spec.Preset("circle-sgd")
		if err != nil {
			panic(err)
		}
		return trainerStep(ws, workers, nil)
	}, Flops: 6 * w1Params * 10},
	// W2: 784-256-128-10 ReLU, softmax cross-entropy, batch 64, Adam 1e-3,
	// on 1024 random samples; 6 × params × batch FLOPs per step.
	"W2": {Make: func(workers int) func() {
		ws, err := spec.Preset("digits")
		if err != nil {
			panic(err)
		}
		ws.Dataset.Samples, ws.Dataset.TestRatio = 64, 0
		ws.Model.Layers = []spec.LayerSpec{{Units: 256, Activation: "relu"}, {Units: 128, Activation: "relu"}, {Units: 10, Activation: "softmax"}}
		ws.BatchSize = 64
		ws.Optimizer = spec.OptimizerSpec{Kind: "adam", LR: 1e-3}
		return trainerStep(ws, workers, func(d *engine.Dataset) { d.Train = randomSplit(1024, d.Inputs, d.Outputs) })
	}, Flops: 6 * w2Params * 64},
	// W3: one 256×256 by 256×256 float32 product.
	"W3": {Make: func(workers int) func() {
		const n = 256
		r := rand.New(rand.NewPCG(3, 3))
		a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
		for i := range a {
			a[i], b[i] = r.Float32(), r.Float32()
		}
		mm := engine.MatMul{Workers: workers}
		return func() { mm.NN(c, a, b, n, n, n) }
	}, Flops: 2 * 256 * 256 * 256},
}

// trainerStep returns one training step of spec, after data replaces the
// generated dataset if set.
func trainerStep(s spec.Spec, workers int, data func(*engine.Dataset)) func() {
	tr, err := engine.NewTrainer(s)
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

// Bench holds the step functions built so far, so that a workload keeps
// its state (and its warmth) across runs.
type Bench struct {
	Workers int // goroutines for the large products (<= 0: every core)
	steps   map[string]func()
}

// WorkerCount is the parallelism asked for, within what the runtime has.
func (b *Bench) WorkerCount() int {
	switch {
	case runtime.GOOS == "js":
		return 1
	case b.Workers <= 0 || b.Workers > runtime.NumCPU():
		return runtime.NumCPU()
	}
	return b.Workers
}

// Run steps workload w (a name in All) for about seconds and returns the
// step count and the exact elapsed time.
func (b *Bench) Run(w string, seconds float64) (int, float64) {
	step := b.steps[w]
	if step == nil {
		if b.steps == nil {
			b.steps = map[string]func(){}
		}
		step = All[w].Make(b.WorkerCount())
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
