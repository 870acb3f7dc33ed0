package engine

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"playground/spec"
	"playground/spec/spectest"
)

// refMatMul is the defining order of every product: C[i][j] is one float32
// running sum from +0 over p = 0..k-1 of the rounded products.
func refMatMul(a, b view, m, n, k int) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += float32(a.d[i*a.rs+p*a.cs] * b.d[p*b.rs+j*b.cs])
			}
			c[i*n+j] = s
		}
	}
	return c
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// Every layout, shape and worker count computes every element in the
// reference order: the same bits, with the vector kernel and without.
func TestMatMulBitsMatchReference(t *testing.T) {
	requireSIMD(t)
	for _, on := range []bool{true, false} {
		was := useVector(on)
		t.Run("simd="+cmp.Or(SIMD(), "off"), matMulBitsMatchReference)
		useVector(was)
	}
}

// requireSIMD fails the test when PLAYGROUND_REQUIRE_SIMD=1 and the vector
// path is off: the wasm tests under Node and the native tests on a machine
// with AVX2 must exercise it.
func requireSIMD(t *testing.T) {
	if os.Getenv("PLAYGROUND_REQUIRE_SIMD") == "1" && SIMD() == "" {
		t.Fatal("PLAYGROUND_REQUIRE_SIMD=1 but MatMul has no SIMD kernel here (is the loader giving the simd imports?)")
	}
	t.Logf("SIMD kernel: %q", SIMD())
}

func matMulBitsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {10, 16, 2}, {10, 16, 16}, {10, 1, 16}, {1, 16, 10}, {16, 2, 10}, {10, 16, 1},
		{3, 5, 7}, {5, 3, 9}, {64, 256, 784}, {64, 10, 128}, {256, 784, 64}, {33, 65, 129}, {128, 128, 128}, {7, 0, 3}, {4, 4, 0},
		{4, 16, 64}, {8, 8, 64}, {12, 40, 33}, {17, 23, 300}, {64, 128, 256}, {10, 128, 64}, {4, 1024, 1}, {1024, 8, 1}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		if testing.Short() && m*n*k > 1<<18 {
			continue
		}
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		// Special values must flow through every path as through the
		// reference: padding must never meet them.
		for i, v := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), negZero, 0, 1e-40} {
			if len(a) > 0 && len(b) > 0 {
				a[(i*7919)%len(a)] = v
				b[(i*104729)%len(b)] = v
			}
		}
		for _, workers := range []int{1, 2, 3, 8} {
			mm := MatMul{Workers: workers}
			for _, tc := range []struct {
				name string
				run  func(c []float32)
				a, b view
			}{
				{"NN", func(c []float32) { mm.NN(c, a, b, m, n, k) }, view{a, k, 1}, view{b, n, 1}},
				{"NT", func(c []float32) { mm.NT(c, a, b, m, n, k) }, view{a, k, 1}, view{b, 1, k}},
				{"TN", func(c []float32) { mm.TN(c, a, b, m, n, k) }, view{a, 1, m}, view{b, n, 1}},
			} {
				want := refMatMul(tc.a, tc.b, m, n, k)
				got := make([]float32, m*n)
				for i := range got {
					got[i] = float32(math.NaN()) // every element must be written
				}
				tc.run(got)
				if i := firstDiff(got, want); i >= 0 {
					t.Errorf("%s %dx%dx%d workers %d: C[%d] = %#x, the reference order gives %#x", tc.name, m, n, k, workers, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
}

// The batched activations give exactly the scalar functions' bits.
func TestActivationsMatchScalar(t *testing.T) {
	var xs []float32
	for _, v := range []float32{0, 1, -1, 9, -9, 0.0004, -0.0004, expHi, expLo, 88.1, 88.5, -88.1, 100, -100, 1e-30, 1e-45} {
		xs = append(xs, v, math.Nextafter32(v, 1000), math.Nextafter32(v, -1000))
	}
	xs = append(xs, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.Float32frombits(0xffc00001), math.Float32frombits(0x7f800001))
	stride := uint32(997)
	if testing.Short() {
		stride = 99991
	}
	for b := uint64(0); b < 1<<32; b += uint64(stride) {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	for _, f := range []struct {
		name   string
		batch  func([]float32)
		scalar func(float32) float32
	}{
		{"tanh (rows of 1)", tanhCols(1), tanhBiased},
		{"tanh (rows of 3)", tanhCols(3), tanhBiased},
		{"tanh (rows of 16)", tanhCols(16), tanhBiased},
		{"sigmoid", sigmoids, Sigmoid},
		{"relu", relus, func(v float32) float32 {
			if v < 0 {
				return 0
			}
			return v
		}},
	} {
		got := slices.Clone(xs)
		f.batch(got)
		bad := 0
		for i, x := range xs {
			if w := f.scalar(x); math.Float32bits(got[i]) != math.Float32bits(w) {
				if bad++; bad <= 5 {
					t.Errorf("%s(%v = %#x) = %#x, want %#x", f.name, x, math.Float32bits(x), math.Float32bits(got[i]), math.Float32bits(w))
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d inputs differ", f.name, bad, len(xs))
		}
	}
}

func ExampleMatMul() {
	var mm MatMul
	c := make([]float32, 4)
	mm.NT(c, []float32{1, 2, 3, 4}, []float32{1, 0, 0, 1}, 2, 2, 2)
	fmt.Println(c)
	// Output: [1 2 3 4]
}

var negZero = float32(math.Copysign(0, -1))

// tanhCols is tanhRows over rows of cols with a bias of -0; elements past
// the last whole row get tanhBiased.
func tanhCols(cols int) func([]float32) {
	return func(a []float32) {
		n := len(a) / cols * cols
		bias := make([]float32, cols)
		for i := range bias {
			bias[i] = negZero
		}
		tanhRows(a[:n], bias)
		for i := n; i < len(a); i++ {
			a[i] = tanhBiased(a[i])
		}
	}
}

// tanhBiased is Tanh after adding a bias of -0 (which changes no value but
// quiets a signalling NaN, as any add does).
func tanhBiased(x float32) float32 {
	y := x
	y += negZero
	return Tanh(y)
}

// Training with the products split over goroutines gives the same bits as
// training on one.
func TestSetWorkersSameBits(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a digits net twice")
	}
	sp := spectest.Preset(t, "digits")
	sp.Dataset.Samples = 200
	sp.Model.Layers = []spec.LayerSpec{{Units: 128, Activation: "relu"}, {Units: 10, Activation: "softmax"}}
	var states []State
	for _, w := range []int{1, 4} {
		tr := mustTrainer(t, sp)
		tr.SetWorkers(w)
		if w > 1 && tr.Workers() == 1 && maxWorkers() > 1 {
			t.Fatalf("SetWorkers(%d) left 1 worker", w)
		}
		run(t, tr, 30)
		states = append(states, tr.State())
	}
	if err := sameState(states[0], states[1]); err != "" {
		t.Fatalf("1 worker and 4 differ: %s", err)
	}
}

// firstDiff is the index of the first element whose bits differ, or -1. Any
// NaN equals any NaN: which payload a sum of NaNs keeps depends on the
// order in which the compiler (or V8) puts the operands of an add, and
// wasm leaves NaN payloads open anyway.
func firstDiff(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			return i
		}
	}
	return -1
}

// The runtime's vector kernel, called directly on every tile count and
// layout of A it serves, gives the reference bits.
func TestVectorKernelBitsMatchReference(t *testing.T) {
	requireSIMD(t)
	vecInit()
	if vec == nil {
		t.Skip("no vector kernel on this runtime")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, sh := range [][3]int{{4, vec.cols, 1}, {4, vec.cols, 7}, {8, 2 * vec.cols, 64}, {12, 3 * vec.cols, 129}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		a[0], b[1] = float32(math.Inf(1)), 1e-40
		for _, av := range []view{{a, k, 1}, {a, 1, m}} {
			want := refMatMul(av, view{b, n, 1}, m, n, k)
			// C inside a larger matrix: nothing outside the m × n tiles is written.
			const ldc = 1000
			got := make([]float32, m*ldc)
			vec.gemm(got, ldc, av, b, n, m, n, k)
			for i := 0; i < m; i++ {
				if d := firstDiff(got[i*ldc:i*ldc+n], want[i*n:(i+1)*n]); d >= 0 {
					t.Fatalf("%dx%dx%d (A strides %d, %d): C[%d][%d] = %#x, want %#x", m, n, k, av.rs, av.cs, i, d,
						math.Float32bits(got[i*ldc+d]), math.Float32bits(want[i*n+d]))
				}
				for j := n; j < ldc; j++ {
					if got[i*ldc+j] != 0 {
						t.Fatalf("%dx%dx%d: wrote C[%d][%d] outside the product", m, n, k, i, j)
					}
				}
			}
		}
	}
}

// Training with the vector kernels gives the same bits as training with
// the scalar ones only (PLAYGROUND_SIMD=0), for nets whose products take
// either path.
func TestTrainerSIMDSameBits(t *testing.T) {
	requireSIMD(t)
	for _, name := range []string{"digits", "spiral-adam"} {
		spec := spectest.Preset(t, name)
		steps := uint64(200)
		if name == "digits" {
			spec.Dataset.Samples = 300
			steps = 20
		}
		var states []State
		for _, on := range []bool{true, false} {
			was := useVector(on)
			tr := mustTrainer(t, spec)
			run(t, tr, steps)
			useVector(was)
			states = append(states, tr.State())
		}
		if err := sameState(states[0], states[1]); err != "" {
			t.Fatalf("%s: SIMD %q and scalar differ: %s", name, SIMD(), err)
		}
	}
}
