package curve

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The metadata form of a history, one line of text:
//
//	SUM N;D,TRAIN,TEST,ACC;D,TRAIN,TEST,ACC;…
//
// SUM and N are the open window (SUM in Go's shortest float64 form), each
// point's D is its step minus the previous point's (the first: its step),
// and the values are float32 in their shortest form ("NaN", "+Inf",
// "-Inf" included). There is one form for each history: Decode refuses
// any other, so a decoded history encodes to the same text.

// Encode is h's metadata form ("" for an empty history).
func Encode(h History) string {
	if len(h.Points) == 0 && h.N == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(strconv.FormatFloat(h.Sum, 'g', -1, 64))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(h.N, 10))
	prev := uint64(0)
	for _, p := range h.Points {
		b.WriteByte(';')
		b.WriteString(strconv.FormatUint(p.Step-prev, 10))
		for _, v := range [3]float32{p.Train, p.Test, p.Accuracy} {
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		prev = p.Step
	}
	return b.String()
}

// Decode reads a history of a run at step, refusing anything Encode would
// not write for it: points off the schedule, out of order or after step,
// more than MaxPoints of them, an open window longer than step.
func Decode(s string, step uint64) (History, error) {
	var h History
	if s == "" {
		return h, nil
	}
	if len(s) > MaxEncoded {
		return h, fmt.Errorf("curve has %d bytes (at most %d)", len(s), MaxEncoded)
	}
	fields := strings.Split(s, ";")
	if len(fields)-1 > MaxPoints {
		return h, fmt.Errorf("curve has %d points (at most %d)", len(fields)-1, MaxPoints)
	}
	sum, n, ok := strings.Cut(fields[0], " ")
	var err error
	if h.Sum, err = strconv.ParseFloat(sum, 64); !ok || err != nil && !errors.Is(err, strconv.ErrRange) {
		return History{}, fmt.Errorf("curve: window %q is not a sum and a count", fields[0])
	}
	if h.N, err = strconv.ParseUint(n, 10, 64); err != nil || h.N > step {
		return History{}, fmt.Errorf("curve: window count %q is not a count of at most %d steps", n, step)
	}
	for i, f := range fields[1:] {
		p, err := point(f)
		if err != nil {
			return History{}, fmt.Errorf("curve point %d: %v", i, err)
		}
		if i > 0 {
			p.Step += h.Points[i-1].Step
		}
		if p.Step > step || !At(p.Step) || i > 0 && p.Step <= h.Points[i-1].Step {
			return History{}, fmt.Errorf("curve point %d: step %d is not a scheduled step after the previous one and at most %d", i, p.Step, step)
		}
		h.Points = append(h.Points, p)
	}
	if Encode(h) != s {
		return History{}, errors.New("curve is not in its canonical form")
	}
	return h, nil
}

// point reads one "D,TRAIN,TEST,ACC" (D not yet added to the previous
// step).
func point(s string) (Point, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return Point{}, fmt.Errorf("%d fields, want 4", len(parts))
	}
	d, err := strconv.ParseUint(parts[0], 10, 64)
	if err != nil || d == 0 {
		return Point{}, fmt.Errorf("step %q is not a positive number", parts[0])
	}
	var v [3]float32
	for i, t := range parts[1:] {
		f, err := strconv.ParseFloat(t, 32)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return Point{}, fmt.Errorf("value %q is not a number", t)
		}
		v[i] = float32(f)
	}
	return Point{Step: d, Train: v[0], Test: v[1], Accuracy: v[2]}, nil
}
