//go:build js && wasm

// Package ui is the page's side of the page's wasm binary
// (wasm/playground): the vugu components of playground/ui rendered into
// the page by vugu's DOM renderer, on the main thread. The engine runs in
// the worker; web/app.js (loaded first, so training resumes before this
// program even starts) owns the worker and hands this program its events
// through `window.pgPage`. This program only renders: the events it gets,
// the commands it sends and the pictures it paints are all small.
package ui

import (
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall/js"
	"time"

	"playground/ui"
	"playground/wasm/protocol"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"
	vjs "github.com/vugu/vugu/js"
)

var (
	page     = js.Global().Get("pgPage")
	uint8Arr = js.Global().Get("Uint8Array")
	clamped  = js.Global().Get("Uint8ClampedArray")
)

// message is one worker event as app.js forwards it.
type message struct {
	json string
	data []byte
}

// Run renders the page until it goes away.
func Run() {
	// Collect less often: a collection stops the page's only thread.
	debug.SetGCPercent(400)
	renderer, err := domrender.New("#app")
	if err != nil {
		panic(err)
	}
	env, err := vugu.NewBuildEnv(renderer.EventEnv())
	if err != nil {
		panic(err)
	}
	ee := renderer.EventEnv()
	app := ui.NewApp(host{})
	lessonOptions(app)
	if js.Global().Get("__pgTimes").Truthy() { // ?debug=1
		js.Global().Set("__pgUnitMap", js.FuncOf(unitMapHook))
	}
	live := newPainter(app, ee)
	go applyEvents(app, ee, live, receive())
	// The status line says "saved 3 s ago": it changes with the clock,
	// painted at the source.
	go func() {
		for range time.Tick(time.Second) {
			ee.RLock()
			live.texts()
			ee.RUnlock()
		}
	}()
	renderLoop(renderer, env, app, live)
}

// lessonOptions applies the lesson options of the page's URL (hide,
// lock, embed, stepBy); a name it does not know goes to the log.
func lessonOptions(app *ui.App) {
	search := js.Global().Get("location").Get("search").String()
	l, err := ui.ParseLesson(search)
	app.Lesson = l
	if err != nil {
		app.Apply(protocol.Event{Type: ui.EvPageLog, Message: err.Error()}, nil)
	}
	q, _ := url.ParseQuery(strings.TrimPrefix(search, "?"))
	app.StepBatch = q.Get("stepBy") == "batch"
	if l.Embed {
		js.Global().Get("document").Get("documentElement").Get("classList").Call("add", "embed")
	}
}

// receive takes the worker's events from app.js (those it queued before
// the UI was up first) into a channel. A callback must not block: the
// channel's buffer absorbs a burst.
func receive() chan message {
	inbox := make(chan message, 256)
	receive := func(m js.Value) {
		msg := message{json: m.Get("json").String()}
		if b := m.Get("bytes"); b.Truthy() && b.InstanceOf(uint8Arr) {
			msg.data = make([]byte, b.Length())
			js.CopyBytesToGo(msg.data, b)
		}
		inbox <- msg
	}
	page.Set("onEvent", js.FuncOf(func(_ js.Value, args []js.Value) any {
		receive(args[0])
		return nil
	}))
	queued := page.Get("events")
	for i := range queued.Length() {
		receive(queued.Index(i))
	}
	page.Set("events", js.Global().Get("Array").New())
	return inbox
}

// applyEvents applies the events in one batch at most every renderEvery,
// so a burst of events costs one update. A batch of what a training run
// reports only (progress, pictures, checkpoints saved) is painted at the
// source (painter), unless the network diagram needs a new layout; any
// other event renders the page (a render costs the main thread tens of
// milliseconds). Clicks and keys render at once (vugu's own path).
func applyEvents(app *ui.App, ee vugu.EventEnv, live *painter, inbox chan message) {
	const renderEvery = 200 * time.Millisecond
	var last time.Time
	for m := range inbox {
		if wait := renderEvery - time.Since(last); wait > 0 {
			time.Sleep(wait)
		}
		ee.Lock()
		diagram := app.DiagramKey()
		u := apply(app, m)
		for len(inbox) > 0 {
			u = max(u, apply(app, <-inbox))
		}
		if app.DiagramKey() != diagram { // a new layout
			u = renderNow
		}
		if u == renderNow {
			ee.UnlockRender()
		} else {
			live.paint()
			ee.UnlockOnly()
		}
		last = time.Now()
	}
}

// renderLoop renders whenever the UI changed, then paints what is painted
// at the source (the pictures of canvases vugu made anew, and the rest).
func renderLoop(renderer *domrender.JSRenderer, env *vugu.BuildEnv, app *ui.App, live *painter) {
	root := &ui.Page{App: app}
	ee := renderer.EventEnv()
	for ok := true; ok; ok = renderer.EventWait() {
		t0 := time.Now()
		ee.RLock()
		built := env.RunBuild(root)
		ee.RUnlock()
		t1 := time.Now()
		if err := renderer.Render(built); err != nil {
			panic(err)
		}
		t2 := time.Now()
		for id := range images {
			draw(id)
		}
		ee.RLock()
		live.paint()
		ee.RUnlock()
		rendered(t0, t1, t2)
	}
}

// shown is the view the page painted last.
var shown atomic.Pointer[ui.ViewImage]

// unitMapHook is window.__pgUnitMap(L, I) (?debug=1): {run, step, text}
// of the map of unit I of layer L the page shows, text as `playground
// eval --grid L:I` prints it ("" without one); null before any view.
func unitMapHook(_ js.Value, args []js.Value) any {
	v := shown.Load()
	if v == nil || len(args) < 2 {
		return nil
	}
	return map[string]any{"run": v.Run, "step": float64(v.Step), "text": v.UnitMapText(args[0].Int(), args[1].Int())}
}

// rendered hands a render's build (t0 to t1), DOM sync (to t2) and paint
// (to now) times in ms to the benchmarks' hook, which the page defines with
// ?debug=1 only.
func rendered(t0, t1, t2 time.Time) {
	if hook := page.Get("rendered"); hook.Type() == js.TypeFunction {
		hook.Invoke(ms(t1.Sub(t0)), ms(t2.Sub(t1)), ms(time.Since(t2)))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// update is what a batch of events needs.
type update int

const (
	paintOnly update = iota // training reports: painted at the source
	renderNow
)

// apply applies one event and says what the page needs for it: a render
// for anything but a training report (progress, a view and its unit maps,
// a checkpoint saved).
func apply(app *ui.App, m message) update {
	ev, err := protocol.DecodeEvent([]byte(m.json))
	if err != nil {
		return paintOnly
	}
	app.Apply(ev, m.data)
	switch ev.Type {
	case protocol.EvProgress, protocol.EvView, protocol.EvUnits, protocol.EvSaved:
		return paintOnly
	}
	return renderNow
}

// host is ui.Host in the browser.
type host struct{}

func (host) Send(c protocol.Command) {
	page.Call("send", string(protocol.Encode(c)))
}

func (host) SendFile(c protocol.Command, input vjs.Value) {
	page.Call("sendFile", string(protocol.Encode(c)), js.Value(input))
}

func (host) SendBytes(c protocol.Command, b []byte) {
	u := uint8Arr.New(len(b))
	js.CopyBytesToJS(u, b)
	page.Call("sendBytes", string(protocol.Encode(c)), u)
}

func (host) SetQuery(q string) {
	loc := js.Global().Get("location")
	old, _ := url.ParseQuery(strings.TrimPrefix(loc.Get("search").String(), "?"))
	keep := url.Values{}
	for k, v := range old {
		if k != "preset" && !protocol.IsSpecKey(k) { // a spec replaces a preset
			keep[k] = v
		}
	}
	if rest := keep.Encode(); rest != "" {
		q += "&" + rest
	}
	js.Global().Get("history").Call("replaceState", nil, "", loc.Get("pathname").String()+"?"+q)
}

func (host) SetOption(k, v string) {
	loc := js.Global().Get("location")
	q, _ := url.ParseQuery(strings.TrimPrefix(loc.Get("search").String(), "?"))
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	js.Global().Get("history").Call("replaceState", nil, "", loc.Get("pathname").String()+"?"+q.Encode())
}

func (host) Link(q string) string {
	loc := js.Global().Get("location")
	return loc.Get("origin").String() + loc.Get("pathname").String() + "?" + q
}

// Load and Save go through app.js, which catches what localStorage
// throws: a page refused storage (a cross-site iframe with third-party
// storage blocked) throws on any use, a full one on a write (which only
// costs the chart its history).
func (host) Load(k string) string { return page.Call("load", k).String() }

func (host) Save(k, v string) { page.Call("trySet", k, v) }

func (host) Copy(text string) { page.Call("copy", text) }

// images holds the last picture painted into each canvas and the canvas
// it went into. The page's renderer leaves a canvas's size alone when it
// does not change (which would clear it), so after a render a picture goes
// back in only where vugu made a new canvas (one putImageData, no
// copying).
var images = map[string]*image{}

type image struct {
	data js.Value // ImageData
	px   js.Value // its pixels
	w, h int
	in   js.Value // the canvas it is in
}

// Paint reuses the canvas's last ImageData when the size is the same (the
// unit maps are painted with every view: no garbage for each).
func (host) Paint(id string, w, h int, rgba []byte) {
	img := images[id]
	if img == nil || img.w != w || img.h != h || img.px.Length() != len(rgba) {
		px := clamped.New(len(rgba))
		img = &image{data: js.Global().Get("ImageData").New(px, w, h), px: px, w: w, h: h}
		images[id] = img
	}
	js.CopyBytesToJS(img.px, rgba)
	img.in = js.Undefined()
	draw(id)
}

// draw puts canvas id's picture in if the canvas does not have it yet.
func draw(id string) {
	cv := js.Global().Get("document").Call("getElementById", id)
	if img := images[id]; cv.Truthy() && !cv.Equal(img.in) {
		cv.Call("getContext", "2d").Call("putImageData", img.data, 0, 0)
		img.in = cv
	}
}
