package engine

import (
	"math"
	"testing"

	"playground/internal/mathf"
)

// The portable functions must stay close to the standard library; their bits
// are what training depends on, their accuracy is what users see.
func TestPortableMathAccuracy(t *testing.T) {
	cases := []struct {
		name string
		f    func(float32) float32
		ref  func(float64) float64
		lo   float64
		hi   float64
		tol  float64 // relative, or absolute below 1
	}{
		{"Exp", Exp, math.Exp, -87, 88.7, 4e-7},
		{"Log", Log, math.Log, 1e-30, 1e30, 4e-7},
		{"Tanh", Tanh, math.Tanh, -12, 12, 4e-7},
		{"Sigmoid", Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, -80, 80, 4e-7},
		{"Sin", mathf.Sin, math.Sin, -200, 200, 4e-7},
		{"Cos", mathf.Cos, math.Cos, -200, 200, 4e-7},
		{"Log1p", Log1p, math.Log1p, -0.999, 1e3, 4e-7},
		{"softplus", softplus, func(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }, -80, 1e4, 4e-7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const n = 200001
			worst := 0.0
			for i := 0; i < n; i++ {
				var x float64
				if c.name == "Log" {
					x = math.Exp(math.Log(c.lo) + (math.Log(c.hi)-math.Log(c.lo))*float64(i)/(n-1))
				} else {
					x = c.lo + (c.hi-c.lo)*float64(i)/(n-1)
				}
				x32 := float32(x)
				got := float64(c.f(x32))
				want := c.ref(float64(x32))
				err := math.Abs(got - want)
				if math.Abs(want) > 1 {
					err /= math.Abs(want)
				}
				if err > worst {
					worst = err
				}
				if err > c.tol {
					t.Fatalf("%s(%g) = %g, want %g (error %g)", c.name, x32, got, want, err)
				}
			}
			t.Logf("worst error %.3g", worst)
		})
	}
}

func TestPortableMathEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	if Exp(100) != inf || Exp(-100) != 0 || Exp(0) != 1 {
		t.Fatalf("Exp edges: %v %v %v", Exp(100), Exp(-100), Exp(0))
	}
	if Log(0) != -inf || Log(1) != 0 || !math.IsNaN(float64(Log(-1))) || Log(inf) != inf {
		t.Fatalf("Log edges: %v %v %v %v", Log(0), Log(1), Log(-1), Log(inf))
	}
	if got := Log(1e-40); math.Abs(float64(got)-math.Log(float64(float32(1e-40)))) > 1e-5 {
		t.Fatalf("Log subnormal = %v", got)
	}
	// Where 1+x rounds to 1, log1p and so a saturated BCE loss stay
	// accurate relative to their tiny value.
	for _, x := range []float32{1e-3, 1e-7, -3e-8, 1e-20, 1e-40} {
		if got, want := float64(Log1p(x)), math.Log1p(float64(x)); math.Abs(got-want) > 4e-7*math.Abs(want) {
			t.Fatalf("Log1p(%g) = %g, want %g", x, got, want)
		}
	}
	for _, x := range []float32{-20, -50, -87} {
		if got, want := float64(softplus(x)), math.Log1p(math.Exp(float64(x))); math.Abs(got-want) > 1e-6*want {
			t.Fatalf("softplus(%g) = %g, want %g", x, got, want)
		}
	}
	if softplus(1e30) != 1e30 || softplus(0) != Log(2) {
		t.Fatalf("softplus edges: %v %v", softplus(1e30), softplus(0))
	}
	if Tanh(50) != 1 || Tanh(-50) != -1 || Tanh(0) != 0 {
		t.Fatalf("Tanh edges")
	}
	if mathf.Powi(0.9, 0) != 1 || mathf.Powi(2, 10) != 1024 {
		t.Fatalf("Powi: %v %v", mathf.Powi(0.9, 0), mathf.Powi(2, 10))
	}
	if got, want := float64(mathf.Powi(0.999, 1000)), math.Pow(0.999, 1000); math.Abs(got-want) > 1e-4 {
		t.Fatalf("Powi(0.999,1000) = %v, want %v", got, want)
	}
}
