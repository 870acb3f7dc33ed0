package pen

import "testing"

// A dot at a pixel's centre inks it fully and its neighbours by the
// distance to their centres: reach − d, clamped to [0, 1].
func TestDot(t *testing.T) {
	var c Canvas
	c.Reset(2.2) // reach 1.6
	c.Stroke(10.5, 12.5, 10.5, 12.5)
	img := make([]float32, Pixels)
	c.Ink(img)
	at := func(x, y int) float32 { return img[y*Side+x] }
	if at(10, 12) != 1 {
		t.Errorf("centre %v, want 1", at(10, 12))
	}
	if got := at(11, 12); got != float32(1.6)-1 {
		t.Errorf("right neighbour %v, want %v", got, float32(1.6)-1)
	}
	if got := at(12, 12); got != 0 {
		t.Errorf("two pixels away %v, want 0", got)
	}
	var sum float32
	for _, v := range img {
		sum += v
	}
	if sum < 3 || sum > 5 {
		t.Errorf("ink %v", sum)
	}
}

// A stroke off the canvas, or half on it, never indexes out of it, and
// Reset forgets every stroke.
func TestEdgesAndReset(t *testing.T) {
	var c Canvas
	c.Reset(2.8)
	c.Stroke(-50, -50, 78, 78)
	c.Stroke(-5, 3, -1, 3)
	img := make([]float32, Pixels)
	c.Ink(img)
	if img[0] != 1 || img[Pixels-1] != 1 {
		t.Errorf("the diagonal misses the corners: %v %v", img[0], img[Pixels-1])
	}
	c.Reset(1.5)
	c.Ink(img)
	for i, v := range img {
		if v != 0 {
			t.Fatalf("pixel %d is %v after Reset", i, v)
		}
	}
}
