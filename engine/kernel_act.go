package engine

import "math"

// Activations over whole slices, bit-identical to Tanh and Sigmoid applied
// to each element (TestActivationsMatchScalar checks it) but without their
// branches and calls: the special cases become integer selects (conditional
// moves), which matters on wasm, where every taken branch is an indirect jump.

const (
	signBit   = 1 << 31
	infBits   = 0x7f800000
	oneBits   = 0x3f800000
	tanhBig   = 0x41100000 // 9: Tanh is ±1 above
	tanhSmall = 0x39d1b717 // float32(0.0004): Tanh(x) = x below
)

// tanhs sets every element of a to its Tanh. Two elements per iteration,
// so that their long dependency chains overlap.
func tanhs(a []float32) {
	if len(a)%2 == 1 {
		a[len(a)-1] = Tanh(a[len(a)-1])
	}
	for i := 0; i+2 <= len(a); i += 2 {
		v := a[i : i+2 : i+2]
		bx, by := math.Float32bits(v[0]), math.Float32bits(v[1])
		ax, ay := bx&^signBit, by&^signBit
		cx, cy := ax, ay
		if cx > tanhBig {
			cx = tanhBig
		}
		if cy > tanhBig {
			cy = tanhBig
		}
		// Exp(2|x|) for 2|x| in [0, 18], where none of Exp's special cases
		// applies, in Exp's order of operations.
		ux, uy := 2*math.Float32frombits(cx), 2*math.Float32frombits(cy)
		kx, ky := int(float32(ux*log2e)+0.5), int(float32(uy*log2e)+0.5)
		fx, fy := float32(kx), float32(ky)
		rx, ry := ux-float32(fx*ln2Hi), uy-float32(fy*ln2Hi)
		rx, ry = rx-float32(fx*ln2Lo), ry-float32(fy*ln2Lo)
		px, py := float32(1.0/5040), float32(1.0/5040)
		px, py = float32(px*rx)+1.0/720, float32(py*ry)+1.0/720
		px, py = float32(px*rx)+1.0/120, float32(py*ry)+1.0/120
		px, py = float32(px*rx)+1.0/24, float32(py*ry)+1.0/24
		px, py = float32(px*rx)+1.0/6, float32(py*ry)+1.0/6
		px, py = float32(px*rx)+0.5, float32(py*ry)+0.5
		px, py = float32(px*rx)+1, float32(py*ry)+1
		px, py = float32(px*rx)+1, float32(py*ry)+1
		ex := float32(px * math.Float32frombits(uint32(kx+127)<<23))
		ey := float32(py * math.Float32frombits(uint32(ky+127)<<23))
		// Then Tanh's special cases: ±1 above 9, x itself below 0.0004 and
		// for NaN.
		tx, ty := math.Float32bits(1-2/(ex+1)), math.Float32bits(1-2/(ey+1))
		if ax > tanhBig {
			tx = oneBits
		}
		if ay > tanhBig {
			ty = oneBits
		}
		if ax < tanhSmall {
			tx = ax
		}
		if ay < tanhSmall {
			ty = ay
		}
		if ax > infBits {
			tx = ax
		}
		if ay > infBits {
			ty = ay
		}
		v[0], v[1] = math.Float32frombits(tx|bx&signBit), math.Float32frombits(ty|by&signBit)
	}
}

// sigmoids sets every element of a to its Sigmoid.
func sigmoids(a []float32) {
	for i, x := range a {
		a[i] = 1 / (1 + expAll(-x))
	}
}

// expAll is Exp without branches.
func expAll(x float32) float32 {
	bits := math.Float32bits(x)
	// Clamp into [expLo, expHi] (NaN to 0); the special cases are chosen
	// after.
	c := x
	cb := math.Float32bits(c)
	if !(x <= expHi) {
		cb = math.Float32bits(expHi)
	}
	if !(x >= expLo) {
		cb = math.Float32bits(expLo)
	}
	if x != x {
		cb = 0
	}
	c = math.Float32frombits(cb)
	v := float32(c * log2e)
	h := math.Float32bits(0.5) | math.Float32bits(v)&signBit // roundToInt: ±0.5
	k := int(v + math.Float32frombits(h))
	kf := float32(k)
	r := c - float32(kf*ln2Hi)
	r = r - float32(kf*ln2Lo)
	p := expPoly(r)
	// Above k = 127, 2**k overflows although e**x does not: Exp doubles p.
	twoBits := uint32(oneBits)
	if k > 127 {
		twoBits = 0x40000000
		k--
	}
	p = float32(p * math.Float32frombits(twoBits))
	e := math.Float32bits(float32(p * math.Float32frombits(uint32(k+127)<<23)))
	if x > expHi {
		e = infBits
	}
	if x < expLo {
		e = 0
	}
	if x != x {
		e = bits
	}
	return math.Float32frombits(e)
}

// expPoly is Exp's polynomial, in Exp's order of operations.
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

// relus sets the negative elements of a to 0 (and keeps -0 and NaN, as
// v < 0 does).
func relus(a []float32) {
	for i, v := range a {
		b := math.Float32bits(v)
		if v < 0 {
			b = 0
		}
		a[i] = math.Float32frombits(b)
	}
}

// reluGrads zeroes d where y <= 0.
func reluGrads(d, y []float32) {
	d = d[:len(y)]
	for i, v := range y {
		b := math.Float32bits(d[i])
		if v <= 0 {
			b = 0
		}
		d[i] = math.Float32frombits(b)
	}
}

// addRows adds the row vector b to every row of a.
func addRows(a, b []float32) {
	n := len(b)
	for r := 0; r+n <= len(a); r += n {
		row := a[r : r+n]
		for j, v := range b {
			row[j] += v
		}
	}
}
