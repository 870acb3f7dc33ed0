package protocol

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDataPoints(t *testing.T) {
	if _, err := DecodeCommand([]byte(`{"type":"data"}`)); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "needs a spec") {
		t.Errorf("data without a spec: %v", err)
	}
	if c, err := DecodeCommand([]byte(`{"type":"data","seq":4,"spec":{"seed":1}}`)); err != nil || c.Type != CmdData {
		t.Errorf("data: %+v, %v", c, err)
	}
	pts := [][3]float32{{1.5, -6, 1}, {float32(math.Inf(1)), 0, -0.25}, {0, 1e-40, 7}}
	var b []byte
	for _, p := range pts {
		b = AppendPoint(b, p[0], p[1], p[2])
	}
	if len(b) != len(pts)*PointBytes {
		t.Fatalf("%d bytes for %d points", len(b), len(pts))
	}
	for i, p := range pts {
		if x, y, l := Point(b, i); x != p[0] || y != p[1] || l != p[2] {
			t.Errorf("point %d: (%v, %v, %v), want %v", i, x, y, l, p)
		}
	}
}
