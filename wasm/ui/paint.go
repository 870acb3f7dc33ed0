//go:build js && wasm

package ui

import (
	"bytes"
	"strconv"
	"syscall/js"

	"playground/ui"

	"github.com/vugu/vugu"
)

// painter paints at the source what changes while a run trains: the step,
// the metrics, the status line's clock, the digits' labels, the canvases
// (ui.App.Paint) and the loss chart (ui.App.ChartSVG, into the chart's
// box, which the templates leave empty). Each write happens only when its
// value changed. The caller holds the event environment's lock.
type painter struct {
	app        *ui.App
	doc        js.Value
	chart      filled        // the loss chart's SVG
	rows, runs filled        // the timeline's checkpoints and runs
	shapesOf   *ui.ViewImage // the view whose diagram shapes are painted
	shapeBuf   []byte        // what setShapes was given last, reused
}

// filled is a box whose whole content is painted: what it was given last.
type filled struct {
	html, buf []byte
	box       js.Value
}

// fill makes the content of the element with id the markup add makes,
// when it changed (or the element is new: a render made it anew, empty):
// keyed, keeping the children that did not change (app.js's fillKeyed),
// else all of it at once.
func (p *painter) fill(f *filled, id string, keyed bool, add func([]byte) []byte) {
	box := p.doc.Call("getElementById", id)
	if !box.Truthy() {
		return
	}
	f.buf = add(f.buf[:0])
	if bytes.Equal(f.buf, f.html) && box.Equal(f.box) && (len(f.buf) == 0 || box.Get("firstChild").Truthy()) {
		return
	}
	if keyed {
		page.Call("fillKeyed", id, string(f.buf))
	} else {
		box.Set("innerHTML", string(f.buf))
	}
	f.html, f.buf, f.box = f.buf, f.html, box
}

func newPainter(app *ui.App, ee vugu.EventEnv) *painter {
	p := &painter{app: app, doc: js.Global().Get("document")}
	// A checkpoint's mark on the chart selects it and travels there; the
	// timeline's painted buttons do what their data-act says. app.js
	// picks those out (pgPage.onAct): a Go callback on every click
	// would let a pending render run inside the browser's click, between
	// a checkbox's toggle and its change event, and undo the toggle.
	page.Set("onAct", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) < 4 {
			return nil
		}
		act, run, id := args[0].String(), args[1].String(), args[2].String()
		step, _ := strconv.ParseUint(args[3].String(), 10, 64)
		go func() { // the callback must not block on the lock
			ee.Lock()
			app.Act(act, run, id, step)
			ee.UnlockRender()
		}()
		return nil
	}))
	return p
}

// paint paints everything painted at the source.
func (p *painter) paint() {
	p.texts()
	p.shapes()
	p.app.Paint()
	shown.Store(p.app.ScrubView())
	p.fill(&p.chart, "chart", false, p.app.AppendChart)
	p.fill(&p.rows, "checkpoints", true, p.app.AppendCheckpointRows)
	p.fill(&p.runs, "runs", true, p.app.AppendRunRows)
}

// texts writes the live texts and the digits' labels.
func (p *painter) texts() {
	for _, t := range p.app.LiveTexts() {
		setText(p.doc.Call("querySelector", "[data-testid="+t.ID+"]"), t)
	}
	preds := p.app.LivePreds()
	if len(preds) == 0 {
		return
	}
	els := p.doc.Call("querySelectorAll", "[data-testid=digit-pred]")
	if els.Length() != len(preds) {
		return // the next render lays them out
	}
	for i, t := range preds {
		setText(els.Index(i), t)
	}
}

func setText(el js.Value, t ui.LiveText) {
	if !el.Truthy() {
		return
	}
	if el.Get("textContent").String() != t.Text {
		el.Set("textContent", t.Text)
	}
	if t.Class != "" && el.Get("className").String() != t.Class {
		el.Set("className", t.Class)
	}
}

// shapes paints the network diagram's links and biases, once per view,
// in one call (app.js's setShapes). A render draws the same (the
// templates show the same diagram), so after one the view's shapes are
// already there.
func (p *painter) shapes() {
	v := p.app.ScrubView()
	if v == p.shapesOf {
		return
	}
	p.shapesOf = v
	b := p.shapeBuf[:0]
	for i, sh := range p.app.LiveShapes() {
		if i > 0 {
			b = append(b, 0x1e)
		}
		for j, f := range []string{sh.ID, sh.D, sh.Fill, sh.Label} {
			if j > 0 {
				b = append(b, 0x1f)
			}
			b = append(b, f...)
		}
	}
	p.shapeBuf = b
	if len(b) > 0 {
		page.Call("setShapes", string(b))
	}
}
