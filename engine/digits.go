package engine

import (
	"math/rand/v2"

	"playground/internal/mathf"
	"playground/internal/pen"
	"playground/spec"
)

// Procedural handwritten digits.
//
// Each digit is one of a few glyph variants: pen paths in a unit box (x to
// the right, y downwards, the ink roughly in [0.2, 0.8] × [0.05, 0.95])
// made of straight strokes and elliptic arcs. Per image the glyph is
// jittered (control points, arc centres, radii and angles), mapped to
// pixels by a random affine transform (scale, aspect, rotation, shear,
// translation) and drawn anti-aliased with a random pen width: a pixel's
// ink falls off linearly with the distance from its centre to the nearest
// stroke. Finally uniform noise scaled by noise is added.
//
// Determinism: all randomness comes from r.Float32, r.Uint64 and r.IntN;
// all maths is float32 with every product rounded explicitly (float32(a*b),
// also for halving: the compiler turns x/2 into x*0.5 and fuses it) so that
// no compiler fuses an FMA; sines and cosines are the portable Sin/Cos,
// min/max are exact. The output is bit-identical on amd64, arm64 and wasm
// (TestGenDigitsGolden pins it).

// Glyph path operations.
const (
	glyphOpMove = iota // v[0], v[1]: start a new stroke at (x, y)
	glyphOpLine        // v[0], v[1]: straight stroke to (x, y)
	glyphOpArc         // v = cx, cy, rx, ry, t0, t1 (angles in units of π):
	// the ellipse (cx + rx·cos t, cy + ry·sin t) for t from t0 to t1, joined
	// by a straight stroke from the current point if there is one. y points
	// down, so t = -1/2 is the top and t = 1/2 the bottom of the ellipse.
)

type glyphOp struct {
	op int
	v  [6]float32
}

func glyphMove(x, y float32) glyphOp { return glyphOp{op: glyphOpMove, v: [6]float32{x, y}} }
func glyphLine(x, y float32) glyphOp { return glyphOp{op: glyphOpLine, v: [6]float32{x, y}} }
func glyphArc(cx, cy, rx, ry, t0, t1 float32) glyphOp {
	return glyphOp{op: glyphOpArc, v: [6]float32{cx, cy, rx, ry, t0, t1}}
}

// digitGlyphs holds the variants of each digit.
var digitGlyphs = [10][][]glyphOp{
	0: {
		{glyphArc(0.5, 0.5, 0.27, 0.44, -0.5, 1.55)},
		{glyphArc(0.5, 0.5, 0.23, 0.45, -0.6, 1.5)}, // narrow
	},
	1: {
		{glyphMove(0.5, 0.05), glyphLine(0.5, 0.95)},
		{glyphMove(0.3, 0.25), glyphLine(0.52, 0.05), glyphLine(0.52, 0.95)},                                              // with flag
		{glyphMove(0.3, 0.25), glyphLine(0.52, 0.05), glyphLine(0.52, 0.95), glyphMove(0.3, 0.95), glyphLine(0.74, 0.95)}, // flag and base
	},
	2: {
		{glyphArc(0.5, 0.3, 0.27, 0.24, 0.95, 2.3), glyphLine(0.2, 0.95), glyphLine(0.82, 0.95)},
		{glyphArc(0.5, 0.3, 0.27, 0.24, 0.95, 2.25), glyphLine(0.2, 0.95), // with loop at the base
			glyphArc(0.3, 0.86, 0.1, 0.09, -0.25, 0.6), glyphLine(0.84, 0.93)},
	},
	3: {
		{glyphArc(0.48, 0.28, 0.26, 0.22, 1.15, 2.5), glyphArc(0.48, 0.71, 0.29, 0.24, -0.5, 0.85)},
		{glyphMove(0.22, 0.07), glyphLine(0.76, 0.07), glyphLine(0.45, 0.43), // flat top
			glyphArc(0.47, 0.68, 0.29, 0.26, -0.55, 0.85)},
	},
	4: {
		{glyphMove(0.62, 0.95), glyphLine(0.62, 0.05), glyphLine(0.16, 0.66), glyphLine(0.84, 0.66)},
		{glyphMove(0.3, 0.05), glyphLine(0.22, 0.58), glyphLine(0.82, 0.58), glyphMove(0.66, 0.22), glyphLine(0.66, 0.95)}, // open
	},
	5: {
		{glyphMove(0.78, 0.07), glyphLine(0.31, 0.07), glyphLine(0.28, 0.46), glyphArc(0.5, 0.67, 0.28, 0.26, -0.78, 0.85)},
		{glyphMove(0.3, 0.07), glyphLine(0.27, 0.45), glyphArc(0.5, 0.66, 0.29, 0.26, -0.78, 0.85), // top bar added last
			glyphMove(0.3, 0.07), glyphLine(0.78, 0.05)},
	},
	6: {
		{glyphArc(0.76, 0.68, 0.52, 0.62, 1.42, 1), glyphArc(0.5, 0.68, 0.26, 0.26, 1, -1.05)},
		{glyphMove(0.66, 0.05), glyphLine(0.29, 0.6), glyphArc(0.5, 0.71, 0.24, 0.23, 0.85, -1.1)}, // straight stem
	},
	7: {
		{glyphMove(0.2, 0.07), glyphLine(0.8, 0.07), glyphLine(0.42, 0.95)},
		{glyphMove(0.2, 0.07), glyphLine(0.8, 0.07), glyphLine(0.45, 0.95), glyphMove(0.38, 0.52), glyphLine(0.78, 0.52)}, // crossed
		{glyphMove(0.22, 0.18), glyphLine(0.22, 0.07), glyphLine(0.8, 0.07), glyphArc(-0.3, 0.07, 1.1, 1.09, 0, 0.3)},     // curved stem
	},
	8: {
		{glyphArc(0.5, 0.28, 0.22, 0.21, 0.5, 2.55), glyphArc(0.5, 0.71, 0.27, 0.24, -0.5, 1.55)},
		{glyphArc(0.55, 0.27, 0.19, 0.2, 0.5, 2.55), glyphArc(0.45, 0.7, 0.28, 0.25, -0.45, 1.55)}, // slanted
	},
	9: {
		{glyphArc(0.5, 0.32, 0.26, 0.25, 0, 2.05), glyphMove(0.76, 0.32), glyphLine(0.7, 0.95)},
		{glyphArc(0.5, 0.3, 0.25, 0.24, 0.05, 2.05), glyphArc(0.2, 0.3, 0.56, 0.65, 0, 0.5)}, // curved tail
	},
}

const (
	digitPi      = float32(3.14159265358979)
	glyphPixels  = float32(20)  // unit box height in pixels at scale 1
	glyphArcStep = float32(0.1) // arc tessellation step, in units of π
	digitPixels  = pen.Pixels
	digitFarAway = float32(1e9)
)

// GenDigits draws n images of the digits 0–9 (n × 784 pixels in [0, 1],
// row-major, background 0, ink 1) and their labels; image i shows the digit
// i % 10. noise in [0, 1] scales additive uniform pixel noise (none is drawn
// when it is 0).
func GenDigits(r *rand.Rand, n int, noise float32) (pixels []float32, labels []float32) {
	pixels = make([]float32, n*digitPixels)
	labels = make([]float32, n)
	var p digitPen
	for i := range labels {
		d := i % 10
		labels[i] = float32(d)
		img := pixels[i*digitPixels : (i+1)*digitPixels]
		p.render(r, d, img)
		if noise != 0 {
			digitNoise(r, img, noise)
		}
	}
	return pixels, labels
}

// digitNoise adds noise/2 · uniform(-1, 1) to every pixel and clamps to
// [0, 1]. Each r.Uint64 gives two 24-bit uniforms (RNG calls are the cost).
func digitNoise(r *rand.Rand, img []float32, noise float32) {
	amp := float32(noise * 0.5)
	scale := amp / (1 << 23) // 24-bit integer u -> amp·(u/2^23 - 1) in [-amp, amp)
	for j := 0; j < len(img); j += 2 {
		u := r.Uint64()
		img[j] = pen.Clamp01(img[j] + (float32(float32(u>>40)*scale) - amp))
		if j+1 < len(img) {
			img[j+1] = pen.Clamp01(img[j+1] + (float32(float32((u>>16)&(1<<24-1))*scale) - amp))
		}
	}
}

// glyphJitter is how far a control point moves at random, in unit-box units.
const glyphJitter = 0.035

// The pen's canvas is the digits' image.

// digitPen draws one glyph: it maps jittered unit-box points to pixels and
// collects the strokes as straight segments, then rasterises them (with
// the pen package, which the page's drawing pad uses too).
type digitPen struct {
	m00, m01, m10, m11 float32 // unit box (centred) -> pixels, before translation
	segs               [][4]float32
	x, y               float32 // current point
	down               bool    // whether there is a current point
	canvas             pen.Canvas
}

// render draws one random rendition of digit d into img (784 pixels).
func (p *digitPen) render(r *rand.Rand, d int, img []float32) {
	variants := digitGlyphs[d]
	glyph := variants[r.IntN(len(variants))]

	// Random affine transform: scale, aspect, shear, rotation; the
	// translation is chosen once the strokes' extent is known.
	scale := uniform(r, 0.8, 1.1)
	sx := float32(float32(scale*uniform(r, 0.88, 1.12)) * glyphPixels)
	sy := float32(scale * glyphPixels)
	shear := uniform(r, -0.3, 0.3)
	theta := float32(uniform(r, -12, 12) * (digitPi / 180))
	c, s := mathf.Cos(theta), mathf.Sin(theta)
	// M = R(θ) · diag(sx, sy) · [[1, shear], [0, 1]]
	sxk := float32(sx * shear)
	p.m00 = float32(c * sx)
	p.m01 = float32(c*sxk) - float32(s*sy)
	p.m10 = float32(s * sx)
	p.m11 = float32(s*sxk) + float32(c*sy)
	p.canvas.Reset(uniform(r, 1.5, 2.8))
	p.segs = p.segs[:0]
	p.down = false

	const jit = glyphJitter
	for _, o := range glyph {
		switch o.op {
		case glyphOpMove:
			p.x, p.y = p.transform(o.v[0]+uniform(r, -jit, jit), o.v[1]+uniform(r, -jit, jit))
			p.down = true
		case glyphOpLine:
			p.lineTo(p.transform(o.v[0]+uniform(r, -jit, jit), o.v[1]+uniform(r, -jit, jit)))
		case glyphOpArc:
			p.arc(r, o.v)
		}
	}

	p.finish(r, img)
}

// arc strokes an elliptic arc, v = (cx, cy, rx, ry, t0, t1) in unit-box
// units and half turns, jittered.
func (p *digitPen) arc(r *rand.Rand, v [6]float32) {
	const jit = glyphJitter
	cx := v[0] + uniform(r, -jit, jit)
	cy := v[1] + uniform(r, -jit, jit)
	// Radii vary by ±10% but at most ±jit, and the end angles
	// by an arc length of about ±jit/3 (long flat arcs barely
	// move their ends).
	rx := v[2] + float32(uniform(r, -1, 1)*digitMin(float32(0.1*v[2]), jit))
	ry := v[3] + float32(uniform(r, -1, 1)*digitMin(float32(0.1*v[3]), jit))
	ja := 0.012 / digitMax(v[2], v[3])
	t0 := v[4] + float32(ja*uniform(r, -1, 1))
	t1 := v[5] + float32(ja*uniform(r, -1, 1))
	steps := int(abs32(t1-t0)/glyphArcStep) + 1
	for k := 0; k <= steps; k++ {
		t := t0 + float32((t1-t0)*float32(k))/float32(steps)
		a := float32(t * digitPi)
		x, y := p.transform(cx+float32(rx*mathf.Cos(a)), cy+float32(ry*mathf.Sin(a)))
		if k == 0 && !p.down {
			p.x, p.y, p.down = x, y, true
			continue
		}
		p.lineTo(x, y)
	}
}

// finish translates the collected strokes (centred, jittered) and
// rasterises them into img.
func (p *digitPen) finish(r *rand.Rand, img []float32) {
	// Translation: centre the strokes' bounding box, move it by up to ±2
	// pixels, but keep the ink off the outermost pixels when it fits.
	minX, minY := digitFarAway, digitFarAway
	maxX, maxY := -digitFarAway, -digitFarAway
	for _, sg := range p.segs {
		minX = digitMin(minX, digitMin(sg[0], sg[2]))
		maxX = digitMax(maxX, digitMax(sg[0], sg[2]))
		minY = digitMin(minY, digitMin(sg[1], sg[3]))
		maxY = digitMax(maxY, digitMax(sg[1], sg[3]))
	}
	tx := digitShift(minX, maxX, p.canvas.Reach, uniform(r, -2, 2))
	ty := digitShift(minY, maxY, p.canvas.Reach, uniform(r, -2, 2))

	for _, sg := range p.segs {
		p.canvas.Stroke(sg[0]+tx, sg[1]+ty, sg[2]+tx, sg[3]+ty)
	}
	p.canvas.Ink(img)
}

// digitShift returns the translation that puts [lo, hi] at the centre of
// the image moved by jitter, clamped so that strokes of the given reach
// leave the first and last pixel blank (centred if they cannot).
func digitShift(lo, hi, reach, jitter float32) float32 {
	margin := reach + 0.5
	t := spec.DigitSize/2 - float32((lo+hi)*0.5) + jitter // not /2: the compiler would fuse its *0.5
	tmin := margin - lo
	tmax := spec.DigitSize - margin - hi
	switch {
	case tmin > tmax:
		return float32((tmin + tmax) * 0.5)
	case t < tmin:
		return tmin
	case t > tmax:
		return tmax
	}
	return t
}

// transform maps a unit-box point to pixel coordinates (before translation).
func (p *digitPen) transform(x, y float32) (float32, float32) {
	u, v := x-0.5, y-0.5
	return float32(p.m00*u) + float32(p.m01*v), float32(p.m10*u) + float32(p.m11*v)
}

// lineTo adds the segment from the current point to (x, y).
func (p *digitPen) lineTo(x, y float32) {
	p.segs = append(p.segs, [4]float32{p.x, p.y, x, y})
	p.x, p.y, p.down = x, y, true
}

func digitMin(a, b float32) float32 {
	if a < b {
		return a
	}
	return b
}

func digitMax(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}
