package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Matrix products. Every output element C[i][j] = Σ_p A[i][p]·B[p][j] is
// summed in one fixed order on every runtime: one float32 running sum that
// starts at +0 and adds the products for p = 0, 1, …, k-1 in turn, each
// product rounded to float32 before it is added (so no FMA can form).
// Blocking only changes which elements are computed together, never the
// order inside one element: register tiles of 4 rows × 2 columns, packed
// panels, the layout of A and B, computing Cᵀ instead of C, and any split
// of the tiles over goroutines all give the same bits (TestMatMulBits-
// MatchReference). Packed panels are padded with zeros to whole tiles and
// to a multiple of 4 in k; a padded product is +0·+0 = +0, and adding +0 to
// a sum that started at +0 never changes it.
//
// Four paths, by size and by what the runtime offers (the choice changes
// speed, never bits):
//   - where the runtime has SIMD, products from vec.minMACs on: the vector
//     kernels of kernel_vec.go;
//   - matrix-vector products (one row or column of C): gemv, four sums at once;
//   - small products (the playground's nets): the direct kernels of
//     kernel_direct.go read A and B where they lie, one per layout;
//   - large products: A and B are packed into panels that kernel42, the
//     micro-kernel, streams through; natively the tiles are split over
//     goroutines.
// On wasm every taken branch and loop back-edge is an indirect jump through
// the function's jump table, so the kernels do as much as they can per
// iteration: 4 × 2 tiles (8 accumulators, within the 16 float registers of
// Go's wasm port) and four steps of p per iteration.

const (
	tileM = 4 // rows of C per register tile
	tileN = 2 // columns of C per register tile
	tileK = 4 // k per unrolled step of the micro-kernel

	// parallelMACs is the size (m·n·k) from which a product is split over
	// goroutines; below it the fan-out costs more than it saves.
	parallelMACs = 1 << 17

	// packMACs is the size (m·n·k) from which packing pays for itself.
	packMACs = 1 << 14
)

// view is a strided matrix: element (i, p) is d[i*rs + p*cs].
type view struct {
	d      []float32
	rs, cs int
}

// MatMul multiplies matrices, reusing its scratch between calls. With
// Workers > 1 it splits the tiles of large products (by rows or by columns
// of C) over that many goroutines; the bits never depend on Workers. The
// zero value is ready to use and single-threaded.
type MatMul struct {
	// Workers is the number of goroutines for large products (<= 1: the
	// calling goroutine only). Goroutines give no parallelism on js/wasm.
	Workers int

	ap, bp []float32 // packed panels of A and B

	edgeA, edgeB, edgeC []float32 // zero-padded edge tiles of direct

	bt []float32 // B in rows, for the vector kernel
}

// NT sets C (m × n) = A (m × k) · Bᵀ, with B given as (n × k).
func (mm *MatMul) NT(c, a, b []float32, m, n, k int) {
	mm.gemm(c, view{a, k, 1}, view{b, 1, k}, m, n, k)
}

// NN sets C (m × n) = A (m × k) · B (k × n).
func (mm *MatMul) NN(c, a, b []float32, m, n, k int) {
	mm.gemm(c, view{a, k, 1}, view{b, n, 1}, m, n, k)
}

// TN sets C (m × n) = Aᵀ · B, with A given as (k × m) and B as (k × n).
func (mm *MatMul) TN(c, a, b []float32, m, n, k int) {
	mm.gemm(c, view{a, 1, m}, view{b, n, 1}, m, n, k)
}

// gemm sets C (m × n, row-major) = A · B for A (m × k) and B (k × n).
func (mm *MatMul) gemm(c []float32, a, b view, m, n, k int) {
	c = c[:m*n]
	if k == 0 {
		clear(c)
		return
	}
	if mm.vector(c, a, b, m, n, k) {
		return
	}
	if m*n*k < packMACs {
		mm.direct(c, a, b, m, n, k)
		return
	}
	g := packed{c: c, a: a, b: b, m: m, n: n, k: k, kp: (k + tileK - 1) &^ (tileK - 1),
		panelsM: (m + tileM - 1) / tileM, panelsN: (n + tileN - 1) / tileN}
	mm.ap = grow(mm.ap, g.panelsM*tileM*g.kp)
	mm.bp = grow(mm.bp, g.panelsN*tileN*g.kp)
	g.ap, g.bp = mm.ap, mm.bp
	w := 1
	if mm.Workers > 1 && m*n*k >= parallelMACs {
		w = min(mm.Workers, g.split())
	}
	// The operand shared by every share of the work is packed first; each
	// share packs its own panels of the other.
	if g.byCols() {
		g.packA(0, g.panelsM)
	} else {
		g.packB(0, g.panelsN)
	}
	if w == 1 {
		g.share(0, g.split())
		return
	}
	g.parallel(w)
}

// packed is one product through packed panels of A and B.
type packed struct {
	c                []float32
	a, b             view
	m, n, k, kp      int
	panelsM, panelsN int
	ap, bp           []float32 // the packed panels, kp × 4 of A and kp × 2 of B each
}

// byCols reports whether the work is split by column panels of C (else by
// row panels): whichever there are more of.
func (g *packed) byCols() bool { return g.panelsN >= g.panelsM }

// split is the number of panels the work is split by.
func (g *packed) split() int { return max(g.panelsM, g.panelsN) }

// parallel computes the shares on w goroutines that take chunks of them in
// turn, so that one that gets less of a core does less of the work. Which
// goroutine computes a tile never changes how. (A function of its own, so
// that only this path moves g to the heap.)
func (g packed) parallel(w int) {
	parallelChunks(w, g.split(), g.share)
}

// share packs its panels of the unshared operand and computes the tiles of
// C in the column panels [lo, hi) (or row panels, see byCols), each B panel
// for all its rows at once, while it is in the nearest cache.
func (g *packed) share(lo, hi int) {
	i0, i1, j0, j1 := 0, g.panelsM, lo, hi
	if g.byCols() {
		g.packB(lo, hi)
	} else {
		g.packA(lo, hi)
		i0, i1, j0, j1 = lo, hi, 0, g.panelsN
	}
	m, n, kp, c := g.m, g.n, g.kp, g.c
	for jp := j0; jp < j1; jp++ {
		j := jp * tileN
		bp := g.bp[jp*tileN*kp : (jp+1)*tileN*kp]
		for ip := i0; ip < i1; ip++ {
			i := ip * tileM
			c00, c01, c10, c11, c20, c21, c30, c31 := kernel42(g.ap[ip*tileM*kp:(ip+1)*tileM*kp], bp)
			if i+tileM <= m && j+tileN <= n {
				store42(c[i*n+j:], n, 1, c00, c01, c10, c11, c20, c21, c30, c31)
				continue
			}
			tile := [tileM][tileN]float32{{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}}
			for r := 0; r < min(tileM, m-i); r++ {
				copy(c[(i+r)*n+j:(i+r)*n+min(j+tileN, n)], tile[r][:])
			}
		}
	}
}

// packA packs the row panels [lo, hi) of A.
func (g *packed) packA(lo, hi int) {
	for ip := lo; ip < hi; ip++ {
		i := ip * tileM
		packA(g.ap[ip*tileM*g.kp:(ip+1)*tileM*g.kp], g.a, i, min(tileM, g.m-i), g.k)
	}
}

// packB packs the column panels [lo, hi) of B.
func (g *packed) packB(lo, hi int) {
	for jp := lo; jp < hi; jp++ {
		j := jp * tileN
		packB(g.bp[jp*tileN*g.kp:(jp+1)*tileN*g.kp], g.b, j, min(tileN, g.n-j), g.k)
	}
}

// parallelChunks runs f over [0, total) in chunks, about eight per
// goroutine, that w goroutines (the caller and w-1 others) take in turn;
// it returns when all are done.
func parallelChunks(w, total int, f func(lo, hi int)) {
	chunk := max(1, total/(8*w))
	var next atomic.Int64
	work := func() {
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= total {
				return
			}
			f(lo, min(lo+chunk, total))
		}
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for t := 1; t < w; t++ {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

// kernel42 is the micro-kernel: the 4 × 2 tile of C from a packed A panel
// (ap[4p+r] = A[r][p]) and a packed B panel (bp[2p+c] = B[p][c]), k a
// multiple of 4. Each of the 8 sums adds its products in order of p.
func kernel42(ap, bp []float32) (c00, c01, c10, c11, c20, c21, c30, c31 float32) {
	for len(ap) >= 16 && len(bp) >= 8 {
		x := ap[:16:16]
		y := bp[:8:8]
		c00 += float32(x[0] * y[0])
		c10 += float32(x[1] * y[0])
		c20 += float32(x[2] * y[0])
		c30 += float32(x[3] * y[0])
		c01 += float32(x[0] * y[1])
		c11 += float32(x[1] * y[1])
		c21 += float32(x[2] * y[1])
		c31 += float32(x[3] * y[1])
		c00 += float32(x[4] * y[2])
		c10 += float32(x[5] * y[2])
		c20 += float32(x[6] * y[2])
		c30 += float32(x[7] * y[2])
		c01 += float32(x[4] * y[3])
		c11 += float32(x[5] * y[3])
		c21 += float32(x[6] * y[3])
		c31 += float32(x[7] * y[3])
		c00 += float32(x[8] * y[4])
		c10 += float32(x[9] * y[4])
		c20 += float32(x[10] * y[4])
		c30 += float32(x[11] * y[4])
		c01 += float32(x[8] * y[5])
		c11 += float32(x[9] * y[5])
		c21 += float32(x[10] * y[5])
		c31 += float32(x[11] * y[5])
		c00 += float32(x[12] * y[6])
		c10 += float32(x[13] * y[6])
		c20 += float32(x[14] * y[6])
		c30 += float32(x[15] * y[6])
		c01 += float32(x[12] * y[7])
		c11 += float32(x[13] * y[7])
		c21 += float32(x[14] * y[7])
		c31 += float32(x[15] * y[7])
		ap = ap[16:]
		bp = bp[8:]
	}
	return
}

// direct computes C from A and B where they lie, without packing: for
// small products, where packing costs more than it saves. A kernel for the
// layout at hand computes whole 4 × 2 tiles; the last rows of A and the last
// column of B that do not fill a tile are copied into zero-padded scratch
// first, and those tiles are computed into scratch and copied out. When
// that leaves fewer elements to the edges, it computes Cᵀ = Bᵀ·Aᵀ instead
// (the same products, in the same order).
func (mm *MatMul) direct(c []float32, a, b view, m, n, k int) {
	switch {
	case n == 1: // C = A·b, a matrix-vector product
		gemv(c, 1, a, b.d, b.rs, m, k)
		return
	case m == 1: // Cᵀ = Bᵀ·aᵀ
		gemv(c, 1, view{b.d, b.cs, b.rs}, a.d, a.cs, n, k)
		return
	}
	crs, ccs := n, 1 // C[i][j] at c[i*crs+j*ccs]
	l := pickDirect(a, b)
	if at, bt := (view{b.d, b.cs, b.rs}), (view{a.d, a.cs, a.rs}); edges(n, m) < edges(m, n) {
		if lt := pickDirect(at, bt); lt.kern != nil {
			l, a, b = lt, at, bt
			m, n = n, m
			crs, ccs = 1, m
		}
	}
	if l.kern == nil {
		panic("engine: unsupported matrix layout")
	}
	kern, lda, ldb, aT, bT := l.kern, l.lda, l.ldb, l.aT, l.bT
	mt, nt := m&^(tileM-1), n&^(tileN-1)
	if mt > 0 && nt > 0 {
		kern(c, crs, ccs, a.d, lda, b.d, ldb, mt, nt, k)
	}
	if mt == m && nt == n {
		return
	}
	// The edge operands: rows [mt, m) of A and column nt of B, zero-padded
	// to a whole tile, in the layout the kernel reads.
	var ae, be []float32
	var ldae, ldbe int
	if mt < m {
		ae, ldae = mm.edgeRowsA(a.d, lda, aT, mt, m, k)
	}
	if nt < n {
		be, ldbe = mm.edgeColB(b.d, ldb, bT, nt, k)
	}
	mm.edgeC = grow(mm.edgeC, tileM*max(nt, mt, tileN))
	ce := mm.edgeC
	if mt < m && nt > 0 { // bottom rows, whole columns
		kern(ce, nt, 1, ae, ldae, b.d, ldb, tileM, nt, k)
		for r := 0; r < m-mt; r++ {
			for j, v := range ce[r*nt : (r+1)*nt] {
				c[(mt+r)*crs+j*ccs] = v
			}
		}
	}
	if nt < n && mt > 0 { // right column, whole rows
		kern(ce, tileN, 1, a.d, lda, be, ldbe, mt, tileN, k)
		for i := 0; i < mt; i++ {
			c[i*crs+nt*ccs] = ce[i*tileN]
		}
	}
	if mt < m && nt < n { // the corner
		kern(ce, tileN, 1, ae, ldae, be, ldbe, tileM, tileN, k)
		for r := 0; r < m-mt; r++ {
			c[(mt+r)*crs+nt*ccs] = ce[r*tileN]
		}
	}
}

// edgeRowsA copies rows [mt, m) of A (leading dimension lda, transposed if
// aT) into a zero-padded tile of scratch, in the layout the kernel reads,
// and returns it with its leading dimension.
func (mm *MatMul) edgeRowsA(a []float32, lda int, aT bool, mt, m, k int) ([]float32, int) {
	mm.edgeA = grow(mm.edgeA, tileM*k)
	ae := mm.edgeA
	clear(ae)
	if aT {
		for p := 0; p < k; p++ {
			copy(ae[p*tileM:p*tileM+m-mt], a[p*lda+mt:p*lda+m])
		}
		return ae, tileM
	}
	for r := 0; r < m-mt; r++ {
		copy(ae[r*k:(r+1)*k], a[(mt+r)*lda:(mt+r)*lda+k])
	}
	return ae, k
}

// edgeColB copies column nt of B (leading dimension ldb, transposed if bT)
// into a zero-padded tile of scratch, in the layout the kernel reads, and
// returns it with its leading dimension.
func (mm *MatMul) edgeColB(b []float32, ldb int, bT bool, nt, k int) ([]float32, int) {
	mm.edgeB = grow(mm.edgeB, tileN*k)
	be := mm.edgeB
	clear(be)
	if bT {
		copy(be[:k], b[nt*ldb:nt*ldb+k])
		return be, k
	}
	for p := 0; p < k; p++ {
		be[p*tileN] = b[p*ldb+nt]
	}
	return be, tileN
}

// directKernel computes rows [0, mt) and columns [0, nt) of a product,
// C[i][j] at c[i*crs+j*ccs], from operands in one layout.
type directKernel func(c []float32, crs, ccs int, a []float32, lda int, b []float32, ldb int, mt, nt, k int)

// directLayout is a kernel for one layout of A and B, with their strides.
type directLayout struct {
	kern     directKernel
	lda, ldb int
	aT       bool // A stored transposed: A[i][p] at a[p*lda+i], else a[i*lda+p]
	bT       bool // B stored transposed: B[p][j] at b[j*ldb+p], else b[p*ldb+j]
}

// pickDirect returns the kernel for the layout of a and b (nil kern if
// there is none).
func pickDirect(a, b view) directLayout {
	switch {
	case a.cs == 1 && b.rs == 1:
		return directLayout{directNT, a.rs, b.cs, false, true}
	case a.cs == 1 && b.cs == 1:
		return directLayout{directNN, a.rs, b.rs, false, false}
	case a.rs == 1 && b.cs == 1:
		return directLayout{directTN, a.cs, b.rs, true, false}
	case a.rs == 1 && b.rs == 1:
		return directLayout{directTT, a.cs, b.cs, true, true}
	}
	return directLayout{}
}

// gemv sets c[i*cs] = Σ_p A[i][p]·v[p*vs] for i < m, four rows at a time,
// each a running sum over p in order.
func gemv(c []float32, cs int, a view, v []float32, vs, m, k int) {
	i := 0
	switch {
	case a.cs == 1: // rows of A contiguous in p
		for ; i+4 <= m; i += 4 {
			a0 := a.d[i*a.rs : i*a.rs+k]
			a1 := a.d[(i+1)*a.rs : (i+1)*a.rs+k]
			a2 := a.d[(i+2)*a.rs : (i+2)*a.rs+k]
			a3 := a.d[(i+3)*a.rs : (i+3)*a.rs+k]
			var s0, s1, s2, s3 float32
			for p, x0 := range a0 {
				y := v[p*vs]
				s0 += float32(x0 * y)
				s1 += float32(a1[p] * y)
				s2 += float32(a2[p] * y)
				s3 += float32(a3[p] * y)
			}
			c[i*cs], c[(i+1)*cs], c[(i+2)*cs], c[(i+3)*cs] = s0, s1, s2, s3
		}
	case a.rs == 1: // columns of A contiguous in i
		for ; i+4 <= m; i += 4 {
			var s0, s1, s2, s3 float32
			for p := 0; p < k; p++ {
				x := a.d[p*a.cs+i : p*a.cs+i+4 : p*a.cs+i+4]
				y := v[p*vs]
				s0 += float32(x[0] * y)
				s1 += float32(x[1] * y)
				s2 += float32(x[2] * y)
				s3 += float32(x[3] * y)
			}
			c[i*cs], c[(i+1)*cs], c[(i+2)*cs], c[(i+3)*cs] = s0, s1, s2, s3
		}
	}
	for ; i < m; i++ {
		var s float32
		for p := 0; p < k; p++ {
			s += float32(a.d[i*a.rs+p*a.cs] * v[p*vs])
		}
		c[i*cs] = s
	}
}

// edges is the number of elements of an m × n product that fall outside
// whole tiles.
func edges(m, n int) int {
	return m*n - (m&^(tileM-1))*(n&^(tileN-1))
}

// store42 writes a 4 × 2 tile of C at c[0], with C[i][j] at c[i*rs+j*cs].
func store42(c []float32, rs, cs int, c00, c01, c10, c11, c20, c21, c30, c31 float32) {
	c[0], c[cs] = c00, c01
	c[rs], c[rs+cs] = c10, c11
	c[2*rs], c[2*rs+cs] = c20, c21
	c[3*rs], c[3*rs+cs] = c30, c31
}

// packA writes rows [i, i+rows) of A, rows <= 4, interleaved by p into dst
// (dst[4p+r] = A[i+r][p]), zero-padded to 4 rows and to len(dst)/4 in p.
func packA(dst []float32, a view, i, rows, k int) {
	clear(dst)
	switch {
	case a.cs == 1: // rows of A are contiguous in p
		for r := 0; r < rows; r++ {
			src := a.d[(i+r)*a.rs : (i+r)*a.rs+k]
			for p, v := range src {
				dst[tileM*p+r] = v
			}
		}
	case a.rs == 1 && rows == tileM: // A is stored transposed: 4 rows of one p are contiguous
		for p := 0; p < k; p++ {
			copy(dst[tileM*p:tileM*p+tileM], a.d[p*a.cs+i:p*a.cs+i+tileM])
		}
	default:
		for p := 0; p < k; p++ {
			for r := 0; r < rows; r++ {
				dst[tileM*p+r] = a.d[(i+r)*a.rs+p*a.cs]
			}
		}
	}
}

// packB writes columns [j, j+cols) of B, cols <= 2, interleaved by p into
// dst (dst[2p+c] = B[p][j+c]), zero-padded to 2 columns and to len(dst)/2
// in p.
func packB(dst []float32, b view, j, cols, k int) {
	clear(dst)
	switch {
	case b.rs == 1: // columns of B are contiguous in p (B given transposed)
		for c := 0; c < cols; c++ {
			src := b.d[(j+c)*b.cs : (j+c)*b.cs+k]
			for p, v := range src {
				dst[tileN*p+c] = v
			}
		}
	case b.cs == 1 && cols == tileN: // rows of B are contiguous in j
		for p := 0; p < k; p++ {
			dst[tileN*p] = b.d[p*b.rs+j]
			dst[tileN*p+1] = b.d[p*b.rs+j+1]
		}
	default:
		for p := 0; p < k; p++ {
			for c := 0; c < cols; c++ {
				dst[tileN*p+c] = b.d[p*b.rs+(j+c)*b.cs]
			}
		}
	}
}

// sumRows sets s[j] to the sum of column j of the (rows × len(s)) matrix
// a, added in order of rows: the order of a product with a column of ones.
func sumRows(s, a []float32, rows int) {
	n := len(s)
	clear(s)
	for r := 0; r < rows; r++ {
		row := a[r*n : (r+1)*n]
		j := 0
		for ; j+4 <= n; j += 4 {
			t, v := s[j:j+4:j+4], row[j:j+4:j+4]
			t[0] += v[0]
			t[1] += v[1]
			t[2] += v[2]
			t[3] += v[3]
		}
		for ; j < n; j++ {
			s[j] += row[j]
		}
	}
}

// sum adds a in a fixed order: four running sums over the index mod 4,
// combined as (s0+s1)+(s2+s3), then the tail in order.
func sum(a []float32) float32 {
	n := len(a)
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += a[i]
		s1 += a[i+1]
		s2 += a[i+2]
		s3 += a[i+3]
	}
	s := (s0 + s1) + (s2 + s3)
	for ; i < n; i++ {
		s += a[i]
	}
	return s
}

// maxWorkers is the parallelism the runtime offers: 1 on js/wasm, where
// goroutines share one thread.
func maxWorkers() int {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		return 1
	}
	return runtime.NumCPU()
}
