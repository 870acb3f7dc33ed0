package ui

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"playground/wasm/protocol"
)

// What the network panel does besides drawing: hover, focus or tap a unit
// and the output map shows it; hover or focus a link or a bias and its
// value shows; click one while paused and it can be edited, as a fork.

// NetTarget is a unit, a link or a bias of the network diagram.
type NetTarget struct {
	Kind        string // "unit", "link" or "bias"
	Layer, Unit int
	From        int // a link's unit of the layer before
}

// ID is the target's test id: unit-L-I, link-L-I-J or bias-L-I.
func (t NetTarget) ID() string {
	if t.Kind == "link" {
		return fmt.Sprintf("link-%d-%d-%d", t.Layer, t.Unit, t.From)
	}
	return fmt.Sprintf("%s-%d-%d", t.Kind, t.Layer, t.Unit)
}

// DOMID is the element id of the target's shape: net-, then its test id.
// The diagram's events are handled once, on the diagram, by the target's
// id (ParseNetID).
func (t NetTarget) DOMID() string { return "net-" + t.ID() }

// ParseNetID reads an element id DOMID made (false for any other).
func ParseNetID(id string) (NetTarget, bool) {
	parts := strings.Split(id, "-")
	if len(parts) < 4 || parts[0] != "net" {
		return NetTarget{}, false
	}
	t := NetTarget{Kind: parts[1]}
	want := 4
	if t.Kind == "link" {
		want = 5
	} else if t.Kind != "unit" && t.Kind != "bias" {
		return NetTarget{}, false
	}
	if len(parts) != want {
		return NetTarget{}, false
	}
	nums := []*int{&t.Layer, &t.Unit, &t.From}
	for i, p := range parts[2:] {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || strconv.Itoa(n) != p {
			return NetTarget{}, false
		}
		*nums[i] = n
	}
	return t, true
}

// FocusNetID, BlurNetID and ClickNetID are FocusNet, BlurNet and ClickNet
// of the target of an element id; any other id is ignored.
func (a *App) FocusNetID(id string) {
	if t, ok := ParseNetID(id); ok {
		a.FocusNet(t)
	}
}

func (a *App) BlurNetID(id string) {
	if t, ok := ParseNetID(id); ok {
		a.BlurNet(t)
	}
}

func (a *App) ClickNetID(id string) {
	if t, ok := ParseNetID(id); ok {
		a.ClickNet(t)
	}
}

// NetState is the network panel's: what is hovered or focused, and the
// parameter being edited.
type NetState struct {
	Focus    *NetTarget
	Edit     *NetTarget
	EditText string
	EditErr  string
}

// FocusNet makes t the diagram's focus (the pointer is on it, or the
// keyboard).
func (a *App) FocusNet(t NetTarget) { a.Net.Focus = &t }

// BlurNet drops the focus if it is t.
func (a *App) BlurNet(t NetTarget) {
	if f := a.Net.Focus; f != nil && *f == t {
		a.Net.Focus = nil
	}
}

// ClickNet is a click or tap on t: a unit takes the focus (a tap has no
// hover); a link or a bias opens its editor when the run can be edited.
func (a *App) ClickNet(t NetTarget) {
	a.Net.Focus = &t
	if t.Kind == "unit" || !a.Editable() {
		return
	}
	v, _ := a.paramOf(t)
	a.Net.Edit, a.Net.EditText, a.Net.EditErr = &t, f32Text(v), ""
}

// Editable says whether a weight can be edited now: the run is paused in
// this tab and the diagram shows its current weights.
func (a *App) Editable() bool {
	return a.Phase == "paused" && a.Owner && !a.Scrub.On && a.netView() != nil
}

// CancelEdit closes the editor.
func (a *App) CancelEdit() { a.Net.Edit = nil }

// ApplyEdit sends the edit: the worker forks the run with the new value.
func (a *App) ApplyEdit(text string) {
	t := a.Net.Edit
	if t == nil || !a.Editable() {
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(text), 32)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		a.Net.EditText, a.Net.EditErr = text, fmt.Sprintf("%q is not a number", text)
		return
	}
	e := &protocol.Edit{Layer: t.Layer, Unit: t.Unit, From: t.From, Value: float32(v)}
	if t.Kind == "bias" {
		e.From = -1
	}
	a.Net.Edit = nil
	a.send(protocol.Command{Type: protocol.CmdEdit, Edit: e})
}

// paramOf is the value of a link's weight or a bias in the view shown.
func (a *App) paramOf(t NetTarget) (float32, bool) {
	net := a.netView()
	if net == nil || t.Layer < 1 || t.Layer >= len(net.Layers) {
		return 0, false
	}
	l, prev := net.Layers[t.Layer], net.Layers[t.Layer-1].Drawn
	switch {
	case t.Unit < 0 || t.Unit >= l.Drawn:
		return 0, false
	case t.Kind == "bias":
		return l.Bias[t.Unit], true
	case t.Kind == "link" && t.From >= 0 && t.From < prev:
		return l.Weights[t.Unit*prev+t.From], true
	}
	return 0, false
}

func f32Text(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }

// unitName names unit u of layer l: "layer 2, unit 3" (the inputs by
// their feature).
func (a *App) unitName(l, u int) string {
	if f := a.Draft.Dataset.Features; l == 0 && u < len(f) && a.TwoD() {
		return "input " + f[u]
	}
	return fmt.Sprintf("layer %d, unit %d", l, u)
}

// NetValueText says what the diagram's focus is, with its value.
func (a *App) NetValueText() string {
	t := a.Net.Focus
	if t == nil {
		return "Hover a unit to see it in the output map, a link or a bias for its value."
	}
	if t.Kind == "unit" {
		return a.unitName(t.Layer, t.Unit) + " (in the output map)"
	}
	return a.paramText(*t)
}

// paramText names a link's weight or a bias with its value ("" without
// one).
func (a *App) paramText(t NetTarget) string {
	v, ok := a.paramOf(t)
	switch {
	case !ok:
		return ""
	case t.Kind == "bias":
		return fmt.Sprintf("bias of %s: %s", a.unitName(t.Layer, t.Unit), f32Text(v))
	}
	return fmt.Sprintf("weight from %s to %s: %s", a.unitName(t.Layer-1, t.From), a.unitName(t.Layer, t.Unit), f32Text(v))
}

// EditTitle says what the editor edits.
func (a *App) EditTitle() string {
	t := a.Net.Edit
	if t == nil {
		return ""
	}
	if t.Kind == "bias" {
		return "Bias of " + a.unitName(t.Layer, t.Unit)
	}
	return fmt.Sprintf("Weight from %s to %s", a.unitName(t.Layer-1, t.From), a.unitName(t.Layer, t.Unit))
}

// FocusedMap is the map of the focused unit, if the output map can show
// it: its values, width, and how they map to colors.
func (a *App) FocusedMap() (vals []float32, w int, tone func(float64) float64, ok bool) {
	t, ok := a.focusedUnit()
	if !ok {
		return nil, 0, nil, false
	}
	vals, w, _, ok = a.netView().Map(t.Layer, t.Unit)
	if !ok {
		return nil, 0, nil, false
	}
	return vals, w, a.tone(a.ScrubView(), t.Layer, vals), true
}

// focusedUnit is the focused unit whose map the output map shows, if it
// can show one (a grid view, a square map): FocusedMap without decoding
// the map.
func (a *App) focusedUnit() (NetTarget, bool) {
	t := a.Net.Focus
	v := a.ScrubView()
	net := a.netView()
	if t == nil || t.Kind != "unit" || net == nil || v.Kind != protocol.ViewGrid ||
		net.MapBytes() != len(net.Maps) || t.Layer < 0 || t.Layer >= len(net.Layers) {
		return NetTarget{}, false
	}
	l := net.Layers[t.Layer]
	return *t, t.Unit >= 0 && t.Unit < l.Drawn && l.MapW > 0 && l.MapW == l.MapH
}

// UnitShown says whether the output map shows a unit's map (the
// diagram's focus) rather than the output's.
func (a *App) UnitShown() bool {
	_, ok := a.focusedUnit()
	return ok
}

// HeatUnitText labels the output map: the unit it shows, if not the
// output.
func (a *App) HeatUnitText() string {
	if t, ok := a.focusedUnit(); ok {
		return a.unitName(t.Layer, t.Unit)
	}
	return "output"
}

// tone maps the values of a unit's map of layer l to the palette's
// [-1, 1]: an input or a weight image by its largest magnitude, a hidden
// unit as it is (tanh's range), the output layer as the output map.
func (a *App) tone(v *ViewImage, l int, vals []float32) func(float64) float64 {
	return toneOf(v, l, vals).at
}

// linear is a tone x·scale + off.
type linear struct{ scale, off float64 }

func (t linear) at(x float64) float64 { return x*t.scale + t.off }

// toneOf is a.tone as a linear map.
func toneOf(v *ViewImage, l int, vals []float32) linear {
	last := len(v.Net.Layers) - 1
	switch {
	case l == last && v.Kind == protocol.ViewGrid:
		span := max(v.Hi-v.Lo, 1e-9)
		return linear{2 / span, -2*v.Lo/span - 1}
	case l == 0 || v.Kind != protocol.ViewGrid:
		m := 1e-9
		for _, x := range vals {
			if ax := math.Abs(float64(x)); ax > m && !math.IsInf(ax, 0) {
				m = ax
			}
		}
		return linear{1 / m, 0}
	}
	return linear{1, 0}
}

// unitRGBA colors a unit's map at its own size into dst (reused: the
// host copies what it paints). The colors come from unitColors, the
// palette at unitSteps levels per unit of tone: every unit's map is
// painted with every view, and color's arithmetic for each pixel cost
// the page's only thread tens of milliseconds a view (spiral, 6×8).
func unitRGBA(dst []byte, vals []float32, tone linear) []byte {
	dst = slices.Grow(dst[:0], 4*len(vals))[:4*len(vals)]
	for i, x := range vals {
		t := float64(x)*tone.scale + tone.off
		k := unitSteps // NaN: the middle
		switch {
		case t <= -1:
			k = 0
		case t >= 1:
			k = 2 * unitSteps
		case t == t:
			k = int((t+1)*unitSteps + 0.5)
		}
		c := unitColors[k]
		dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = c[0], c[1], c[2], 255
	}
	return dst
}

// unitSteps is the palette's levels per unit of tone: a channel moves
// by at most 237 over a unit, so neighbouring levels differ by less than
// a quarter of a channel's step.
const unitSteps = 1024

// unitColors is the palette of the units' maps from -1 to 1.
var unitColors = func() (p [2*unitSteps + 1][3]byte) {
	for k := range p {
		r, g, b := color(float64(k-unitSteps)/unitSteps, 0.15)
		p[k] = [3]byte{r, g, b}
	}
	return p
}()

// paintUnits paints the maps of the diagram's units, once per view.
func (a *App) paintUnits() {
	v := a.ScrubView()
	net := a.netView()
	if net == nil || v == a.unitsPainted {
		return
	}
	a.unitsPainted = v
	for l, layer := range net.Layers {
		for u := 0; u < layer.Drawn; u++ {
			vals, w, h, ok := net.MapInto(a.unitVals, l, u)
			if ok {
				a.unitVals = vals
				a.unitBuf = unitRGBA(a.unitBuf, vals, toneOf(v, l, vals))
				a.Host.Paint(Node{Layer: l, Unit: u}.MapID(), w, h, a.unitBuf)
			}
		}
	}
}

// UnitMapText is the map of unit u of layer l of the view, as
// `playground eval --grid l:u` prints it ("" without one).
func (v *ViewImage) UnitMapText(l, u int) string {
	if v == nil || v.Net == nil {
		return ""
	}
	vals, w, _, ok := v.Net.Map(l, u)
	if !ok {
		return ""
	}
	return protocol.FormatMap(vals, w)
}

// NetLabel is a diagram shape's accessible name: a unit's name, a link's
// or a bias's with its value.
func (a *App) NetLabel(t NetTarget) string {
	if t.Kind == "unit" {
		return a.unitName(t.Layer, t.Unit)
	}
	return a.paramText(t)
}
