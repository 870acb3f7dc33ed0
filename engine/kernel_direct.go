package engine

// The kernels of MatMul's direct path: each computes the whole 4 × 2 tiles
// of C in rows [0, mt) and columns [0, nt), reading A and B where they lie,
// in one of the four layouts of A and B. Every element is one running sum
// over p = 0..k-1 in order (four steps of p per loop iteration, then the
// rest one by one), like every other path of MatMul.

// directNT computes the tiles of C = A·B with A[i][p] at a[i*lda+p] and B[p][j] at b[j*ldb+p].
func directNT(c []float32, crs, ccs int, a []float32, lda int, b []float32, ldb int, mt, nt, k int) {
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
				c00 += float32(a0[p] * b0[p])
				c10 += float32(a1[p] * b0[p])
				c20 += float32(a2[p] * b0[p])
				c30 += float32(a3[p] * b0[p])
				c01 += float32(a0[p] * b1[p])
				c11 += float32(a1[p] * b1[p])
				c21 += float32(a2[p] * b1[p])
				c31 += float32(a3[p] * b1[p])
			}
			store42(c[i*crs+j*ccs:], crs, ccs, c00, c01, c10, c11, c20, c21, c30, c31)
		}
	}
}

// directNN computes the tiles of C = A·B with A[i][p] at a[i*lda+p] and B[p][j] at b[p*ldb+j].
func directNN(c []float32, crs, ccs int, a []float32, lda int, b []float32, ldb int, mt, nt, k int) {
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
				qb := p*ldb + j
				y := b[qb : qb+2 : qb+2]
				c00 += float32(x0[0] * y[0])
				c10 += float32(x1[0] * y[0])
				c20 += float32(x2[0] * y[0])
				c30 += float32(x3[0] * y[0])
				c01 += float32(x0[0] * y[1])
				c11 += float32(x1[0] * y[1])
				c21 += float32(x2[0] * y[1])
				c31 += float32(x3[0] * y[1])
				qb += ldb
				y = b[qb : qb+2 : qb+2]
				c00 += float32(x0[1] * y[0])
				c10 += float32(x1[1] * y[0])
				c20 += float32(x2[1] * y[0])
				c30 += float32(x3[1] * y[0])
				c01 += float32(x0[1] * y[1])
				c11 += float32(x1[1] * y[1])
				c21 += float32(x2[1] * y[1])
				c31 += float32(x3[1] * y[1])
				qb += ldb
				y = b[qb : qb+2 : qb+2]
				c00 += float32(x0[2] * y[0])
				c10 += float32(x1[2] * y[0])
				c20 += float32(x2[2] * y[0])
				c30 += float32(x3[2] * y[0])
				c01 += float32(x0[2] * y[1])
				c11 += float32(x1[2] * y[1])
				c21 += float32(x2[2] * y[1])
				c31 += float32(x3[2] * y[1])
				qb += ldb
				y = b[qb : qb+2 : qb+2]
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
				y := b[p*ldb+j : p*ldb+j+2 : p*ldb+j+2]
				c00 += float32(a0[p] * y[0])
				c10 += float32(a1[p] * y[0])
				c20 += float32(a2[p] * y[0])
				c30 += float32(a3[p] * y[0])
				c01 += float32(a0[p] * y[1])
				c11 += float32(a1[p] * y[1])
				c21 += float32(a2[p] * y[1])
				c31 += float32(a3[p] * y[1])
			}
			store42(c[i*crs+j*ccs:], crs, ccs, c00, c01, c10, c11, c20, c21, c30, c31)
		}
	}
}

// directTN computes the tiles of C = A·B with A[i][p] at a[p*lda+i] and B[p][j] at b[p*ldb+j].
func directTN(c []float32, crs, ccs int, a []float32, lda int, b []float32, ldb int, mt, nt, k int) {
	for i := 0; i < mt; i += tileM {
		for j := 0; j < nt; j += tileN {
			var c00, c01, c10, c11, c20, c21, c30, c31 float32
			p := 0
			for ; p+4 <= k; p += 4 {
				qa := p*lda + i
				qb := p*ldb + j
				x := a[qa : qa+4 : qa+4]
				y := b[qb : qb+2 : qb+2]
				c00 += float32(x[0] * y[0])
				c10 += float32(x[1] * y[0])
				c20 += float32(x[2] * y[0])
				c30 += float32(x[3] * y[0])
				c01 += float32(x[0] * y[1])
				c11 += float32(x[1] * y[1])
				c21 += float32(x[2] * y[1])
				c31 += float32(x[3] * y[1])
				qa += lda
				qb += ldb
				x = a[qa : qa+4 : qa+4]
				y = b[qb : qb+2 : qb+2]
				c00 += float32(x[0] * y[0])
				c10 += float32(x[1] * y[0])
				c20 += float32(x[2] * y[0])
				c30 += float32(x[3] * y[0])
				c01 += float32(x[0] * y[1])
				c11 += float32(x[1] * y[1])
				c21 += float32(x[2] * y[1])
				c31 += float32(x[3] * y[1])
				qa += lda
				qb += ldb
				x = a[qa : qa+4 : qa+4]
				y = b[qb : qb+2 : qb+2]
				c00 += float32(x[0] * y[0])
				c10 += float32(x[1] * y[0])
				c20 += float32(x[2] * y[0])
				c30 += float32(x[3] * y[0])
				c01 += float32(x[0] * y[1])
				c11 += float32(x[1] * y[1])
				c21 += float32(x[2] * y[1])
				c31 += float32(x[3] * y[1])
				qa += lda
				qb += ldb
				x = a[qa : qa+4 : qa+4]
				y = b[qb : qb+2 : qb+2]
				c00 += float32(x[0] * y[0])
				c10 += float32(x[1] * y[0])
				c20 += float32(x[2] * y[0])
				c30 += float32(x[3] * y[0])
				c01 += float32(x[0] * y[1])
				c11 += float32(x[1] * y[1])
				c21 += float32(x[2] * y[1])
				c31 += float32(x[3] * y[1])
			}
			for ; p < k; p++ {
				x := a[p*lda+i : p*lda+i+4 : p*lda+i+4]
				y := b[p*ldb+j : p*ldb+j+2 : p*ldb+j+2]
				c00 += float32(x[0] * y[0])
				c10 += float32(x[1] * y[0])
				c20 += float32(x[2] * y[0])
				c30 += float32(x[3] * y[0])
				c01 += float32(x[0] * y[1])
				c11 += float32(x[1] * y[1])
				c21 += float32(x[2] * y[1])
				c31 += float32(x[3] * y[1])
			}
			store42(c[i*crs+j*ccs:], crs, ccs, c00, c01, c10, c11, c20, c21, c30, c31)
		}
	}
}

// directTT computes the tiles of C = A·B with A[i][p] at a[p*lda+i] and B[p][j] at b[j*ldb+p].
func directTT(c []float32, crs, ccs int, a []float32, lda int, b []float32, ldb int, mt, nt, k int) {
	for i := 0; i < mt; i += tileM {
		for j := 0; j < nt; j += tileN {
			b0 := b[j*ldb : j*ldb+k]
			b1 := b[(j+1)*ldb : (j+1)*ldb+k]
			var c00, c01, c10, c11, c20, c21, c30, c31 float32
			p := 0
			for ; p+4 <= k; p += 4 {
				y0, y1 := b0[p:p+4:p+4], b1[p:p+4:p+4]
				qa := p*lda + i
				x := a[qa : qa+4 : qa+4]
				c00 += float32(x[0] * y0[0])
				c10 += float32(x[1] * y0[0])
				c20 += float32(x[2] * y0[0])
				c30 += float32(x[3] * y0[0])
				c01 += float32(x[0] * y1[0])
				c11 += float32(x[1] * y1[0])
				c21 += float32(x[2] * y1[0])
				c31 += float32(x[3] * y1[0])
				qa += lda
				x = a[qa : qa+4 : qa+4]
				c00 += float32(x[0] * y0[1])
				c10 += float32(x[1] * y0[1])
				c20 += float32(x[2] * y0[1])
				c30 += float32(x[3] * y0[1])
				c01 += float32(x[0] * y1[1])
				c11 += float32(x[1] * y1[1])
				c21 += float32(x[2] * y1[1])
				c31 += float32(x[3] * y1[1])
				qa += lda
				x = a[qa : qa+4 : qa+4]
				c00 += float32(x[0] * y0[2])
				c10 += float32(x[1] * y0[2])
				c20 += float32(x[2] * y0[2])
				c30 += float32(x[3] * y0[2])
				c01 += float32(x[0] * y1[2])
				c11 += float32(x[1] * y1[2])
				c21 += float32(x[2] * y1[2])
				c31 += float32(x[3] * y1[2])
				qa += lda
				x = a[qa : qa+4 : qa+4]
				c00 += float32(x[0] * y0[3])
				c10 += float32(x[1] * y0[3])
				c20 += float32(x[2] * y0[3])
				c30 += float32(x[3] * y0[3])
				c01 += float32(x[0] * y1[3])
				c11 += float32(x[1] * y1[3])
				c21 += float32(x[2] * y1[3])
				c31 += float32(x[3] * y1[3])
			}
			for ; p < k; p++ {
				x := a[p*lda+i : p*lda+i+4 : p*lda+i+4]
				c00 += float32(x[0] * b0[p])
				c10 += float32(x[1] * b0[p])
				c20 += float32(x[2] * b0[p])
				c30 += float32(x[3] * b0[p])
				c01 += float32(x[0] * b1[p])
				c11 += float32(x[1] * b1[p])
				c21 += float32(x[2] * b1[p])
				c31 += float32(x[3] * b1[p])
			}
			store42(c[i*crs+j*ccs:], crs, ccs, c00, c01, c10, c11, c20, c21, c30, c31)
		}
	}
}
