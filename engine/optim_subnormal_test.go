package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// mul and div give the bits of the float32 operations, subnormal operands
// and results included: every subnormal times a spread of factors, and
// quotients drawn around the subnormal range and at random.
func TestMulDivMatchFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	check := func(a, b float32) {
		if got, want := mul(a, b), a*b; math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("mul(%#x, %#x) = %#x, float32 gives %#x", math.Float32bits(a), math.Float32bits(b), math.Float32bits(got), math.Float32bits(want))
		}
		if got, want := div(a, b), a/b; math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("div(%#x, %#x) = %#x, float32 gives %#x", math.Float32bits(a), math.Float32bits(b), math.Float32bits(got), math.Float32bits(want))
		}
	}
	stride := uint32(7)
	if testing.Short() {
		stride = 997
	}
	for _, f := range []float32{0.9, 0.999, 0.99, 0.1, 1e-3, 0.5, 1.5, 3e-4, 1e-8, 7} {
		for m := uint32(1); m < 1<<23; m += stride {
			check(math.Float32frombits(m), f)
			check(math.Float32frombits(m|1<<31), f)
		}
	}
	n := 300000
	if testing.Short() {
		n = 50000
	}
	for i := 0; i < n; i++ {
		a := math.Float32frombits(r.Uint32())
		b := math.Float32frombits(r.Uint32())
		check(a, b)
		// A quotient near or in the subnormal range.
		a = math.Float32frombits(r.Uint32N(0x0a000000) | r.Uint32()&(1<<31))
		b = math.Float32frombits(0x3c000000 + r.Uint32N(0x0e000000))
		check(a, b)
	}
}
