package engine

import (
	"runtime"
	"sync"
)

// Matrix products. Every output element C[i][j] = Σ_p A[i][p]·B[p][j] is
// summed in one fixed order on every runtime: one float32 running sum that
// starts at +0 and adds the products for p = 0, 1, …, k-1 in turn, each
// product rounded to float32 before it is added (so no FMA can form).
// Blocking only changes which elements are computed together, never the
// order inside one element: register tiles of 4 rows × 2 columns, packed
// panels, the layout of A and B, and any split of the rows of C over
// goroutines all give the same bits. Panels are padded with zeros to whole
// tiles and to a multiple of 4 in k; a padded product is +0·+0 = +0, and
// adding +0 to a sum that started at +0 never changes it.

const (
	tileM = 4 // rows of C per register tile
	tileN = 2 // columns of C per register tile
	tileK = 4 // k per unrolled step of the micro-kernel

	// parallelMACs is the size (m·n·k) from which a product is split over
	// goroutines; below it the fan-out costs more than it saves.
	parallelMACs = 1 << 16

	// packMACs is the size (m·n·k) from which packing pays for itself.
	packMACs = 1 << 14
)

// view is a strided matrix: element (i, p) is d[i*rs + p*cs].
type view struct {
	d      []float32
	rs, cs int
}

// MatMul multiplies matrices, reusing its packing scratch between calls.
// With Workers > 1 it splits the rows of large products over that many
// goroutines; the bits never depend on Workers. The zero value is ready to
// use and single-threaded.
type MatMul struct {
	// Workers is the number of goroutines for large products (<= 1: the
	// calling goroutine only). Goroutines give no parallelism on js/wasm.
	Workers int

	bp []float32   // packed B
	ap [][]float32 // packed A, one buffer per worker

	edgeA, edgeB, edgeC []float32 // zero-padded edge tiles of direct
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

// MatMulNT sets C (m × n) = A (m × k) · Bᵀ, with B given as (n × k).
func MatMulNT(c, a, b []float32, m, n, k int) {
	var mm MatMul
	mm.NT(c, a, b, m, n, k)
}

// gemm sets C (m × n, row-major) = A · B for A (m × k) and B (k × n).
func (mm *MatMul) gemm(c []float32, a, b view, m, n, k int) {
	c = c[:m*n]
	if k == 0 {
		clear(c)
		return
	}
	if m*n*k < packMACs {
		mm.direct(c, a, b, m, n, k)
		return
	}
	kp := (k + tileK - 1) &^ (tileK - 1)
	panelsN := (n + tileN - 1) / tileN
	panelsM := (m + tileM - 1) / tileM
	mm.bp = grow(mm.bp, panelsN*tileN*kp)
	for jp := 0; jp < panelsN; jp++ {
		packB(mm.bp[jp*tileN*kp:(jp+1)*tileN*kp], b, jp*tileN, min(tileN, n-jp*tileN), k)
	}
	w := 1
	if mm.Workers > 1 && m*n*k >= parallelMACs {
		w = min(mm.Workers, panelsM)
	}
	for len(mm.ap) < w {
		mm.ap = append(mm.ap, nil)
	}
	if w == 1 {
		mm.ap[0] = mm.panels(mm.ap[0], c, a, m, n, k, kp, 0, panelsM)
		return
	}
	mm.fanOut(w, c, a, m, n, k, kp, panelsM)
}

// fanOut splits the row panels of C over w goroutines. (A function of its
// own, so that the single-threaded path allocates no closure.)
func (mm *MatMul) fanOut(w int, c []float32, a view, m, n, k, kp, panelsM int) {
	var wg sync.WaitGroup
	for t := 0; t < w; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mm.ap[t] = mm.panels(mm.ap[t], c, a, m, n, k, kp, t*panelsM/w, (t+1)*panelsM/w)
		}()
	}
	wg.Wait()
}

// panels computes the row panels [p0, p1) of C, packing their rows of A
// into ap (grown as needed and returned).
func (mm *MatMul) panels(ap, c []float32, a view, m, n, k, kp, p0, p1 int) []float32 {
	ap = grow(ap, (p1-p0)*tileM*kp)
	for ip := p0; ip < p1; ip++ {
		i := ip * tileM
		packA(ap[(ip-p0)*tileM*kp:(ip-p0+1)*tileM*kp], a, i, min(tileM, m-i), k)
	}
	panelsN := (n + tileN - 1) / tileN
	for jp := 0; jp < panelsN; jp++ {
		j := jp * tileN
		bp := mm.bp[jp*tileN*kp : (jp+1)*tileN*kp]
		for ip := p0; ip < p1; ip++ {
			i := ip * tileM
			c00, c01, c10, c11, c20, c21, c30, c31 := kernel42(ap[(ip-p0)*tileM*kp:(ip-p0+1)*tileM*kp], bp)
			if i+tileM <= m && j+tileN <= n {
				r := c[i*n+j : i*n+j+2]
				r[0], r[1] = c00, c01
				r = c[(i+1)*n+j : (i+1)*n+j+2]
				r[0], r[1] = c10, c11
				r = c[(i+2)*n+j : (i+2)*n+j+2]
				r[0], r[1] = c20, c21
				r = c[(i+3)*n+j : (i+3)*n+j+2]
				r[0], r[1] = c30, c31
				continue
			}
			t := [tileM][tileN]float32{{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}}
			for r := 0; r < min(tileM, m-i); r++ {
				copy(c[(i+r)*n+j:(i+r)*n+min(j+tileN, n)], t[r][:])
			}
		}
	}
	return ap
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
// first, and those tiles are computed into scratch and copied out.
func (mm *MatMul) direct(c []float32, a, b view, m, n, k int) {
	var kern func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, mt, nt, k int)
	var lda, ldb int
	aT := a.rs == 1 && a.cs != 1 // A stored transposed: A[i][p] at a[p*lda+i]
	bT := b.rs == 1 && b.cs != 1 // B stored transposed: B[p][j] at b[j*ldb+p]
	switch {
	case !aT && a.cs == 1 && bT:
		kern, lda, ldb = directNT, a.rs, b.cs
	case !aT && a.cs == 1 && b.cs == 1:
		kern, lda, ldb = directNN, a.rs, b.rs
	case aT && b.cs == 1:
		kern, lda, ldb = directTN, a.cs, b.rs
	default:
		panic("engine: unsupported matrix layout")
	}
	mt, nt := m&^(tileM-1), n&^(tileN-1)
	if mt > 0 && nt > 0 {
		kern(c, n, a.d, lda, b.d, ldb, mt, nt, k)
	}
	if mt == m && nt == n {
		return
	}
	// The edge operands: rows [mt, m) of A and column nt of B, zero-padded
	// to a whole tile, in the layout the kernel reads.
	var ae, be []float32
	var ldae, ldbe int
	if mt < m {
		mm.edgeA = grow(mm.edgeA, tileM*k)
		ae = mm.edgeA
		clear(ae)
		if aT {
			ldae = tileM
			for p := 0; p < k; p++ {
				copy(ae[p*tileM:p*tileM+m-mt], a.d[p*lda+mt:p*lda+m])
			}
		} else {
			ldae = k
			for r := 0; r < m-mt; r++ {
				copy(ae[r*k:(r+1)*k], a.d[(mt+r)*lda:(mt+r)*lda+k])
			}
		}
	}
	if nt < n {
		mm.edgeB = grow(mm.edgeB, tileN*k)
		be = mm.edgeB
		clear(be)
		if bT {
			ldbe = k
			copy(be[:k], b.d[nt*ldb:nt*ldb+k])
		} else {
			ldbe = tileN
			for p := 0; p < k; p++ {
				be[p*tileN] = b.d[p*ldb+nt]
			}
		}
	}
	mm.edgeC = grow(mm.edgeC, tileM*max(nt, mt, tileN))
	ce := mm.edgeC
	if mt < m && nt > 0 { // bottom rows, whole columns
		kern(ce, nt, ae, ldae, b.d, ldb, tileM, nt, k)
		for r := 0; r < m-mt; r++ {
			copy(c[(mt+r)*n:(mt+r)*n+nt], ce[r*nt:(r+1)*nt])
		}
	}
	if nt < n && mt > 0 { // right column, whole rows
		kern(ce, tileN, a.d, lda, be, ldbe, mt, tileN, k)
		for i := 0; i < mt; i++ {
			c[i*n+nt] = ce[i*tileN]
		}
	}
	if mt < m && nt < n { // the corner
		kern(ce, tileN, ae, ldae, be, ldbe, tileM, tileN, k)
		for r := 0; r < m-mt; r++ {
			c[(mt+r)*n+nt] = ce[r*tileN]
		}
	}
}

// store42 writes a 4 × 2 tile at c[0], rows ldc apart.
func store42(c []float32, ldc int, c00, c01, c10, c11, c20, c21, c30, c31 float32) {
	r := c[0:2]
	r[0], r[1] = c00, c01
	r = c[ldc : ldc+2]
	r[0], r[1] = c10, c11
	r = c[2*ldc : 2*ldc+2]
	r[0], r[1] = c20, c21
	r = c[3*ldc : 3*ldc+2]
	r[0], r[1] = c30, c31
}

// directNT computes rows [0, mt) and columns [0, nt) of C = A·Bᵀ, with
// A[i][p] at a[i*lda+p] and B[p][j] at b[j*ldb+p].
func directNT(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, mt, nt, k int) {
	for i := 0; i < mt; i += tileM {
		a0 := a[i*lda : i*lda+k]
		a1 := a[(i+1)*lda : (i+1)*lda+k]
		a2 := a[(i+2)*lda : (i+2)*lda+k]
		a3 := a[(i+3)*lda : (i+3)*lda+k]
		for j := 0; j < nt; j += tileN {
			b0 := b[j*ldb : j*ldb+k]
			b1 := b[(j+1)*ldb : (j+1)*ldb+k]
			var c00, c01, c10, c11, c20, c21, c30, c31 float32
			p := 0
			for ; p+4 <= k; p += 4 {
				x0, x1, x2, x3 := a0[p:p+4:p+4], a1[p:p+4:p+4], a2[p:p+4:p+4], a3[p:p+4:p+4]
				y0, y1 := b0[p:p+4:p+4], b1[p:p+4:p+4]
				c00 += float32(x0[0] * y0[0])
				c10 += float32(x1[0] * y0[0])
				c20 += float32(x2[0] * y0[0])
				c30 += float32(x3[0] * y0[0])
				c01 += float32(x0[0] * y1[0])
				c11 += float32(x1[0] * y1[0])
				c21 += float32(x2[0] * y1[0])
				c31 += float32(x3[0] * y1[0])
				c00 += float32(x0[1] * y0[1])
				c10 += float32(x1[1] * y0[1])
				c20 += float32(x2[1] * y0[1])
				c30 += float32(x3[1] * y0[1])
				c01 += float32(x0[1] * y1[1])
				c11 += float32(x1[1] * y1[1])
				c21 += float32(x2[1] * y1[1])
				c31 += float32(x3[1] * y1[1])
				c00 += float32(x0[2] * y0[2])
				c10 += float32(x1[2] * y0[2])
				c20 += float32(x2[2] * y0[2])
				c30 += float32(x3[2] * y0[2])
				c01 += float32(x0[2] * y1[2])
				c11 += float32(x1[2] * y1[2])
				c21 += float32(x2[2] * y1[2])
				c31 += float32(x3[2] * y1[2])
				c00 += float32(x0[3] * y0[3])
				c10 += float32(x1[3] * y0[3])
				c20 += float32(x2[3] * y0[3])
				c30 += float32(x3[3] * y0[3])
				c01 += float32(x0[3] * y1[3])
				c11 += float32(x1[3] * y1[3])
				c21 += float32(x2[3] * y1[3])
				c31 += float32(x3[3] * y1[3])
			}
			for ; p < k; p++ {
				y0, y1 := b0[p], b1[p]
				c00 += float32(a0[p] * y0)
				c10 += float32(a1[p] * y0)
				c20 += float32(a2[p] * y0)
				c30 += float32(a3[p] * y0)
				c01 += float32(a0[p] * y1)
				c11 += float32(a1[p] * y1)
				c21 += float32(a2[p] * y1)
				c31 += float32(a3[p] * y1)
			}
			store42(c[i*ldc+j:], ldc, c00, c01, c10, c11, c20, c21, c30, c31)
		}
	}
}

// directNN computes rows [0, mt) and columns [0, nt) of C = A·B, with
// A[i][p] at a[i*lda+p] and B[p][j] at b[p*ldb+j].
func directNN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, mt, nt, k int) {
	for i := 0; i < mt; i += tileM {
		a0 := a[i*lda : i*lda+k]
		a1 := a[(i+1)*lda : (i+1)*lda+k]
		a2 := a[(i+2)*lda : (i+2)*lda+k]
		a3 := a[(i+3)*lda : (i+3)*lda+k]
		for j := 0; j < nt; j += tileN {
			var c00, c01, c10, c11, c20, c21, c30, c31 float32
			p := 0
			for ; p+4 <= k; p += 4 {
				x0, x1, x2, x3 := a0[p:p+4:p+4], a1[p:p+4:p+4], a2[p:p+4:p+4], a3[p:p+4:p+4]
				q := p*ldb + j
				y := b[q : q+2 : q+2]
				y = b[q : q+2 : q+2]
				c00 += float32(x0[0] * y[0])
				c10 += float32(x1[0] * y[0])
				c20 += float32(x2[0] * y[0])
				c30 += float32(x3[0] * y[0])
				c01 += float32(x0[0] * y[1])
				c11 += float32(x1[0] * y[1])
				c21 += float32(x2[0] * y[1])
				c31 += float32(x3[0] * y[1])
				q += ldb
				y = b[q : q+2 : q+2]
				c00 += float32(x0[1] * y[0])
				c10 += float32(x1[1] * y[0])
				c20 += float32(x2[1] * y[0])
				c30 += float32(x3[1] * y[0])
				c01 += float32(x0[1] * y[1])
				c11 += float32(x1[1] * y[1])
				c21 += float32(x2[1] * y[1])
				c31 += float32(x3[1] * y[1])
				q += ldb
				y = b[q : q+2 : q+2]
				c00 += float32(x0[2] * y[0])
				c10 += float32(x1[2] * y[0])
				c20 += float32(x2[2] * y[0])
				c30 += float32(x3[2] * y[0])
				c01 += float32(x0[2] * y[1])
				c11 += float32(x1[2] * y[1])
				c21 += float32(x2[2] * y[1])
				c31 += float32(x3[2] * y[1])
				q += ldb
				y = b[q : q+2 : q+2]
				c00 += float32(x0[3] * y[0])
				c10 += float32(x1[3] * y[0])
				c20 += float32(x2[3] * y[0])
				c30 += float32(x3[3] * y[0])
				c01 += float32(x0[3] * y[1])
				c11 += float32(x1[3] * y[1])
				c21 += float32(x2[3] * y[1])
				c31 += float32(x3[3] * y[1])
			}
			for ; p < k; p++ {
				y := b[p*ldb+j : p*ldb+j+2]
				y0, y1 := y[0], y[1]
				x0, x1, x2, x3 := a0[p], a1[p], a2[p], a3[p]
				c00 += float32(x0 * y0)
				c10 += float32(x1 * y0)
				c20 += float32(x2 * y0)
				c30 += float32(x3 * y0)
				c01 += float32(x0 * y1)
				c11 += float32(x1 * y1)
				c21 += float32(x2 * y1)
				c31 += float32(x3 * y1)
			}
			store42(c[i*ldc+j:], ldc, c00, c01, c10, c11, c20, c21, c30, c31)
		}
	}
}

// directTN computes rows [0, mt) and columns [0, nt) of C = A·B, with
// A[i][p] at a[p*lda+i] and B[p][j] at b[p*ldb+j].
func directTN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, mt, nt, k int) {
	for i := 0; i < mt; i += tileM {
		for j := 0; j < nt; j += tileN {
			var c00, c01, c10, c11, c20, c21, c30, c31 float32
			for p := 0; p < k; p++ {
				x := a[p*lda+i : p*lda+i+4]
				y := b[p*ldb+j : p*ldb+j+2]
				x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
				y0, y1 := y[0], y[1]
				c00 += float32(x0 * y0)
				c10 += float32(x1 * y0)
				c20 += float32(x2 * y0)
				c30 += float32(x3 * y0)
				c01 += float32(x0 * y1)
				c11 += float32(x1 * y1)
				c21 += float32(x2 * y1)
				c31 += float32(x3 * y1)
			}
			store42(c[i*ldc+j:], ldc, c00, c01, c10, c11, c20, c21, c30, c31)
		}
	}
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
		for j, v := range row {
			s[j] += v
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
