package engine

import "math"

// Activations over whole slices, bit-identical to Tanh and Sigmoid applied
// to each element (TestActivationsMatchScalar checks it), but cheaper on
// wasm, where every call costs and every taken branch is an indirect jump
// through the function's jump table: Tanh's common case runs branch-free
// four elements at a time (expPoly inlines).

const (
	signBit   = 1 << 31
	tanhBig   = 0x41100000 // 9: Tanh is ±1 above
	tanhSmall = 0x39d1b717 // float32(0.0004): Tanh(x) = x below
)

// tanhRows adds the row vector bias to every row of a and takes the Tanh of
// every element: the same bits as a += bias, then Tanh of each. Four
// elements per iteration, so that their long dependency chains overlap;
// where any of them is outside [0.0004, 9] (where Tanh is ±1, the input
// itself, or NaN), all four take the scalar Tanh, as do the last cols%4.
func tanhRows(a, bias []float32) {
	cols := len(bias)
	for r := 0; r+cols <= len(a); r += cols {
		row := a[r : r+cols]
		for j := cols &^ 3; j < cols; j++ {
			row[j] = Tanh(row[j] + bias[j])
		}
		for j := 0; j+4 <= cols; j += 4 {
			v, b := row[j:j+4:j+4], bias[j:j+4:j+4]
			x0, x1, x2, x3 := v[0]+b[0], v[1]+b[1], v[2]+b[2], v[3]+b[3]
			// |x| in [0.0004, 9] by one unsigned compare of the bits.
			i0 := math.Float32bits(x0)&^signBit - tanhSmall
			i1 := math.Float32bits(x1)&^signBit - tanhSmall
			i2 := math.Float32bits(x2)&^signBit - tanhSmall
			i3 := math.Float32bits(x3)&^signBit - tanhSmall
			if max(i0, i1, i2, i3) > tanhBig-tanhSmall {
				v[0], v[1], v[2], v[3] = Tanh(x0), Tanh(x1), Tanh(x2), Tanh(x3)
				continue
			}
			// Exp(2|x|) for 2|x| in [0.0008, 18], where none of Exp's
			// special cases applies, in Exp's order of operations.
			u0 := 2 * float32(math.Abs(float64(x0)))
			u1 := 2 * float32(math.Abs(float64(x1)))
			u2 := 2 * float32(math.Abs(float64(x2)))
			u3 := 2 * float32(math.Abs(float64(x3)))
			k0 := int(float32(u0*log2e) + 0.5)
			k1 := int(float32(u1*log2e) + 0.5)
			k2 := int(float32(u2*log2e) + 0.5)
			k3 := int(float32(u3*log2e) + 0.5)
			f0 := float32(k0)
			f1 := float32(k1)
			f2 := float32(k2)
			f3 := float32(k3)
			r0 := u0 - float32(f0*ln2Hi)
			r1 := u1 - float32(f1*ln2Hi)
			r2 := u2 - float32(f2*ln2Hi)
			r3 := u3 - float32(f3*ln2Hi)
			r0 = r0 - float32(f0*ln2Lo)
			r1 = r1 - float32(f1*ln2Lo)
			r2 = r2 - float32(f2*ln2Lo)
			r3 = r3 - float32(f3*ln2Lo)
			e0 := float32(expPoly(r0) * math.Float32frombits(uint32(k0+127)<<23))
			e1 := float32(expPoly(r1) * math.Float32frombits(uint32(k1+127)<<23))
			e2 := float32(expPoly(r2) * math.Float32frombits(uint32(k2+127)<<23))
			e3 := float32(expPoly(r3) * math.Float32frombits(uint32(k3+127)<<23))
			// Tanh = ±(1 - 2/(e+1)), with the sign of x.
			v[0] = float32(math.Copysign(float64(1-2/(e0+1)), float64(x0)))
			v[1] = float32(math.Copysign(float64(1-2/(e1+1)), float64(x1)))
			v[2] = float32(math.Copysign(float64(1-2/(e2+1)), float64(x2)))
			v[3] = float32(math.Copysign(float64(1-2/(e3+1)), float64(x3)))
		}
	}
}

// sigmoids sets every element of a to its Sigmoid. (A branchless Exp
// measured slower than the scalar one, natively and on wasm.)
func sigmoids(a []float32) {
	for i, x := range a {
		a[i] = Sigmoid(x)
	}
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

// tanhGrads multiplies d by Tanh's derivative 1 - y² at its output y.
func tanhGrads(d, y []float32) {
	d = d[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		u, v := d[i:i+4:i+4], y[i:i+4:i+4]
		u[0] = float32(u[0] * (1 - float32(v[0]*v[0])))
		u[1] = float32(u[1] * (1 - float32(v[1]*v[1])))
		u[2] = float32(u[2] * (1 - float32(v[2]*v[2])))
		u[3] = float32(u[3] * (1 - float32(v[3]*v[3])))
	}
	for ; i < len(y); i++ {
		d[i] = float32(d[i] * (1 - float32(y[i]*y[i])))
	}
}
