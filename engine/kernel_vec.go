package engine

import (
	"os"
	"sync"
	"sync/atomic"
)

// The vector path of MatMul: where the runtime offers SIMD (SIMD128 on
// wasm, AVX2 on amd64), a kernel in assembly computes C in tiles of
// vecTileM rows by vecKernel.cols columns, each vector lane one element of
// C: one float32 running sum from +0 over p in order, each product rounded
// by a multiply before the add (never a fused multiply-add), exactly as
// every scalar kernel sums. So the vector path changes speed, never bits
// (TestVectorBitsMatchReference, TestTrainerSIMDSameBits).
//
// PLAYGROUND_SIMD=0 in the environment (under Node: Node's environment)
// turns it off, for comparing the two paths.

// vecTileM is the rows of C per tile of every vector kernel.
const vecTileM = 4

// vecKernel is the runtime's SIMD kernel: it sets C[i][j] = Σ_p A[i][p]·B[p][j]
// for i < m (a multiple of vecTileM) and j < n (a multiple of cols), k >= 1,
// with C[i][j] at c[i*ldc+j], A[i][p] at a.d[i*a.rs+p*a.cs] and B[p][j] at
// b[p*ldb+j]. The caller has checked that every index is in range.
type vecKernel struct {
	name    string
	cols    int // columns of C per tile
	minMACs int // the size (m·n·k) from which it is faster than the scalar paths
	gemm    func(c []float32, ldc int, a view, b []float32, ldb, m, n, k int)
}

var (
	vec     *vecKernel  // the runtime's kernel, nil if none (set by vecInit)
	vecOn   atomic.Bool // whether the vector path is in use (see useVector)
	vecOnce sync.Once
)

// vecInit asks the runtime for its kernel (probeVector) at the first
// product, not at start-up, so that a wasm program that multiplies no
// matrices does not import the kernels at all.
func vecInit() {
	vecOnce.Do(func() {
		vec = probeVector()
		vecOn.Store(vec != nil && os.Getenv("PLAYGROUND_SIMD") != "0")
	})
}

// useVector turns the vector path on or off (on only where the runtime
// has one) and reports whether it was on.
func useVector(on bool) (was bool) {
	vecInit()
	return vecOn.Swap(on && vec != nil)
}

// SIMD names the vector kernel MatMul uses, or "" when it uses only the
// scalar kernels (no SIMD on this runtime, or PLAYGROUND_SIMD=0).
func SIMD() string {
	vecInit()
	if vecOn.Load() {
		return vec.name
	}
	return ""
}

// vector computes C with the vector kernel and reports true, or reports
// false when the product is too small for it (or it is off).
func (mm *MatMul) vector(c []float32, a, b view, m, n, k int) bool {
	vecInit()
	if !vecOn.Load() || m*n*k < vec.minMACs {
		return false
	}
	mt, nt := m&^(vecTileM-1), n-n%vec.cols
	if mt == 0 || nt == 0 {
		return false
	}
	if b.cs != 1 { // the kernel reads rows of B: transpose it first
		mm.bt = grow(mm.bt, k*n)
		rowMajor(mm.bt, b, k, n)
		b = view{mm.bt, n, 1}
	}
	// Every index the kernel reads or writes, checked here once.
	_ = c[(mt-1)*n+nt-1]
	_ = a.d[(mt-1)*a.rs+(k-1)*a.cs]
	_ = b.d[(k-1)*b.rs+nt-1]
	if w := mm.Workers; w > 1 && m*n*k >= parallelMACs && mt > vecTileM {
		parallelChunks(min(w, mt/vecTileM), mt/vecTileM, func(lo, hi int) {
			i := lo * vecTileM
			vec.gemm(c[i*n:], n, view{a.d[i*a.rs:], a.rs, a.cs}, b.d, b.rs, (hi-lo)*vecTileM, nt, k)
		})
	} else {
		vec.gemm(c, n, a, b.d, b.rs, mt, nt, k)
	}
	// The edges: columns [nt, n) of rows [0, mt), then rows [mt, m).
	for j := nt; j < n; j++ {
		gemv(c[j:], n, a, b.d[j:], b.rs, mt, k)
	}
	for i := mt; i < m; i++ {
		gemv(c[i*n:], 1, view{b.d, 1, b.rs}, a.d[i*a.rs:], a.cs, n, k)
	}
	return true
}

// rowMajor sets dst (rows × cols) to the matrix of the view v, in blocks
// of 8 columns so that a view stored by columns is read in 8 streams.
func rowMajor(dst []float32, v view, rows, cols int) {
	const blk = 8
	for c0 := 0; c0 < cols; c0 += blk {
		c1 := min(c0+blk, cols)
		for r := 0; r < rows; r++ {
			row := dst[r*cols+c0 : r*cols+c1]
			q := r*v.rs + c0*v.cs
			for i := range row {
				row[i] = v.d[q]
				q += v.cs
			}
		}
	}
}
