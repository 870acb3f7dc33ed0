package persist

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"playground/curve"
)

// withCurve gives c a history of its three steps.
func withCurve(tb testing.TB, c *Checkpoint) *Checkpoint {
	tb.Helper()
	c.Curve = curve.History{Sum: 0.5, N: 1, Points: []curve.Point{
		{Step: 1, Train: 0.75, Test: 0.7, Accuracy: 0.5},
		{Step: 2, Train: float32(math.NaN()), Test: float32(math.Inf(1)), Accuracy: float32(math.NaN())},
	}}
	return c
}

// The history travels in the metadata; a checkpoint without one is
// encoded as before (no "curve" key), and a damaged one is refused.
func TestCurveInMetadata(t *testing.T) {
	plain := encode(t, trained(t, tinySpec(), 3))
	if bytes.Contains(plain, []byte(`"curve"`)) {
		t.Error("an empty history is written")
	}
	b := encode(t, withCurve(t, trained(t, tinySpec(), 3)))
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if curve.Encode(c.Curve) != "0.5 1;1,0.75,0.7,0.5;1,NaN,+Inf,NaN" {
		t.Errorf("decoded history %+v", c.Curve)
	}
	if re := encode(t, c); !bytes.Equal(re, b) {
		t.Error("re-encodes differently")
	}
	for _, bad := range []string{"", "0.5 1;1,0.75,0.7,0.5;9,1,1,1", "0.5 9"} {
		f := reencode(t, c, func(m map[string]string) { m[keyCurve] = bad })
		if _, err := Decode(f); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "curve") {
			t.Errorf("curve %q: %v", bad, err)
		}
	}
}
