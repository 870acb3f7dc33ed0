package session

import (
	"math"
	"playground/internal/mathf"
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
	pictured       bool      // the dataset has a picture: digits or a plane
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

// dataset computes what views need of d, the dataset of spec s, alone.
func (v *viewer) dataset(s spec.Spec, d *engine.Dataset) {
	v.data, v.grid, v.digitPixels = d, nil, nil
	pl, isPlane := planeOf(s, d)
	v.pictured = isPlane || s.Dataset.Kind == "digits"
	if !isPlane {
		if !v.pictured {
			return
		}
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
			pl.featurize(v.grid[i*d.Inputs:(i+1)*d.Inputs], d.Features, x, y)
		}
	}
}

// view computes what the model of tr makes of its input space. It only
// reads the parameters: training goes on exactly as without it.
func (vw *viewer) of(tr *engine.Trainer, run string) (*protocol.View, []byte) {
	d := tr.Data
	if vw.data != d {
		vw.dataset(tr.Spec, d)
	}
	v := &protocol.View{Run: run, Step: tr.Step, Net: netOf(tr, vw.pictured && vw.grid != nil)}
	if !vw.pictured {
		v.Kind = protocol.ViewNone // the numbers only
		return v, nil
	}
	if vw.grid == nil { // digits
		n := min(digitSamples, d.Test.N)
		v.Kind, v.Side = protocol.ViewDigits, spec.DigitSize
		data := slices.Clone(vw.digitPixels)
		out := tr.Predict(d.Test.X[:n*d.Inputs], n)
		for i := 0; i < n; i++ {
			v.Labels = append(v.Labels, int(d.Test.Label[i]))
			v.Predicted = append(v.Predicted, mathf.Argmax(out[i*d.Outputs:(i+1)*d.Outputs]))
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
		if d.Outputs > 1 { // more than two classes: the one predicted
			v.Classes = d.Outputs
			for i := range chunk {
				data[lo+i] = byte(mathf.Argmax(out[i*d.Outputs : (i+1)*d.Outputs]))
			}
		} else {
			for i, p := range out[:chunk] {
				data[lo+i] = byte(min(max((float64(p)-v.Lo)*scale, 0), 255) + 0.5)
			}
		}
		maps.take(tr.Model, lo, chunk)
	}
	v.Net.Maps = maps.bytes()
	return v, data
}

// plane maps the coordinates of a 2-D dataset to the page's square
// [-Domain, Domain]²: the page shows (v - c) · scale. Generated sets live
// in that square already; two-feature custom data is centred and scaled
// into it.
type plane struct {
	custom        bool
	cx, cy, scale float32
}

// planeOf is s's plane, and whether its dataset d has one.
func planeOf(s spec.Spec, d *engine.Dataset) (plane, bool) {
	kind, _ := spec.Dataset(s.Dataset.Kind)
	switch {
	case kind.TwoD:
		return plane{scale: 1}, true
	case s.Dataset.Kind != spec.CustomKind || d.Inputs != 2:
		return plane{}, false
	}
	lo := [2]float32{float32(math.Inf(1)), float32(math.Inf(1))}
	hi := [2]float32{float32(math.Inf(-1)), float32(math.Inf(-1))}
	for _, x := range [][]float32{d.Train.X, d.Test.X} {
		for i, v := range x {
			lo[i%2], hi[i%2] = min(lo[i%2], v), max(hi[i%2], v)
		}
	}
	half := max(hi[0]-lo[0], hi[1]-lo[1]) * 0.55 // a margin of 10%
	if !(half > 0) || math.IsInf(float64(half), 0) {
		half = 1
	}
	return plane{custom: true, cx: (lo[0] + hi[0]) / 2, cy: (lo[1] + hi[1]) / 2, scale: spec.Domain / half}, true
}

// axes says what the square shows of custom data whose features are
// named names (nil for a generated set).
func (p plane) axes(names []string) *protocol.Axes {
	if !p.custom || len(names) != 2 {
		return nil
	}
	half := float64(spec.Domain / p.scale)
	return &protocol.Axes{
		X: names[0], Y: names[1],
		XLo: float64(p.cx) - half, XHi: float64(p.cx) + half,
		YLo: float64(p.cy) - half, YHi: float64(p.cy) + half,
	}
}

// featurize writes the model's input at the page's point (x, y).
func (p plane) featurize(dst []float32, features []string, x, y float32) {
	if !p.custom {
		engine.Featurize(dst, features, x, y)
		return
	}
	dst[0], dst[1] = x/p.scale+p.cx, y/p.scale+p.cy
}

// point is the page's point of a sample: its 2-D point, or its two
// features (x holds them).
func (p plane) point(x []float32, pt [2]float32) (float32, float32) {
	if !p.custom {
		return pt[0], pt[1]
	}
	return (x[0] - p.cx) * p.scale, (x[1] - p.cy) * p.scale
}
