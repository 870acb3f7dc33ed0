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
	go applyEvents(app, ee, receive())
	// The status line says "saved 3 s ago": it changes with the clock.
	go func() {
		for range time.Tick(time.Second) {
			ee.Lock()
			ee.UnlockRender()
		}
	}()
	renderLoop(renderer, env, app)
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

// applyEvents applies the events in one batch per render, so a burst of
// events costs one render, and at most one render per renderEvery for the
// worker's events (a few a second each): a render costs the main thread
// milliseconds. Clicks and keys render at once (vugu's own path).
func applyEvents(app *ui.App, ee vugu.EventEnv, inbox chan message) {
	const renderEvery = 200 * time.Millisecond
	var last time.Time
	for m := range inbox {
		if wait := renderEvery - time.Since(last); wait > 0 {
			time.Sleep(wait)
		}
		ee.Lock()
		apply(app, m)
		for len(inbox) > 0 {
			apply(app, <-inbox)
		}
		ee.UnlockRender()
		last = time.Now()
	}
}

// renderLoop renders whenever the UI changed and puts the canvases'
// pictures back.
func renderLoop(renderer *domrender.JSRenderer, env *vugu.BuildEnv, app *ui.App) {
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
		app.Paint()
		ee.RUnlock()
		rendered(t0, t1, t2)
	}
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

func apply(app *ui.App, m message) {
	ev, err := protocol.DecodeEvent([]byte(m.json))
	if err != nil {
		return
	}
	app.Apply(ev, m.data)
}

// host is ui.Host in the browser.
type host struct{}

func (host) Send(c protocol.Command) {
	page.Call("send", string(protocol.Encode(c)))
}

func (host) Import(input vjs.Value) {
	page.Call("importFile", js.Value(input))
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

func (host) Link(q string) string {
	loc := js.Global().Get("location")
	return loc.Get("origin").String() + loc.Get("pathname").String() + "?" + q
}

func (host) Load(k string) string {
	v := js.Global().Get("localStorage").Call("getItem", k)
	if v.IsNull() || v.IsUndefined() {
		return ""
	}
	return v.String()
}

func (host) Save(k, v string) {
	ls := js.Global().Get("localStorage")
	if v == "" {
		ls.Call("removeItem", k)
		return
	}
	// A full storage only costs the chart its history.
	page.Call("trySet", k, v)
}

func (host) Copy(text string) { page.Call("copy", text) }

// images holds the last picture painted into each canvas. vugu sets every
// attribute it renders on every render, and setting a canvas's size, even
// to the same value, clears it: after each render the pictures go back in
// (one putImageData each, no copying).
var images = map[string]js.Value{}

func (host) Paint(id string, w, h int, rgba []byte) {
	px := clamped.New(len(rgba))
	js.CopyBytesToJS(px, rgba)
	images[id] = js.Global().Get("ImageData").New(px, w, h)
	draw(id)
}

func draw(id string) {
	cv := js.Global().Get("document").Call("getElementById", id)
	if img := images[id]; cv.Truthy() {
		cv.Call("getContext", "2d").Call("putImageData", img, 0, 0)
	}
}
