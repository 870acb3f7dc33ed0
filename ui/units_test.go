package ui

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"playground/wasm/protocol"
)

// netView is a grid view of circle-sgd (2 inputs, 16, 16, 1) whose unit
// maps are 2×2, the value of each the unit's index plus p/10.
func netEvent(run string, step uint64) (protocol.Event, []byte) {
	widths := []int{2, 16, 16, 1}
	net := &protocol.NetView{}
	prev := 0
	for i, w := range widths {
		l := protocol.NetLayer{Units: w, Drawn: min(w, 8), MapW: 2, MapH: 2}
		if i > 0 {
			for k := 0; k < l.Drawn*prev; k++ {
				l.Weights = append(l.Weights, float32(k%5)-2)
			}
			for k := 0; k < l.Drawn; k++ {
				l.Bias = append(l.Bias, float32(k)/4)
			}
		}
		for u := 0; u < l.Drawn; u++ {
			for p := 0; p < 4; p++ {
				net.Maps = binary.LittleEndian.AppendUint32(net.Maps, math.Float32bits(float32(u)/10+float32(p)/40))
			}
		}
		net.Layers = append(net.Layers, l)
		prev = l.Drawn
	}
	v := &protocol.View{Run: run, Step: step, Kind: protocol.ViewGrid, W: 2, H: 2, Lo: 0, Hi: 1, Net: net}
	return protocol.Event{Type: protocol.EvView, View: v}, []byte{0, 85, 170, 255}
}

// The panel draws the view's units, links and biases with their test ids,
// shows a hovered unit in the output map, and edits a link as a fork only
// while paused.
func TestNetworkPanelUnits(t *testing.T) {
	a, h := running(t)
	ev, data := netEvent("circle-sgd-1", 1000)
	maps := ev.View.Net.Maps
	ev.View.Net.Maps = nil // they follow, as the worker sends them
	a.Apply(ev, data)
	if _, _, _, ok := a.Live.Net.Map(1, 0); ok {
		t.Fatal("a map before its EvUnits")
	}
	units := protocol.Event{Type: protocol.EvUnits, Units: &protocol.Units{Run: "circle-sgd-1", Step: 999}}
	a.Apply(units, maps) // another step's: not these
	if a.Live.Net.Maps != nil {
		t.Fatal("maps of another step taken")
	}
	units.Units.Step = 1000
	a.Apply(units, maps[1:])
	if a.Live.Net.Maps != nil {
		t.Fatal("maps of the wrong size taken")
	}
	a.Apply(units, maps)
	dg := a.NetDiagram()
	if dg.Net == nil || len(dg.Nodes) != 2+8+8+1 || len(dg.Links) != 2*8+8*8+8 || len(dg.Biases) != 8+8+1 || dg.Edges != "" {
		t.Fatalf("diagram: net %v, %d nodes, %d links, %d biases", dg.Net != nil, len(dg.Nodes), len(dg.Links), len(dg.Biases))
	}
	if dg.Labels[1].Text != "16 (+8 more)" || dg.Labels[3].Text != "1" {
		t.Errorf("labels %+v", dg.Labels)
	}
	html := render(t, &Page{App: a})
	for _, id := range []string{"unit-1-7", "unit-3-0", "link-2-7-7", "link-1-0-1", "bias-3-0", "unitmap-2-3"} {
		if !strings.Contains(html, `"`+id+`"`) {
			t.Errorf("no %s in the page", id)
		}
	}
	if strings.Contains(html, `"unit-1-8"`) {
		t.Error("a ninth unit drawn")
	}
	a.Paint()
	if p := h.painted["unitmap-2-3"]; p != [3]int{2, 2, 16} {
		t.Errorf("unit map painted %v", p)
	}
	if a.HeatUnitText() != "output" {
		t.Errorf("heat label %q", a.HeatUnitText())
	}
	u := NetTarget{Kind: "unit", Layer: 2, Unit: 3}
	a.FocusNet(u)
	vals, w, _, ok := a.FocusedMap()
	if !ok || w != 2 || vals[0] != float32(3)/10 || a.HeatUnitText() != "layer 2, unit 3" {
		t.Errorf("focused map %v %d %v, label %q", vals, w, ok, a.HeatUnitText())
	}
	a.BlurNet(NetTarget{Kind: "unit", Layer: 2, Unit: 2}) // another: stays
	if a.Net.Focus == nil {
		t.Error("blur of another target dropped the focus")
	}
	a.BlurNet(u)
	if a.Net.Focus != nil {
		t.Error("focus kept after blur")
	}
	if got := a.Live.UnitMapText(0, 1); got != "0.1 0.125\n0.15 0.17500001\n" {
		t.Errorf("input y's map text %q", got)
	}

	// Links show their value; editing needs a pause.
	link := NetTarget{Kind: "link", Layer: 2, Unit: 1, From: 3}
	a.FocusNet(link)
	if got := a.NetValueText(); got != "weight from layer 1, unit 3 to layer 2, unit 1: -1" {
		t.Errorf("link text %q", got)
	}
	a.ClickNet(link)
	if a.Net.Edit != nil {
		t.Error("an editor opened while running")
	}
	a.Apply(protocol.Event{Type: protocol.EvStatus, Status: &protocol.Status{Phase: "paused", Run: "circle-sgd-1", Name: "circle-sgd", Spec: a.Spec.JSON(), Step: 1000, Owner: true}}, nil)
	a.ClickNet(link)
	if a.Net.Edit == nil || a.Net.EditText != "-1" || !strings.Contains(render(t, &Page{App: a}), `net-edit-apply`) {
		t.Fatalf("editor %+v", a.Net)
	}
	a.ApplyEdit("abc")
	if a.Net.EditErr == "" || h.last().Type == protocol.CmdEdit {
		t.Error("a non-number was sent")
	}
	a.ApplyEdit(" 0.5 ")
	if c := h.last(); c.Type != protocol.CmdEdit || *c.Edit != (protocol.Edit{Layer: 2, Unit: 1, From: 3, Value: 0.5}) || a.Net.Edit != nil {
		t.Errorf("sent %+v", c)
	}
	a.ClickNet(NetTarget{Kind: "bias", Layer: 3, Unit: 0})
	a.ApplyEdit("-2")
	if c := h.last(); c.Type != protocol.CmdEdit || *c.Edit != (protocol.Edit{Layer: 3, Unit: 0, From: -1, Value: -2}) {
		t.Errorf("bias edit sent %+v", c)
	}
}

// A view of another network than the draft's, or with maps that do not fit
// its layers, leaves the plain diagram.
func TestNetworkPanelMismatch(t *testing.T) {
	a, _ := running(t)
	ev, data := netEvent("circle-sgd-1", 1000)
	ev.View.Net.Layers[1].Bias = nil
	a.Apply(ev, data)
	if a.Live == nil || a.Live.Net != nil || a.NetDiagram().Net != nil {
		t.Error("a malformed network was drawn")
	}
	ev, data = netEvent("circle-sgd-1", 1001)
	a.Apply(ev, data)
	a.SetUnits(0, 4)
	if dg := a.NetDiagram(); dg.Net != nil || len(dg.Nodes) != 2+4+8+1 || !strings.HasPrefix(dg.Edges, "M") {
		t.Errorf("edited draft drawn with the old run's weights: %d nodes", len(dg.Nodes))
	}
}

// Whatever a view's network and its maps say, the page neither panics nor
// reads outside the maps.
func FuzzNetView(f *testing.F) {
	ev, _ := netEvent("r", 1)
	maps := ev.View.Net.Maps
	f.Add(protocol.Encode(ev), maps)
	f.Add([]byte(`{"type":"view","view":{"run":"r","step":0,"kind":"grid","w":1,"h":1,"lo":0,"hi":1,"net":{"layers":[{"units":1,"drawn":1,"mapW":1,"mapH":1}]}}}`), []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b, maps []byte) {
		ev, err := protocol.DecodeEvent(b)
		if err != nil || ev.View == nil {
			return
		}
		v := NewViewImage(ev.View, make([]byte, max(ev.View.W, 0)*max(ev.View.H, 0)))
		v = v.withMaps(&protocol.Units{Run: ev.View.Run, Step: ev.View.Step}, maps)
		if v == nil || v.Net == nil {
			return
		}
		for l := -1; l <= len(v.Net.Layers); l++ {
			for u := -1; u <= 9; u++ {
				v.UnitMapText(l, u)
			}
		}
	})
}

// The diagram's element ids name their targets and read back; no other id
// is taken for one.
func TestParseNetID(t *testing.T) {
	for _, want := range []NetTarget{{Kind: "unit", Layer: 0, Unit: 1}, {Kind: "link", Layer: 2, Unit: 7, From: 3}, {Kind: "bias", Layer: 12, Unit: 0}} {
		if got, ok := ParseNetID(want.DOMID()); !ok || got != want {
			t.Errorf("ParseNetID(%q) = %+v, %v", want.DOMID(), got, ok)
		}
	}
	for _, id := range []string{"", "heatmap", "net-unit-1", "net-unit-1-2-3", "net-link-1-2", "net-node-1-2", "net-unit-01-2", "net-unit--1-2", "unit-1-2", "net-bias-1-+2"} {
		if got, ok := ParseNetID(id); ok {
			t.Errorf("ParseNetID(%q) = %+v", id, got)
		}
	}
}

func FuzzParseNetID(f *testing.F) {
	for _, s := range []string{"net-unit-1-2", "net-link-1-2-3", "net-bias-0-0", "net-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, ok := ParseNetID(id); ok && got.DOMID() != id {
			t.Errorf("ParseNetID(%q) = %+v, which is %q", id, got, got.DOMID())
		}
	})
}

// Between renders the page paints the diagram's links and biases at the
// source (LiveShapes, what the template draws) and renders only when the
// diagram's layout (DiagramKey) changes: a view of another step keeps it.
func TestLiveShapes(t *testing.T) {
	a, _ := running(t)
	draft := a.DiagramKey()
	if a.LiveShapes() != nil {
		t.Fatal("shapes without a view")
	}
	ev, data := netEvent("circle-sgd-1", 1000)
	a.Apply(ev, data)
	key := a.DiagramKey()
	if key == draft {
		t.Fatal("the same layout with a view as without")
	}
	shapes := a.LiveShapes()
	html := render(t, &Page{App: a})
	if len(shapes) != 2*8+8*8+8+8+8+1 {
		t.Fatalf("%d shapes", len(shapes))
	}
	for _, sh := range shapes {
		if !strings.Contains(html, `id="`+sh.ID+`"`) || !strings.Contains(html, `d="`+sh.D+`"`) || !strings.Contains(html, `aria-label="`+sh.Label+`"`) {
			t.Fatalf("%+v is not drawn so", sh)
		}
	}
	ev, data = netEvent("circle-sgd-1", 1100)
	ev.View.Net.Layers[1].Weights[0] = 3.5
	a.Apply(ev, data)
	if a.DiagramKey() != key {
		t.Error("another step's view changed the layout")
	}
	if sh := a.LiveShapes()[0]; sh.ID != "net-link-1-0-0" || sh.D == shapes[0].D {
		t.Errorf("the first link after its weight changed: %+v (was %+v)", sh, shapes[0])
	}
}

// The units' maps are colored from a palette: within one of color's
// values on each channel.
func TestUnitPalette(t *testing.T) {
	vals := []float32{-2, -1, -0.3337, 0, 0.0001, 0.5, 0.99991, 1, 7, float32(math.NaN())}
	rgba := unitRGBA(nil, vals, linear{1, 0})
	for i, x := range vals {
		tn := min(max(float64(x), -1), 1)
		if math.IsNaN(tn) {
			tn = 0
		}
		r, g, b := color(tn, 0.15)
		for c, want := range []byte{r, g, b, 255} {
			if d := int(rgba[4*i+c]) - int(want); d < -1 || d > 1 {
				t.Errorf("%v: channel %d is %d, color gives %d", x, c, rgba[4*i+c], want)
			}
		}
	}
}
