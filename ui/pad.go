package ui

import (
	"strconv"

	"playground/internal/mathf"
	"playground/internal/pen"
	"playground/wasm/protocol"
)

// The drawing pad: draw a digit (pointer, pen or touch; or the keyboard)
// and see the digits model's class probabilities for it, computed in the
// worker from the state the page shows (the live one, or the time-
// travelled one).
//
// The strokes are inked as the digits generator inks its glyphs (the pen
// package): the drawing is centred and scaled to the training digits'
// size (its bounding box's centre at the image's, its height
// padHeight pixels, at most padWidth wide), then drawn with a pen of the
// generator's mean width. The pad itself shows the strokes where they were
// drawn; "what the model sees" shows the model's input.

// Pad sizes, in pixels of the 28×28 grid.
const (
	PadSide   = pen.Side
	padPen    = 2.15 // the mean of the generator's pen widths, uniform in [1.5, 2.8]
	padHeight = 17   // the generator's glyphs: 0.9 of a 20-pixel box scaled by 0.8–1.1
	padWidth  = 22   // so that a wide drawing keeps off the edges
)

// padPoint is a point of a stroke in grid coordinates (pixel i covers
// [i, i+1)).
type padPoint struct{ X, Y float32 }

// PadState is the drawing and the last prediction for it.
type PadState struct {
	strokes [][]padPoint // one point alone is a dot (the keyboard's pixels)
	drawing bool         // a pointer is down
	CurX    int          // the keyboard's cursor
	CurY    int
	Input   []float32 // the model's input (PadSide² pixels in [0, 1]); nil when blank
	Shown   []float32 // the strokes as drawn, for the pad
	version int       // changes with the drawing
	painted int
	Result  *protocol.Predict // the answer for the current drawing and state
	asked   int               // the version of the request in flight
	seq     int64             // the CmdPredict in flight (0: none)
	Err     string            // the last request failed: why
	Focused bool              // the pad has the keyboard: its cursor shows
}

// PadOn says whether the pad applies: the active run is a digits model.
func (a *App) PadOn() bool {
	return a.Spec != nil && a.Spec.Dataset.Kind == "digits" && a.Run != ""
}

// PadDown starts a stroke at (x, y), in fractions of the pad's side.
func (a *App) PadDown(x, y float64) {
	p := &a.Pad
	p.drawing = true
	p.strokes = append(p.strokes, []padPoint{padAt(x, y)})
	a.padChanged()
}

// PadMove continues the stroke while the pointer is down.
func (a *App) PadMove(x, y float64) {
	p := &a.Pad
	if !p.drawing || len(p.strokes) == 0 {
		return
	}
	s := &p.strokes[len(p.strokes)-1]
	q := padAt(x, y)
	if last := (*s)[len(*s)-1]; last == q {
		return
	}
	*s = append(*s, q)
	a.padChanged()
}

// PadUp ends the stroke.
func (a *App) PadUp() { a.Pad.drawing = false }

// PadClear wipes the drawing.
func (a *App) PadClear() {
	p := a.Pad
	a.Pad = PadState{CurX: p.CurX, CurY: p.CurY, Focused: p.Focused, version: p.version, painted: p.painted, seq: p.seq}
	a.padChanged()
}

// PadKey handles a key on the focused pad: arrows move the cursor, space
// or Enter toggles the pixel under it, Delete or Backspace clears. It
// says whether the key was the pad's.
func (a *App) PadKey(key string) bool {
	p := &a.Pad
	moves := map[string][2]int{"ArrowLeft": {-1, 0}, "ArrowRight": {1, 0}, "ArrowUp": {0, -1}, "ArrowDown": {0, 1}}
	switch {
	case moves[key] != [2]int{}:
		m := moves[key]
		p.CurX = min(max(p.CurX+m[0], 0), PadSide-1)
		p.CurY = min(max(p.CurY+m[1], 0), PadSide-1)
		p.version++ // the cursor is drawn on the pad
		return true
	case key == " " || key == "Enter":
		a.padToggle()
		return true
	case key == "Delete" || key == "Backspace":
		a.PadClear()
		return true
	}
	return false
}

// padToggle adds a dot at the cursor, or removes the one there.
func (a *App) padToggle() {
	p := &a.Pad
	dot := padPoint{float32(p.CurX) + 0.5, float32(p.CurY) + 0.5}
	for i, s := range p.strokes {
		if len(s) == 1 && s[0] == dot {
			p.strokes = append(p.strokes[:i:i], p.strokes[i+1:]...)
			a.padChanged()
			return
		}
	}
	p.strokes = append(p.strokes, []padPoint{dot})
	a.padChanged()
}

func padAt(x, y float64) padPoint {
	c := func(v float64) float32 { return float32(min(max(v, 0), 1) * PadSide) }
	return padPoint{c(x), c(y)}
}

// padChanged inks the drawing anew and asks for its prediction.
func (a *App) padChanged() {
	p := &a.Pad
	p.version++
	p.Result = nil
	if len(p.strokes) == 0 {
		p.Input, p.Shown = nil, nil
		return
	}
	p.Shown = inkStrokes(p.strokes, 1, 0, 0)
	scale, tx, ty := padFit(p.strokes)
	p.Input = inkStrokes(p.strokes, scale, tx, ty)
	a.padAsk()
}

// padFit is the scale and translation that centre the strokes' bounding
// box in the image at the training digits' size.
func padFit(strokes [][]padPoint) (scale, tx, ty float32) {
	lo := padPoint{PadSide, PadSide}
	var hi padPoint
	for _, s := range strokes {
		for _, q := range s {
			lo = padPoint{min(lo.X, q.X), min(lo.Y, q.Y)}
			hi = padPoint{max(hi.X, q.X), max(hi.Y, q.Y)}
		}
	}
	w, h := hi.X-lo.X, hi.Y-lo.Y
	scale = 1
	if h > 0 || w > 0 {
		scale = min(padHeight/max(h, 1e-3), padWidth/max(w, 1e-3))
	}
	tx = PadSide/2 - float32(float32(lo.X+hi.X)*0.5)*scale
	ty = PadSide/2 - float32(float32(lo.Y+hi.Y)*0.5)*scale
	return scale, tx, ty
}

// inkStrokes draws the strokes mapped by (scale, tx, ty) with the
// generator's pen.
func inkStrokes(strokes [][]padPoint, scale, tx, ty float32) []float32 {
	var c pen.Canvas
	c.Reset(padPen)
	at := func(q padPoint) (float32, float32) {
		return float32(q.X*scale) + tx, float32(q.Y*scale) + ty
	}
	for _, s := range strokes {
		ax, ay := at(s[0])
		if len(s) == 1 {
			c.Stroke(ax, ay, ax, ay)
		}
		for _, q := range s[1:] {
			bx, by := at(q)
			c.Stroke(ax, ay, bx, by)
			ax, ay = bx, by
		}
	}
	img := make([]float32, pen.Pixels)
	c.Ink(img)
	return img
}

// padAsk sends the drawing to the worker unless a request is in flight
// (its answer asks again if the drawing or the state moved on): of the
// time-travelled state while time travelling, else of the live one.
func (a *App) padAsk() {
	p := &a.Pad
	if p.Input == nil || p.seq != 0 || !a.PadOn() {
		return
	}
	c := protocol.Command{Type: protocol.CmdPredict, Input: p.Input}
	step := a.Step
	if a.Scrub.On {
		if !a.ScrubDone() {
			return // asked again when the replay is done
		}
		c.Travel, c.Run, c.At = true, a.Run, a.Scrub.Result.Step
		step = c.At
	}
	if r := p.Result; r != nil && r.Travel == c.Travel && r.Step == step && r.Run == a.Run {
		return // current
	}
	p.asked = p.version
	p.seq = a.send(c)
}

// predicted takes the worker's answer.
func (a *App) predicted(ev protocol.Event) {
	p := &a.Pad
	if ev.Seq == 0 || ev.Seq != p.seq {
		return
	}
	p.seq = 0
	if ev.Type == protocol.EvError {
		p.Err = ev.Message
		if p.asked != p.version {
			a.padAsk()
		}
		return
	}
	p.Err = ""
	if p.asked == p.version {
		p.Result = ev.Predict
	}
	a.padAsk()
}

// PadFocus shows or hides the keyboard's cursor.
func (a *App) PadFocus(on bool) {
	a.Pad.Focused = on
	a.Pad.version++
}

// PadProbs lists the classes with their probabilities, for the bars.
func (a *App) PadProbs() []PadProb {
	r := a.Pad.Result
	if r == nil || len(r.Outputs) < 2 {
		return nil
	}
	best := mathf.Argmax(r.Outputs)
	out := make([]PadProb, len(r.Outputs))
	for i, v := range r.Outputs {
		out[i] = PadProb{Class: i, P: v, Best: i == best, Text: strconv.FormatFloat(float64(v)*100, 'f', 1, 64) + "%"}
	}
	return out
}

// PadProb is one class's probability.
type PadProb struct {
	Class int
	P     float32
	Best  bool
	Text  string
}

// padRGBA paints a 28×28 image white on black, the cursor (when shown)
// outlined in the accent colour.
func padRGBA(img []float32, cursor int) []byte {
	rgba := make([]byte, 4*pen.Pixels)
	for i := range pen.Pixels {
		var v byte
		if img != nil {
			v = byte(pen.Clamp01(img[i])*255 + 0.5)
		}
		rgba[4*i], rgba[4*i+1], rgba[4*i+2], rgba[4*i+3] = v, v, v, 255
	}
	if cursor >= 0 {
		rgba[4*cursor], rgba[4*cursor+1], rgba[4*cursor+2] = 255, 140, 0
	}
	return rgba
}

// paintPad paints the pad and the model's input when they changed.
func (a *App) paintPad() {
	p := &a.Pad
	if p.painted == p.version {
		return
	}
	p.painted = p.version
	cursor := -1
	if p.Focused {
		cursor = p.CurY*PadSide + p.CurX
	}
	a.Host.Paint("pad", PadSide, PadSide, padRGBA(p.Shown, cursor))
	a.Host.Paint("pad-input", PadSide, PadSide, padRGBA(p.Input, -1))
}

// PadText says what the pad shows.
func (a *App) PadText() string {
	p := &a.Pad
	r := p.Result
	switch {
	case p.Input == nil:
		return "Draw a digit with the mouse, a pen or a finger, or focus the pad and use the arrow keys and space."
	case p.Err != "":
		return p.Err
	case r == nil:
		return "Asking the model…"
	}
	at := "The model at step " + Commas(r.Step)
	if r.Travel {
		at += " (time travel)"
	}
	return at + " reads a " + strconv.Itoa(mathf.Argmax(r.Outputs)) + "."
}
