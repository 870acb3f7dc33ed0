package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"playground/spec"
	"playground/spec/spectest"
)

// BenchmarkTrainStep reports training steps per second for every preset.
func BenchmarkTrainStep(b *testing.B) {
	spectest.EachPreset(b, func(b *testing.B, s spec.Spec) {
		benchSteps(b, mustTrainer(b, s), 0)
	})
}

// BenchmarkW1 is W1 of make bench: the circle-sgd preset (2-16-16-1 tanh,
// batch 10, SGD).
func BenchmarkW1(b *testing.B) {
	benchSteps(b, mustTrainer(b, spectest.Preset(b, "circle-sgd")), 0)
}

// BenchmarkW2 is W2 of make bench: 784-256-128-10 ReLU, softmax
// cross-entropy, batch 64, Adam, on random data; natively also on every
// core.
func BenchmarkW2(b *testing.B) {
	for _, w := range benchWorkers() {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			tr := w2Trainer(b)
			tr.SetWorkers(w)
			benchSteps(b, tr, 6*tr.Model.NumParams()*tr.Spec.BatchSize)
		})
	}
}

// BenchmarkMatMul is W3: 256×256 by 256×256 in float32.
func BenchmarkMatMul(b *testing.B) {
	const n = 256
	x, y, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range x {
		x[i], y[i] = float32(i%7)*0.1, float32(i%5)*0.2
	}
	for _, w := range benchWorkers() {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			mm := MatMul{Workers: w}
			for b.Loop() {
				mm.NN(c, x, y, n, n, n)
			}
			b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func benchWorkers() []int {
	if w := maxWorkers(); w > 1 {
		return []int{1, w}
	}
	return []int{1}
}

// benchSteps times TrainStep and reports steps/s and, when flopsPerStep is
// set, GFLOP/s.
func benchSteps(b *testing.B, tr *Trainer, flopsPerStep int) {
	for b.Loop() {
		tr.TrainStep()
	}
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "steps/s")
	if flopsPerStep > 0 {
		b.ReportMetric(rate*float64(flopsPerStep)/1e9, "GFLOP/s")
	}
}

// w2Trainer is W2's trainer: the digits spec widened to 784-256-128-10 and
// batch 64, its training set replaced by 1024 random samples.
func w2Trainer(b *testing.B) *Trainer {
	ds := spectest.Preset(b, "digits")
	ds.Dataset.Samples, ds.Dataset.TestRatio = 64, 0
	ds.Model.Layers = []spec.LayerSpec{{Units: 256, Activation: "relu"}, {Units: 128, Activation: "relu"}, {Units: 10, Activation: "softmax"}}
	ds.BatchSize = 64
	tr := mustTrainer(b, ds)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 1024
	sp := Split{N: n, X: make([]float32, n*784), Y: make([]float32, n*10), Label: make([]float32, n)}
	for i := range sp.X {
		sp.X[i] = r.Float32()
	}
	for i := 0; i < n; i++ {
		c := r.IntN(10)
		sp.Y[i*10+c], sp.Label[i] = 1, float32(c)
	}
	tr.Data.Train = sp
	return tr
}

// BenchmarkSmall times the products of one W1 step, by layout.
func BenchmarkSmall(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	big := randSlice(r, 4096)
	c := make([]float32, 4096)
	var mm MatMul
	type prod struct{ m, n, k int }
	for _, tc := range []struct {
		name  string
		f     func(c, a, b []float32, m, n, k int)
		prods []prod
	}{
		{"NT", mm.NT, []prod{{10, 16, 2}, {10, 16, 16}, {10, 1, 16}}},
		{"TN", mm.TN, []prod{{1, 16, 10}, {16, 16, 10}, {16, 2, 10}}},
		{"NN", mm.NN, []prod{{10, 16, 1}, {10, 16, 16}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			macs := 0
			for _, p := range tc.prods {
				macs += p.m * p.n * p.k
			}
			for b.Loop() {
				for _, p := range tc.prods {
					tc.f(c, big, big[1024:], p.m, p.n, p.k)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(macs), "ns/MAC")
		})
	}
}
