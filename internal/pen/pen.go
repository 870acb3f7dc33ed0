// Package pen rasterises pen strokes into a square grayscale image the way
// the digits generator (engine/digits.go) draws its glyphs: a pixel's ink
// falls off linearly with the distance from its centre to the nearest
// stroke, 1 within reach−1 and 0 beyond reach (reach = half the pen width
// + 0.5). The generator and the page's drawing pad share it, so a drawn
// digit is inked exactly as the training images are.
//
// Determinism: float32 throughout, every product rounded explicitly
// (float32(a*b)) so that no compiler fuses a multiply-add; the bits are the
// same on amd64, arm64 and wasm (engine's TestGenDigitsGolden pins them).
package pen

import (
	"math"

	"playground/spec"
)

// Side is the side of the image in pixels.
const Side = spec.DigitSize

// Pixels is the number of pixels of an image.
const Pixels = Side * Side

// farAway is the squared distance of a pixel no stroke came near.
const farAway = float32(1e9)

// Canvas collects the strokes of one image: per pixel, the squared
// distance from its centre to the nearest stroke so far.
type Canvas struct {
	Reach float32 // half the pen width + 0.5: no ink beyond it
	dist2 [Pixels]float32
}

// Reset clears the canvas for a pen of the given width.
func (c *Canvas) Reset(width float32) {
	c.Reach = float32(width*0.5) + 0.5
	for j := range c.dist2 {
		c.dist2[j] = farAway
	}
}

// Stroke adds the straight stroke from (ax, ay) to (bx, by), in pixel
// coordinates (pixel i covers [i, i+1), its centre is i+0.5): it lowers
// the squared distance of every pixel centre within reach of the segment.
// Only the segment's widened bounding box is visited. A zero-length
// segment is a dot.
func (c *Canvas) Stroke(ax, ay, bx, by float32) {
	ex, ey := bx-ax, by-ay
	ee := float32(ex*ex) + float32(ey*ey)
	x0 := index(min(ax, bx) - c.Reach - 0.5)
	x1 := index(max(ax, bx) + c.Reach - 0.5)
	y0 := index(min(ay, by) - c.Reach - 0.5)
	y1 := index(max(ay, by) + c.Reach - 0.5)
	for yi := y0; yi <= y1; yi++ {
		py := float32(yi) + 0.5 - ay
		row := c.dist2[yi*Side : (yi+1)*Side]
		for xi := x0; xi <= x1; xi++ {
			px := float32(xi) + 0.5 - ax
			var t float32
			if ee > 0 {
				t = (float32(px*ex) + float32(py*ey)) / ee
				if t < 0 {
					t = 0
				} else if t > 1 {
					t = 1
				}
			}
			dx := px - float32(t*ex)
			dy := py - float32(t*ey)
			d2 := float32(dx*dx) + float32(dy*dy)
			if d2 < row[xi] {
				row[xi] = d2
			}
		}
	}
}

// Ink writes the image (Pixels values in [0, 1], row-major, background 0)
// into img.
func (c *Canvas) Ink(img []float32) {
	reach2 := float32(c.Reach * c.Reach)
	for j, d2 := range c.dist2 {
		if d2 >= reach2 {
			img[j] = 0
			continue
		}
		img[j] = Clamp01(c.Reach - float32(math.Sqrt(float64(d2))))
	}
}

// Clamp01 clamps v to [0, 1] without branches.
func Clamp01(v float32) float32 { return max(0, min(1, v)) }

// index truncates a pixel coordinate to an index in [0, Side-1].
func index(v float32) int {
	if v <= 0 {
		return 0
	}
	if v >= Side-1 {
		return Side - 1
	}
	return int(v)
}
