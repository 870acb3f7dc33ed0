package ui

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"playground/spec"
	"playground/wasm/protocol"
)

// The output pictures: the decision-boundary heat map (a small grid the
// worker computes, scaled up by the browser), the data points over it, and
// the strip of sample digits. Pixels are made here, in Go, and blitted
// into canvases by the host in one call each.

// ViewImage is a View with its bytes.
type ViewImage struct {
	protocol.View
	Data []byte
}

// NewViewImage checks a view's bytes against its size (nil if they do
// not fit).
func NewViewImage(v *protocol.View, data []byte) *ViewImage {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case protocol.ViewGrid:
		if v.W <= 0 || v.H <= 0 || len(data) != v.W*v.H {
			return nil
		}
	case protocol.ViewDigits:
		if v.Side <= 0 || len(v.Labels) != len(v.Predicted) || len(data) != len(v.Labels)*v.Side*v.Side {
			return nil
		}
	default:
		return nil
	}
	vi := &ViewImage{View: *v, Data: data}
	if n := v.Net; n != nil && (n.MapBytes() < 0 || len(n.Layers) == 0 || len(n.Maps) != 0 && len(n.Maps) != n.MapBytes()) {
		vi.Net = nil // a malformed network: the output alone
	}
	return vi
}

// withMaps is v with the unit maps of an EvUnits, if they are v's (its
// run and step, the size its network needs); else v itself.
func (v *ViewImage) withMaps(u *protocol.Units, maps []byte) *ViewImage {
	if v == nil || u == nil || v.Net == nil || v.Run != u.Run || v.Step != u.Step || v.Net.MapBytes() != len(maps) {
		return v
	}
	net := *v.Net
	net.Maps = maps
	nv := *v
	nv.Net = &net
	return &nv
}

// TensorFlow Playground's colors: orange for negative (class 0), blue for
// positive (class 1), near-white between.
var (
	colNeg = [3]float64{245, 147, 34}
	colMid = [3]float64{232, 234, 235}
	colPos = [3]float64{8, 119, 189}
)

// classColors color the classes of more than two: class 0 and 1 as
// above, then others, in turn.
var classColors = [][3]float64{colNeg, colPos, {46, 160, 67}, {142, 68, 173}, {214, 39, 40}, {23, 190, 207}, {140, 86, 75}, {188, 189, 34}}

// classColor is class k's color, lightened towards white by light.
func classColor(k int, light float64) (r, g, b byte) {
	c := classColors[k%len(classColors)]
	for i := range c {
		c[i] += (255 - c[i]) * light
	}
	return byte(c[0] + 0.5), byte(c[1] + 0.5), byte(c[2] + 0.5)
}

// color maps t in [-1, 1] to a color, lightened towards white by light.
func color(t, light float64) (r, g, b byte) {
	t = min(max(t, -1), 1)
	var c [3]float64
	for i := range c {
		if t < 0 {
			c[i] = colMid[i] + (colNeg[i]-colMid[i])*-t
		} else {
			c[i] = colMid[i] + (colPos[i]-colMid[i])*t
		}
		c[i] += (255 - c[i]) * light
	}
	return byte(c[0] + 0.5), byte(c[1] + 0.5), byte(c[2] + 0.5)
}

// HeatSize is the side of the heat map's canvas, the worker's grid at
// its finest (100×100, TensorFlow Playground's): a coarser grid is
// enlarged bilinearly, and the browser scales the canvas smoothly. Canvas
// sizes are fixed in the templates: resizing a canvas clears it.
const HeatSize = 100

// GridRGBA colors a grid view at HeatSize×HeatSize pixels.
func (v *ViewImage) GridRGBA() []byte { return v.gridRGBA(false) }

// DiscreteRGBA is GridRGBA with each pixel colored by the side of the
// middle it is on (TensorFlow Playground's "discretize output").
func (v *ViewImage) DiscreteRGBA() []byte { return v.gridRGBA(true) }

func (v *ViewImage) gridRGBA(discrete bool) []byte {
	if v.Classes > 2 {
		return v.classRGBA()
	}
	tone := func(q float64) float64 { return q/127.5 - 1 }
	if discrete {
		tone = func(q float64) float64 { return math.Copysign(1, q/127.5-1) }
	}
	return enlarge(v.W, v.H, func(i int) float64 { return float64(v.Data[i]) }, tone)
}

// classRGBA colors a grid of more than two classes: each pixel the color
// of the class the model predicts at the nearest grid point.
func (v *ViewImage) classRGBA() []byte {
	const n = HeatSize
	rgba := make([]byte, 4*n*n)
	sx, sy := float64(v.W)/n, float64(v.H)/n
	for py := 0; py < n; py++ {
		y := min(max(int(math.Round((float64(py)+0.5)*sy-0.5)), 0), v.H-1)
		for px := 0; px < n; px++ {
			x := min(max(int(math.Round((float64(px)+0.5)*sx-0.5)), 0), v.W-1)
			r, g, b := classColor(int(v.Data[y*v.W+x]), 0.55)
			i := 4 * (py*n + px)
			rgba[i], rgba[i+1], rgba[i+2], rgba[i+3] = r, g, b, 255
		}
	}
	return rgba
}

// enlarge colors a w×h grid at HeatSize×HeatSize pixels, interpolating
// its values (at) bilinearly, tone mapping them to the palette's [-1, 1].
func enlarge(w, h int, at func(i int) float64, tone func(float64) float64) []byte {
	const n = HeatSize
	rgba := make([]byte, 4*n*n)
	px := func(x, y int) float64 {
		x, y = min(max(x, 0), w-1), min(max(y, 0), h-1)
		return at(y*w + x)
	}
	sx, sy := float64(w)/n, float64(h)/n
	for py := 0; py < n; py++ {
		fy := (float64(py)+0.5)*sy - 0.5
		y0 := int(math.Floor(fy))
		ty := fy - float64(y0)
		for pxl := 0; pxl < n; pxl++ {
			fx := (float64(pxl)+0.5)*sx - 0.5
			x0 := int(math.Floor(fx))
			tx := fx - float64(x0)
			q := (px(x0, y0)*(1-tx)+px(x0+1, y0)*tx)*(1-ty) + (px(x0, y0+1)*(1-tx)+px(x0+1, y0+1)*tx)*ty
			t := tone(q)
			if math.IsNaN(t) {
				t = 0
			}
			r, g, b := color(t, 0.4)
			i := 4 * (py*n + pxl)
			rgba[i], rgba[i+1], rgba[i+2], rgba[i+3] = r, g, b, 255
		}
	}
	return rgba
}

// DigitSlots and DigitSide fix the digits strip's canvas: DigitSlots
// images of DigitSide² pixels, a pixel apart.
const (
	DigitSlots = 12
	DigitSide  = 28
	DigitsW    = DigitSlots*(DigitSide+1) - 1
)

// DigitsRGBA lays a digits view out as the strip (DigitsW × DigitSide).
func (v *ViewImage) DigitsRGBA() []byte {
	rgba := make([]byte, 4*DigitsW*DigitSide)
	side := min(v.Side, DigitSide)
	for k := 0; k < min(len(v.Labels), DigitSlots); k++ {
		img := v.Data[k*v.Side*v.Side:]
		for y := 0; y < side; y++ {
			for x := 0; x < side; x++ {
				p := 4 * (y*DigitsW + k*(DigitSide+1) + x)
				g := img[y*v.Side+x]
				rgba[p], rgba[p+1], rgba[p+2], rgba[p+3] = g, g, g, 255
			}
		}
	}
	return rgba
}

// Correct says whether the model got sample i of a digits view right.
func (v *ViewImage) Correct(i int) bool { return v.Predicted[i] == v.Labels[i] }

// PointsSize is the side of the data points' canvas.
const PointsSize = 400

// pointsCache holds the draft's data points: the worker generates them
// (CmdData), the UI only draws them.
type pointsCache struct {
	asked   string // the data key last asked for
	seq     int64  // its CmdData
	key     string // the data key data holds
	data    []byte // the worker's answer: train points, then test points
	train   int
	classes int
	axes    *protocol.Axes
	drawn   string // the data key and options rgba shows
	rgba    []byte
	painted string
}

// dataKey identifies the data of a spec: they depend on its data seed
// and dataset only.
func dataKey(s spec.Spec) string {
	b, _ := json.Marshal(s.Dataset)
	return strconv.FormatUint(s.DataSeed(), 10) + string(b)
}

// PointsRGBA draws the draft's 2-D data (nil for digits): each point a
// disc in its class color, training points outlined white, test points
// dark. The worker sends the points (CmdData, asked here once per
// dataset); until its first answer the canvas is blank, and until a newer
// answer it keeps the last data drawn.
func (a *App) PointsRGBA() (key string, rgba []byte) {
	s := a.Draft
	if a.DraftErr != "" || !a.TwoD() {
		return "", nil
	}
	pc := &a.points
	key = dataKey(s)
	if pc.key == key {
		drawn := fmt.Sprint(key, a.ShowTest)
		if pc.drawn != drawn {
			pc.rgba, pc.drawn = drawPoints(pc.data, pc.train, pc.classes, a.ShowTest), drawn
		}
		return drawn, pc.rgba
	}
	if pc.asked != key {
		pc.asked = key
		pc.seq = a.send(protocol.Command{Type: protocol.CmdData, Spec: s.JSON()})
	}
	if pc.key == "" {
		return "blank", make([]byte, 4*PointsSize*PointsSize)
	}
	return "", nil
}

// dataPoints takes the worker's answer to the last CmdData.
func (a *App) dataPoints(ev protocol.Event, data []byte) {
	pc := &a.points
	d := ev.Data
	if d == nil || ev.Seq != pc.seq || d.Train < 0 || d.Test < 0 || len(data) != (d.Train+d.Test)*protocol.PointBytes {
		return
	}
	pc.key, pc.data, pc.train, pc.classes, pc.axes = pc.asked, data, d.Train, d.Classes, d.Axes
}

// drawPoints draws the worker's points (train first): each a disc in its
// class color, training points outlined white, test points (with
// showTest) dark.
func drawPoints(data []byte, train, classes int, showTest bool) []byte {
	n := len(data) / protocol.PointBytes
	lo, hi := float32(0), float32(1)
	if classes == 0 { // regression: color by the range of the targets
		lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
		for i := range n {
			_, _, v := protocol.Point(data, i)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	rgba := make([]byte, 4*PointsSize*PointsSize)
	for i := range n {
		outline := [3]float64{255, 255, 255} // training points
		if i >= train {
			if !showTest {
				break
			}
			outline = [3]float64{30, 35, 48}
		}
		x, y, label := protocol.Point(data, i)
		t := 2*float64((label-lo)/max(hi-lo, 1e-6)) - 1
		r, g, b := color(t, 0)
		if classes > 2 {
			r, g, b = classColor(int(label), 0)
		}
		cx := (float64(x) + spec.Domain) / (2 * spec.Domain) * PointsSize
		cy := (spec.Domain - float64(y)) / (2 * spec.Domain) * PointsSize
		disc(rgba, cx, cy, 5, outline)
		disc(rgba, cx, cy, 3.8, [3]float64{float64(r), float64(g), float64(b)})
	}
	return rgba
}

// disc composites an antialiased disc of radius rad over the image.
func disc(img []byte, cx, cy, rad float64, c [3]float64) {
	x0, x1 := max(int(cx-rad-1), 0), min(int(cx+rad+1), PointsSize-1)
	y0, y1 := max(int(cy-rad-1), 0), min(int(cy+rad+1), PointsSize-1)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			a := min(max(rad+0.5-d, 0), 1)
			if a == 0 {
				continue
			}
			p := 4 * (y*PointsSize + x)
			da := float64(img[p+3]) / 255
			oa := a + da*(1-a)
			for i := 0; i < 3; i++ {
				img[p+i] = byte((c[i]*a+float64(img[p+i])*da*(1-a))/oa + 0.5)
			}
			img[p+3] = byte(oa*255 + 0.5)
		}
	}
}

// Paint draws what changed since the last call into the canvases; the
// host calls it after every render.
func (a *App) Paint() {
	if a.Host == nil {
		return
	}
	a.paintPad()
	if key, rgba := a.PointsRGBA(); key != "" && key != a.points.painted {
		a.Host.Paint("points", PointsSize, PointsSize, rgba)
		a.points.painted = key
	}
	a.paintUnits()
	v := a.ScrubView()
	focus := ""
	if t, ok := a.focusedUnit(); ok {
		focus = t.ID()
	}
	if v == a.painted && focus == a.paintedFocus && a.Discretize == a.paintedDiscrete {
		return
	}
	a.painted, a.paintedFocus, a.paintedDiscrete = v, focus, a.Discretize
	switch {
	case v == nil:
		a.Host.Paint("heatmap", HeatSize, HeatSize, make([]byte, 4*HeatSize*HeatSize))
	case focus != "":
		vals, w, tone, _ := a.FocusedMap()
		rgba := enlarge(w, len(vals)/w, func(i int) float64 { return float64(vals[i]) }, tone)
		a.Host.Paint("heatmap", HeatSize, HeatSize, rgba)
		// On a phone the output map is far above the network: the unit's
		// map floats beside it too (CSS shows unit-zoom on narrow screens).
		a.Host.Paint("unit-zoom", HeatSize, HeatSize, rgba)
	case v.Kind == protocol.ViewGrid:
		rgba := v.GridRGBA
		if a.Discretize {
			rgba = v.DiscreteRGBA
		}
		a.Host.Paint("heatmap", HeatSize, HeatSize, rgba())
	case v.Kind == protocol.ViewDigits:
		a.Host.Paint("digits", DigitsW, DigitSide, v.DigitsRGBA())
	}
}

// Legend says what the output map's colors mean, from the draft's data
// (the worker's points): Classes its classes (0: a regression target),
// and for a regression the model's outputs at the map's two ends (Lo and
// Hi; "low" and "high" until a view shows them).
type Legend struct {
	Classes int
	Lo, Hi  string
}

// MapLegend is the legend of the output map: two classes until the
// draft's points say otherwise.
func (a *App) MapLegend() Legend {
	l := Legend{Classes: 2, Lo: "low", Hi: "high"}
	if pc := a.draftPoints(); pc != nil {
		l.Classes = pc.classes
	}
	if v := a.Live; l.Classes == 0 && v != nil && v.Kind == protocol.ViewGrid && v.Classes == 0 {
		l.Lo, l.Hi = strconv.FormatFloat(v.Lo, 'g', 3, 64), strconv.FormatFloat(v.Hi, 'g', 3, 64)
	}
	return l
}

// ClassCSS is class k's color on the map of more than two classes, as CSS.
func ClassCSS(k int) string {
	r, g, b := classColor(k, 0.55)
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
}

// Range lists 0 … n-1, for templates.
func Range(n int) []int {
	s := make([]int, max(n, 0))
	for i := range s {
		s[i] = i
	}
	return s
}

// draftPoints is the worker's answer about the draft's data (nil until
// it came).
func (a *App) draftPoints() *pointsCache {
	if pc := &a.points; pc.key != "" && pc.key == dataKey(a.Draft) {
		return pc
	}
	return nil
}

// Corners labels the map's corners: top left the top of the y axis, bottom
// left where the axes start, bottom right the end of the x axis. The
// generated sets live in [-6, 6]²; custom data says in its own units what
// the square shows, with its features' names.
type Corners struct{ TL, BL, BR string }

// MapCorners labels the corners of the map of the draft's data.
func (a *App) MapCorners() Corners {
	pc := a.draftPoints()
	if pc == nil || pc.axes == nil {
		d := strconv.Itoa(spec.Domain)
		return Corners{TL: d, BL: "−" + d, BR: d}
	}
	ax := pc.axes
	g := func(v float64) string { return strings.Replace(strconv.FormatFloat(v, 'g', 3, 64), "-", "−", 1) }
	return Corners{TL: ax.Y + " " + g(ax.YHi), BL: "(" + g(ax.XLo) + ", " + g(ax.YLo) + ")", BR: ax.X + " " + g(ax.XHi)}
}
