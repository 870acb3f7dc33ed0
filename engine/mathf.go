package engine

import "math"

// Portable float32 maths. The standard library's Exp, Log and Tanh use
// assembly on some architectures and pure Go on others, so their last bits
// differ between amd64, arm64 and wasm. Training must be bit-identical on
// every runtime, so the training path uses only these functions, built from
// +, -, * and / on float32 with every product rounded explicitly
// (float32(a*b)) so that no compiler can fuse it into an FMA.

const (
	ln2Hi = float32(6.9313812256e-01)
	ln2Lo = float32(9.0580006145e-06)
	log2e = float32(1.44269504089)
	expHi = float32(88.7)
	expLo = float32(-87.3)
)

// Exp returns e**x, computed portably in float32.
func Exp(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > expHi:
		return float32(math.Inf(1))
	case x < expLo:
		return 0
	}
	k := roundToInt(float32(x * log2e))
	kf := float32(k)
	r := x - float32(kf*ln2Hi)
	r = r - float32(kf*ln2Lo)
	p := expPoly(r)
	if k > 127 { // 2**k itself overflows although e**x does not
		p = float32(p * 2)
		k--
	}
	return float32(p * math.Float32frombits(uint32(k+127)<<23))
}

// Log returns the natural logarithm of x, computed portably in float32
// (the fdlibm logf algorithm).
func Log(x float32) float32 {
	switch {
	case x != x || x == float32(math.Inf(1)):
		return x
	case x < 0:
		return float32(math.NaN())
	case x == 0:
		return float32(math.Inf(-1))
	}
	k := 0
	if x < 1.17549435e-38 { // subnormal: scale up by 2^25
		x = float32(x * 33554432)
		k = -25
	}
	b := math.Float32bits(x)
	k += int(b>>23) - 127
	b &= 0x007fffff
	// Normalise the mantissa into [sqrt(2)/2, sqrt(2)).
	i := (b + (0x95f64 << 3)) & 0x800000
	x = math.Float32frombits(b | (i ^ 0x3f800000))
	k += int(i >> 23)
	f := x - 1
	dk := float32(k)
	s := f / (2 + f)
	z := float32(s * s)
	w := float32(z * z)
	t1 := float32(w * (0.40000972152 + float32(w*0.24279078841)))
	t2 := float32(z * (0.66666662693 + float32(w*0.28498786688)))
	R := t2 + t1
	hfsq := float32(float32(0.5*f) * f)
	return float32(dk*ln2Hi) - ((hfsq - (float32(s*(hfsq+R)) + float32(dk*ln2Lo))) - f)
}

// Log1p returns log(1+x) for x > -1, computed portably in float32 and
// accurately for tiny x (where 1+x rounds to 1): log(u)·x/(u-1) with
// u = 1+x cancels the rounding of u (Goldberg's method).
func Log1p(x float32) float32 {
	u := 1 + x
	if u == 1 {
		return x
	}
	return float32(Log(u) * (x / (u - 1)))
}

// softplus returns log(1+e**x) = -log(sigmoid(-x)) without overflow:
// max(x, 0) + log1p(e**-|x|).
func softplus(x float32) float32 {
	if x != x {
		return x
	}
	return max(x, 0) + Log1p(Exp(-abs32(x)))
}

// negLogSoftmax returns -log(softmax(z)[c]) = (max - z[c]) + log(Σ e**(z-max)),
// as PyTorch's log_softmax computes it: no overflow, and exact 0 - z[c]
// differences for the largest logit.
func negLogSoftmax(z []float32, c int) float32 {
	mx := z[0]
	for _, v := range z[1:] {
		mx = max(mx, v)
	}
	var s float32
	for _, v := range z {
		s += Exp(v - mx)
	}
	return (mx - z[c]) + Log(s)
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// Tanh returns the hyperbolic tangent of x, computed portably in float32.
func Tanh(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	var t float32
	switch {
	case a != a:
		return x
	case a > 9:
		t = 1
	case a < 0.0004:
		return x
	default:
		e := Exp(2 * a)
		t = 1 - 2/(e+1)
	}
	if x < 0 {
		return -t
	}
	return t
}

// Sigmoid returns 1/(1+e**-x), computed portably in float32.
func Sigmoid(x float32) float32 {
	return 1 / (1 + Exp(-x))
}

// Sqrt returns the square root of x. math.Sqrt is correctly rounded on every
// runtime, and so is its rounding to float32.
func Sqrt(x float32) float32 {
	return float32(math.Sqrt(float64(x)))
}

// roundToInt rounds half away from zero; conversions truncate the same way
// on every runtime.
func roundToInt(x float32) int {
	if x < 0 {
		return int(x - 0.5)
	}
	return int(x + 0.5)
}

// expPoly is e**r on |r| <= 0.347: the Taylor series to degree 7 (error
// below 1 ulp), the one order of operations Exp and the activation kernels share.
func expPoly(r float32) float32 {
	p := float32(1.0 / 5040)
	p = float32(p*r) + 1.0/720
	p = float32(p*r) + 1.0/120
	p = float32(p*r) + 1.0/24
	p = float32(p*r) + 1.0/6
	p = float32(p*r) + 0.5
	p = float32(p*r) + 1
	p = float32(p*r) + 1
	return p
}
