package session

import (
	"math"
	"slices"

	"playground/engine"
	"playground/spec"
	"playground/wasm/protocol"
)

// What the page draws besides numbers: the decision-boundary grid (or
// sample digits with predictions) of a model. (The fine loss curve is the
// runner's, in its progress reports.)

// GridSide is the side of the heat-map grid (TensorFlow Playground's
// 100×100): 10,000 forward passes, a few milliseconds of the worker's
// time, a few times per second.
const GridSide = 100

// digitSamples is how many test digits a digits view shows.
const digitSamples = 12

// viewer computes what the page draws of a model, keeping what a view
// computes of the dataset alone (for the last dataset viewed) and which
// view of the active run it posted last. The loop owns it.
type viewer struct {
	run    string // the run and step of the last view posted
	step   uint64
	posted bool

	data           *engine.Dataset
	grid           []float32 // the featurized grid points
	gridLo, gridHi float64   // the value range
	digitPixels    []byte    // the sample digits' pixels
}

// post posts tr's view as run's unless it was posted for this run and
// step already.
func (v *viewer) post(tr *engine.Trainer, run string, emit func(protocol.Event, []byte)) {
	if v.posted && v.run == run && v.step == tr.Step {
		return
	}
	view, data := v.of(tr, run)
	v.run, v.step, v.posted = run, tr.Step, true
	emitView(emit, protocol.Event{Type: protocol.EvView, View: view}, data)
}

// dataset computes what views need of d alone.
func (v *viewer) dataset(d *engine.Dataset) {
	v.data = d
	if d.Train.Points == nil { // digits
		n := min(digitSamples, d.Test.N)
		v.digitPixels = make([]byte, n*d.Inputs)
		for i, p := range d.Test.X[:n*d.Inputs] {
			v.digitPixels[i] = byte(min(max(p, 0), 1)*255 + 0.5)
		}
		return
	}
	v.gridLo, v.gridHi = 0, 1
	if d.Classes == 0 { // regression: the range of the targets
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, y := range d.Train.Label {
			lo, hi = min(lo, y), max(hi, y)
		}
		v.gridLo, v.gridHi = float64(lo), float64(hi)
	}
	const n = GridSide * GridSide
	v.grid = make([]float32, n*d.Inputs)
	step := float32(2*spec.Domain) / GridSide
	for r := 0; r < GridSide; r++ {
		y := float32(spec.Domain) - (float32(r)+0.5)*step
		for c := 0; c < GridSide; c++ {
			x := -float32(spec.Domain) + (float32(c)+0.5)*step
			i := r*GridSide + c
			engine.Featurize(v.grid[i*d.Inputs:(i+1)*d.Inputs], d.Features, x, y)
		}
	}
}

// view computes what the model of tr makes of its input space. It only
// reads the parameters: training goes on exactly as without it.
func (vw *viewer) of(tr *engine.Trainer, run string) (*protocol.View, []byte) {
	v := &protocol.View{Run: run, Step: tr.Step, Net: netOf(tr)}
	d := tr.Data
	if vw.data != d {
		vw.dataset(d)
	}
	if d.Train.Points == nil { // digits
		n := min(digitSamples, d.Test.N)
		v.Kind, v.Side = protocol.ViewDigits, spec.DigitSize
		data := slices.Clone(vw.digitPixels)
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
		v.Net.Maps = newUnitMaps(v.Net, tr.Model, nil).bytes()
		return v, data
	}
	v.Kind, v.W, v.H, v.Domain = protocol.ViewGrid, GridSide, GridSide, spec.Domain
	v.Lo, v.Hi = vw.gridLo, vw.gridHi
	const n = GridSide * GridSide
	data := make([]byte, n)
	scale := 255 / max(v.Hi-v.Lo, 1e-9)
	maps := newUnitMaps(v.Net, tr.Model, vw.grid)
	const chunk = 250 // the batch size the trainer's buffers already fit
	for lo := 0; lo < n; lo += chunk {
		out := tr.Model.Forward(vw.grid[lo*d.Inputs:], chunk)
		for i, p := range out[:chunk] {
			data[lo+i] = byte(min(max((float64(p)-v.Lo)*scale, 0), 255) + 0.5)
		}
		maps.take(tr.Model, lo, chunk)
	}
	v.Net.Maps = maps.bytes()
	return v, data
}
