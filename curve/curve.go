// Package curve is a run's loss history: the training loss, and the test
// loss and accuracy, on a fixed schedule of steps. The schedule is a pure
// function of the step (PerOctave points between each power of two and the
// next), and evaluation reads the model without touching the training
// state or its RNG, so every machine that reaches a step has the same
// history up to it, bit for bit: the browser while it trains or replays,
// and the native trainer. The history travels with the run in each
// checkpoint's metadata (persist), bounded in size (MaxPoints).
package curve

import (
	"math"
	"math/bits"
	"strconv"

	"playground/engine"
)

const (
	// PerOctave is the schedule's density: every step up to 2·PerOctave,
	// then PerOctave steps evenly spaced between 2^k and 2^(k+1).
	PerOctave = 32
	// MaxPoints bounds a history: past it, the schedule thins to half the
	// density (older points included), so a history never outgrows about
	// 20 KB of metadata.
	MaxPoints = 640
	// MaxEncoded bounds an encoded history in bytes.
	MaxEncoded = 40 << 10
)

// on reports whether step is on the schedule of per points per octave
// (a power of two).
func on(step uint64, per int) bool {
	if step == 0 {
		return false
	}
	shift := bits.Len64(step) - 1 - bits.Len(uint(per)) + 1
	return shift <= 0 || step&(1<<shift-1) == 0
}

// At reports whether the test split is evaluated at step.
func At(step uint64) bool { return on(step, PerOctave) }

// Point is the history at one scheduled step: the mean training loss of
// the steps since the previous scheduled one, and the loss and accuracy on
// the test split. A value that is not finite is NaN or ±Inf as computed
// (a diverged run); a missing one (no test split, accuracy of a
// regression) is NaN.
type Point struct {
	Step                  uint64
	Train, Test, Accuracy float32
}

// History is a run's curve up to its step. Sum and N are the training
// losses since the last scheduled step (added in step order, so the next
// point's mean is the same wherever it is computed).
type History struct {
	Points []Point
	Sum    float64
	N      uint64
}

// Clone returns a copy that shares nothing with h.
func (h History) Clone() History {
	h.Points = append([]Point(nil), h.Points...)
	return h
}

// Observe records the loss of the step tr just took; at a scheduled step
// it evaluates the test split and appends a point, and says whether that
// thinned the history (older points went). Evaluation neither changes the
// training state nor draws from its RNG.
func (h *History) Observe(tr *engine.Trainer, loss float32) (thinned bool) {
	h.Sum += float64(loss)
	h.N++
	if !At(tr.Step) {
		return false
	}
	p := Point{Step: tr.Step, Train: round(float32(h.Sum / float64(h.N))), Test: nan, Accuracy: nan}
	if tr.Data.Test.N > 0 {
		m := tr.Evaluate(&tr.Data.Test)
		p.Test, p.Accuracy = round(m.Loss), round(m.Accuracy)
	}
	h.Sum, h.N = 0, 0
	pts := append(h.Points, p)
	h.Points = thin(pts)
	return len(h.Points) < len(pts)
}

var nan = float32(math.NaN())

// round keeps 5 significant digits, which is what the metadata stores.
func round(v float32) float32 {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return v
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', 5, 32), 32)
	return float32(r)
}

// thin halves the schedule's density until pts fit in MaxPoints.
func thin(pts []Point) []Point {
	for per := PerOctave / 2; len(pts) > MaxPoints && per >= 1; per /= 2 {
		kept := pts[:0]
		for _, p := range pts {
			if on(p.Step, per) {
				kept = append(kept, p)
			}
		}
		pts = kept
	}
	return pts
}
