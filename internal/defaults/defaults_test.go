package defaults

import (
	"testing"
	"time"
)

func TestPositive(t *testing.T) {
	for _, tt := range []struct{ v, want int }{{0, 8}, {-1, 8}, {3, 3}} {
		v := tt.v
		if Positive(&v, 8); v != tt.want {
			t.Errorf("Positive(%d, 8) = %d, want %d", tt.v, v, tt.want)
		}
	}
	d := time.Duration(0)
	if Positive(&d, time.Minute); d != time.Minute {
		t.Errorf("Positive(0, 1m) = %v", d)
	}
	f := 0.5
	if Positive(&f, 0.01); f != 0.5 {
		t.Errorf("Positive(0.5, 0.01) = %v", f)
	}
}
