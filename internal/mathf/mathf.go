// Package mathf is the portable float32 trigonometry and integer powers
// that training and its specification share (the engine's datasets and
// optimizers, the spec's learning-rate schedules), and the argmax of a
// model's outputs that the worker and the page share. Like the engine's
// other portable maths, every function gives the same bits on every
// runtime: only +, -, * and / on float32 (float64 where said), every
// product rounded explicitly (float32(a*b)) so that no compiler can fuse
// it into an FMA. Standard library only.
package mathf

import "math"

// Powi returns x**n for an integer n >= 0 by repeated squaring, in one fixed
// order of float32 products.
func Powi(x float32, n uint64) float32 {
	r := float32(1)
	for n > 0 {
		if n&1 == 1 {
			r = float32(r * x)
		}
		x = float32(x * x)
		n >>= 1
	}
	return r
}

// Sin returns the sine of x, computed portably in float32 (accurate for
// |x| up to a few thousand, which is all the datasets need).
func Sin(x float32) float32 {
	r, q := reduceHalfPi(x)
	return sinQuarter(r, q)
}

// Cos returns the cosine of x, computed portably in float32: cos x is
// sin(x + pi/2), one quarter turn on.
func Cos(x float32) float32 {
	r, q := reduceHalfPi(x)
	return sinQuarter(r, q+1)
}

// sinQuarter returns sin(q*pi/2 + r) for r in [-pi/4, pi/4].
func sinQuarter(r float32, q int) float32 {
	switch q & 3 {
	case 0:
		return sinPoly(r)
	case 1:
		return cosPoly(r)
	case 2:
		return -sinPoly(r)
	default:
		return -cosPoly(r)
	}
}

// reduceHalfPi returns r in [-pi/4, pi/4] and q with x = q*pi/2 + r.
func reduceHalfPi(x float32) (float32, int) {
	// In float64 (exact-rounded, FMA-free like the rest) so that q*pi/2 keeps
	// enough bits for large |x|.
	x64 := float64(x)
	q := int(math.Round(float64(x64 * (2 / math.Pi))))
	r := x64 - float64(float64(q)*(math.Pi/2))
	return float32(r), q
}

func sinPoly(r float32) float32 {
	z := float32(r * r)
	p := float32(-1.0 / 39916800)
	p = float32(p*z) + 1.0/362880
	p = float32(p*z) - 1.0/5040
	p = float32(p*z) + 1.0/120
	p = float32(p*z) - 1.0/6
	return r + float32(float32(p*z)*r)
}

func cosPoly(r float32) float32 {
	z := float32(r * r)
	p := float32(1.0 / 479001600)
	p = float32(p*z) - 1.0/3628800
	p = float32(p*z) + 1.0/40320
	p = float32(p*z) - 1.0/720
	p = float32(p*z) + 1.0/24
	p = float32(p*z) - 0.5
	return 1 + float32(p*z)
}

// Argmax is the index of the largest of vs (the first of equals): the
// class a model's outputs predict.
func Argmax(vs []float32) int {
	best := 0
	for i, v := range vs {
		if v > vs[best] {
			best = i
		}
	}
	return best
}
