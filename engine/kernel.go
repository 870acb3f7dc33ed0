package engine

// The one matrix kernel. Every output element is a dot product computed in
// one fixed order on every runtime: four running sums over k mod 4, combined
// as (s0+s1)+(s2+s3), then the tail k >= n&^3 added in order. Blocking over
// several rows or columns changes which elements are computed together,
// never the order inside one element, so any blocking gives the same bits.

// MatMulNT sets C (m × n) = A (m × k) · Bᵀ, with B given as (n × k).
func MatMulNT(c, a, b []float32, m, n, k int) {
	matMulRows(c, a, b, 0, m, n, k)
}

// matMulRows computes rows [r0, r1) of C.
func matMulRows(c, a, b []float32, r0, r1, n, k int) {
	for i := r0; i < r1; i++ {
		ar := a[i*k : (i+1)*k]
		cr := c[i*n : (i+1)*n]
		j := 0
		for ; j+2 <= n; j += 2 {
			cr[j], cr[j+1] = dot2(ar, b[j*k:(j+1)*k], b[(j+1)*k:(j+2)*k])
		}
		if j < n {
			cr[j] = dot(ar, b[j*k:(j+1)*k])
		}
	}
}

// dot is the reference order for one output element.
func dot(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += float32(a[i] * b[i])
		s1 += float32(a[i+1] * b[i+1])
		s2 += float32(a[i+2] * b[i+2])
		s3 += float32(a[i+3] * b[i+3])
	}
	s := (s0 + s1) + (s2 + s3)
	for ; i < n; i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

// dot2 is dot(a, b) and dot(a, c) sharing the loads of a.
func dot2(a, b, c []float32) (float32, float32) {
	n := len(a)
	b, c = b[:n], c[:n]
	var s0, s1, s2, s3, t0, t1, t2, t3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		a0, a1, a2, a3 := a[i], a[i+1], a[i+2], a[i+3]
		s0 += float32(a0 * b[i])
		s1 += float32(a1 * b[i+1])
		s2 += float32(a2 * b[i+2])
		s3 += float32(a3 * b[i+3])
		t0 += float32(a0 * c[i])
		t1 += float32(a1 * c[i+1])
		t2 += float32(a2 * c[i+2])
		t3 += float32(a3 * c[i+3])
	}
	s := (s0 + s1) + (s2 + s3)
	t := (t0 + t1) + (t2 + t3)
	for ; i < n; i++ {
		s += float32(a[i] * b[i])
		t += float32(a[i] * c[i])
	}
	return s, t
}

// sum adds a in the same order as dot(a, ones).
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
