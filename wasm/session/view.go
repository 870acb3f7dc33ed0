package session

import (
	"math"
	"slices"

	"playground/engine"
	"playground/spec"
	"playground/wasm/protocol"
)

// What the page draws besides numbers: the decision-boundary grid (or
// sample digits with predictions) of a model, and a fine loss curve.

// GridSide is the side of the heat-map grid: 2,500 forward passes, about
// a millisecond of the worker's time, a few times per second.
const GridSide = 50

// digitSamples is how many test digits a digits view shows.
const digitSamples = 12

// ext is the session state of the page's pictures and of time travel.
type ext struct {
	curve    []float32 // training loss per step since the last progress report
	viewRun  string    // the run and step of the last view posted
	viewStep uint64
	viewed   bool

	// What a view computes of the dataset alone, for the last dataset
	// viewed: the featurized grid points and the value range, or the
	// sample digits' pixels.
	viewData       *engine.Dataset
	grid           []float32
	gridLo, gridHi float64
	digitPixels    []byte

	scrub *scrubJob // time travel in progress
	side  *scrubJob // the last finished one, reused when the next continues it
}

// takeCurve turns the per-step losses since the last report into at most
// protocol.CurvePoints spans of equal length ending at step, and returns
// their sum (added in step order) and count too.
func (s *Session) takeCurve(step uint64) (curve [][2]float64, total float64, n int) {
	n = len(s.curve)
	if n == 0 {
		return nil, 0, 0
	}
	k := min(n, protocol.CurvePoints)
	out := make([][2]float64, 0, k)
	for j := 0; j < k; j++ {
		lo, hi := j*n/k, (j+1)*n/k
		var sum float64
		for _, l := range s.curve[lo:hi] {
			sum += float64(l)
			total += float64(l)
		}
		m := sum / float64(hi-lo)
		if math.IsNaN(m) || math.IsInf(m, 0) {
			continue
		}
		out = append(out, [2]float64{float64(step - uint64(n-hi)), m})
	}
	s.curve = s.curve[:0]
	return out, total, n
}

// postView posts the active model's view unless it was posted for this
// run and step already.
func (s *Session) postView() {
	tr := s.tr
	if tr == nil || !s.owner || (s.viewed && s.viewRun == s.run && s.viewStep == tr.Step) {
		return
	}
	v, data := s.view(tr, s.run)
	s.viewRun, s.viewStep, s.viewed = s.run, tr.Step, true
	s.env.Emit(protocol.Event{Type: protocol.EvView, View: v}, data)
}

// viewDataset computes what views need of d alone.
func (s *Session) viewDataset(d *engine.Dataset) {
	s.viewData = d
	if d.Train.Points == nil { // digits
		n := min(digitSamples, d.Test.N)
		s.digitPixels = make([]byte, n*d.Inputs)
		for i, p := range d.Test.X[:n*d.Inputs] {
			s.digitPixels[i] = byte(min(max(p, 0), 1)*255 + 0.5)
		}
		return
	}
	s.gridLo, s.gridHi = 0, 1
	if d.Classes == 0 { // regression: the range of the targets
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, y := range d.Train.Label {
			lo, hi = min(lo, y), max(hi, y)
		}
		s.gridLo, s.gridHi = float64(lo), float64(hi)
	}
	const n = GridSide * GridSide
	s.grid = make([]float32, n*d.Inputs)
	step := float32(2*spec.Domain) / GridSide
	for r := 0; r < GridSide; r++ {
		y := float32(spec.Domain) - (float32(r)+0.5)*step
		for c := 0; c < GridSide; c++ {
			x := -float32(spec.Domain) + (float32(c)+0.5)*step
			i := r*GridSide + c
			engine.Featurize(s.grid[i*d.Inputs:(i+1)*d.Inputs], d.Features, x, y)
		}
	}
}

// view computes what the model of tr makes of its input space. It only
// reads the parameters: training goes on exactly as without it.
func (s *Session) view(tr *engine.Trainer, run string) (*protocol.View, []byte) {
	v := &protocol.View{Run: run, Step: tr.Step}
	d := tr.Data
	if s.viewData != d {
		s.viewDataset(d)
	}
	if d.Train.Points == nil { // digits
		n := min(digitSamples, d.Test.N)
		v.Kind, v.Side = protocol.ViewDigits, spec.DigitSize
		data := slices.Clone(s.digitPixels)
		out := tr.Predict(d.Test.X[:n*d.Inputs], n)
		for i := 0; i < n; i++ {
			row := out[i*d.Outputs : (i+1)*d.Outputs]
			best := 0
			for c, p := range row {
				if p > row[best] {
					best = c
				}
			}
			v.Labels = append(v.Labels, int(d.Test.Label[i]))
			v.Predicted = append(v.Predicted, best)
		}
		return v, data
	}
	v.Kind, v.W, v.H, v.Domain = protocol.ViewGrid, GridSide, GridSide, spec.Domain
	v.Lo, v.Hi = s.gridLo, s.gridHi
	const n = GridSide * GridSide
	data := make([]byte, n)
	scale := 255 / max(v.Hi-v.Lo, 1e-9)
	const chunk = 250 // the batch size the trainer's buffers already fit
	for lo := 0; lo < n; lo += chunk {
		out := tr.Model.Forward(s.grid[lo*d.Inputs:], chunk)
		for i, p := range out[:chunk] {
			data[lo+i] = byte(min(max((float64(p)-v.Lo)*scale, 0), 255) + 0.5)
		}
	}
	return v, data
}
