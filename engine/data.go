package engine

import (
	"math/rand/v2"

	"playground/internal/mathf"
	"playground/spec"
)

// Dataset is a generated dataset, already split and featurized.
type Dataset struct {
	Inputs   int      // features per sample
	Outputs  int      // targets per sample (one-hot for classes)
	Classes  int      // 0 for regression
	Features []string // names of the input columns
	Train    Split
	Test     Split
}

// Split is one part of a dataset: X is n × Inputs, Y is n × Outputs,
// Label holds the class (or the regression target) per sample, and Points
// the raw 2-D coordinates for drawing (nil for digits).
type Split struct {
	N      int
	X      []float32
	Y      []float32
	Label  []float32
	Points [][2]float32
}

// Featurize maps a 2-D point to the named input features.
func Featurize(dst []float32, features []string, x, y float32) {
	for i, f := range features {
		switch f {
		case "x":
			dst[i] = x
		case "y":
			dst[i] = y
		case "x2":
			dst[i] = float32(x * x)
		case "y2":
			dst[i] = float32(y * y)
		case "xy":
			dst[i] = float32(x * y)
		case "sinx":
			dst[i] = mathf.Sin(x)
		case "siny":
			dst[i] = mathf.Sin(y)
		}
	}
}

// pointSets generates the 2-D datasets: n points and their labels.
var pointSets = map[string]func(r *rand.Rand, n int, noise float32) ([][2]float32, []float32){
	"spiral":         genSpiral,
	"circle":         genCircle,
	"xor":            genXOR,
	"gauss":          genGauss,
	"regression":     genRegression,
	"plane":          genPlane,
	"multi-gaussian": genMultiGauss,
}

// Generate builds the spec's dataset from its seed. The spec must be
// normalized.
func Generate(s spec.Spec) *Dataset {
	d := s.Dataset
	kind, _ := spec.Dataset(d.Kind)
	r := rand.New(rand.NewPCG(s.DataSeed(), streamData))
	noise := float32(d.Noise)
	n := d.Samples

	var pts [][2]float32
	var labels []float32
	var pixels []float32 // digits: n × 784
	if d.Kind == "digits" {
		pixels, labels = GenDigits(r, n, noise)
	} else if gen := pointSets[d.Kind]; gen != nil {
		pts, labels = gen(r, n, noise)
	}

	// One shuffle, then the first part is the test set.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	shuffle(r, order)
	nTest := d.TestSamples()

	ds := &Dataset{Outputs: kind.Outputs, Classes: kind.Classes}
	if kind.TwoD {
		ds.Inputs = len(d.Features)
		ds.Features = d.Features
	} else {
		ds.Inputs = kind.Inputs
		for i := 0; i < ds.Inputs; i++ {
			ds.Features = append(ds.Features, "p"+itoa(i))
		}
	}
	build := func(idx []int) Split {
		sp := Split{N: len(idx)}
		sp.X = make([]float32, len(idx)*ds.Inputs)
		sp.Y = make([]float32, len(idx)*ds.Outputs)
		sp.Label = make([]float32, len(idx))
		for j, i := range idx {
			x := sp.X[j*ds.Inputs : (j+1)*ds.Inputs]
			if kind.TwoD {
				Featurize(x, d.Features, pts[i][0], pts[i][1])
				sp.Points = append(sp.Points, pts[i])
			} else {
				copy(x, pixels[i*ds.Inputs:(i+1)*ds.Inputs])
			}
			sp.Label[j] = labels[i]
			if kind.Outputs == 1 {
				sp.Y[j] = labels[i]
			} else {
				sp.Y[j*ds.Outputs+int(labels[i])] = 1
			}
		}
		return sp
	}
	ds.Test = build(order[:nTest])
	ds.Train = build(order[nTest:])
	return ds
}

// RNG streams: each use of randomness draws from its own PCG stream of the
// run's seed, so that adding one never shifts another.
const (
	streamData  = 0x6461746100000001
	streamInit  = 0x696e697400000002
	streamOrder = 0x6f72646572000003
	streamTrain = 0x747261696e000004
)

// shuffle is Fisher–Yates with PCG draws: the same permutation everywhere.
func shuffle(r *rand.Rand, a []int) {
	for i := len(a) - 1; i > 0; i-- {
		j := int(r.Uint64N(uint64(i + 1)))
		a[i], a[j] = a[j], a[i]
	}
}

// rand01 returns r.Float32() rounded explicitly: the standard library's
// Float32 is a product, which must not fuse with what the caller adds.
func rand01(r *rand.Rand) float32 { return float32(r.Float32()) }

// uniform returns a float32 in [lo, hi).
func uniform(r *rand.Rand, lo, hi float32) float32 {
	return lo + float32(rand01(r)*(hi-lo))
}

// normal returns a standard normal float32 by Box–Muller on the portable
// functions (rand.NormFloat64 uses math.Log and differs across runtimes).
func normal(r *rand.Rand) float32 {
	u1 := 1 - rand01(r) // (0, 1]
	u2 := rand01(r)
	return float32(Sqrt(float32(-2*Log(u1))) * mathf.Cos(float32(6.2831855*u2)))
}

func genSpiral(r *rand.Rand, n int, noise float32) ([][2]float32, []float32) {
	pts := make([][2]float32, 0, n)
	labels := make([]float32, 0, n)
	half := n / 2
	for c := 0; c < 2; c++ {
		m := half
		if c == 1 {
			m = n - half
		}
		delta := float32(0)
		if c == 1 {
			delta = 3.1415927
		}
		for i := 0; i < m; i++ {
			f := float32(i) / float32(m)
			rad := float32(f * 5)
			t := float32(float32(1.75*f)*6.2831855) + delta
			x := float32(rad*mathf.Sin(t)) + float32(uniform(r, -1, 1)*noise)
			y := float32(rad*mathf.Cos(t)) + float32(uniform(r, -1, 1)*noise)
			pts = append(pts, [2]float32{x, y})
			labels = append(labels, float32(c))
		}
	}
	return pts, labels
}

func genCircle(r *rand.Rand, n int, noise float32) ([][2]float32, []float32) {
	const radius = 5
	pts := make([][2]float32, 0, n)
	labels := make([]float32, 0, n)
	half := n / 2
	for i := 0; i < n; i++ {
		var rad float32
		label := float32(1)
		if i < half {
			rad = uniform(r, 0, radius*0.5) // inside: class 1
		} else {
			rad = uniform(r, radius*0.7, radius) // ring: class 0
			label = 0
		}
		angle := uniform(r, 0, 6.2831855)
		x := float32(rad*mathf.Sin(angle)) + float32(uniform(r, -radius, radius)*noise)
		y := float32(rad*mathf.Cos(angle)) + float32(uniform(r, -radius, radius)*noise)
		pts = append(pts, [2]float32{x, y})
		labels = append(labels, label)
	}
	return pts, labels
}

func genXOR(r *rand.Rand, n int, noise float32) ([][2]float32, []float32) {
	const padding = 0.3
	pts := make([][2]float32, 0, n)
	labels := make([]float32, 0, n)
	for i := 0; i < n; i++ {
		x := uniform(r, -5, 5)
		if x > 0 {
			x += padding
		} else {
			x -= padding
		}
		y := uniform(r, -5, 5)
		if y > 0 {
			y += padding
		} else {
			y -= padding
		}
		label := float32(0)
		if float32(x*y) >= 0 {
			label = 1
		}
		x += float32(uniform(r, -5, 5) * noise)
		y += float32(uniform(r, -5, 5) * noise)
		pts = append(pts, [2]float32{x, y})
		labels = append(labels, label)
	}
	return pts, labels
}

func genGauss(r *rand.Rand, n int, noise float32) ([][2]float32, []float32) {
	sd := float32(0.5 + float32(3.5*noise)) // TensorFlow Playground's variance scale
	sd = Sqrt(sd)
	pts := make([][2]float32, 0, n)
	labels := make([]float32, 0, n)
	half := n / 2
	for i := 0; i < n; i++ {
		cx, label := float32(2), float32(1)
		if i >= half {
			cx, label = -2, 0
		}
		x := cx + float32(normal(r)*sd)
		y := cx + float32(normal(r)*sd)
		pts = append(pts, [2]float32{x, y})
		labels = append(labels, label)
	}
	return pts, labels
}

// genRegression samples a smooth surface over the square: a tilted plane
// plus a bump, with Gaussian noise on the target.
func genRegression(r *rand.Rand, n int, noise float32) ([][2]float32, []float32) {
	pts := make([][2]float32, 0, n)
	labels := make([]float32, 0, n)
	for i := 0; i < n; i++ {
		x := uniform(r, -spec.Domain, spec.Domain)
		y := uniform(r, -spec.Domain, spec.Domain)
		d2 := float32(float32(x-2)*float32(x-2)) + float32(float32(y+1)*float32(y+1))
		v := float32((x+y)/12) + Exp(float32(-d2/8)) + float32(normal(r)*float32(noise*0.5))
		pts = append(pts, [2]float32{x, y})
		labels = append(labels, v)
	}
	return pts, labels
}

// genPlane is TensorFlow Playground's "plane": the target (x + y)/10 at
// the point moved by noise.
func genPlane(r *rand.Rand, n int, noise float32) ([][2]float32, []float32) {
	return genSurface(r, n, noise, func(x, y float32) float32 { return float32(x+y) / 10 })
}

// genMultiGauss is TensorFlow Playground's "multi gaussian": six bumps of
// alternating sign; the target is the strongest one's 1 − distance/2
// (clamped to [0, 1]) at the point moved by noise.
func genMultiGauss(r *rand.Rand, n int, noise float32) ([][2]float32, []float32) {
	bumps := [6][3]float32{{-4, 2.5, 1}, {0, 2.5, -1}, {4, 2.5, 1}, {-4, -2.5, -1}, {0, -2.5, 1}, {4, -2.5, -1}}
	return genSurface(r, n, noise, func(x, y float32) float32 {
		label := float32(0)
		for _, b := range bumps {
			dx, dy := x-b[0], y-b[1]
			d := Sqrt(float32(dx*dx) + float32(dy*dy))
			v := float32(b[2] * min(max(1-float32(d/2), 0), 1))
			if abs32(v) > abs32(label) {
				label = v
			}
		}
		return label
	})
}

// genSurface samples points uniformly over the square and labels each
// with f at the point shifted by uniform noise, as TensorFlow Playground's
// regression sets do.
func genSurface(r *rand.Rand, n int, noise float32, f func(x, y float32) float32) ([][2]float32, []float32) {
	pts := make([][2]float32, 0, n)
	labels := make([]float32, 0, n)
	for i := 0; i < n; i++ {
		x := uniform(r, -spec.Domain, spec.Domain)
		y := uniform(r, -spec.Domain, spec.Domain)
		nx := float32(uniform(r, -spec.Domain, spec.Domain) * noise)
		ny := float32(uniform(r, -spec.Domain, spec.Domain) * noise)
		pts = append(pts, [2]float32{x, y})
		labels = append(labels, f(x+nx, y+ny))
	}
	return pts, labels
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	p := len(b)
	for i > 0 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	return string(b[p:])
}
