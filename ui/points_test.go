package ui

import (
	"testing"

	"playground/wasm/protocol"
)

// The data points are the worker's (CmdData): asked once per dataset,
// drawn when the answer comes, the last ones kept until a newer answer.
func TestDataPointsFromTheWorker(t *testing.T) {
	a, h := running(t)
	a.Paint()
	c := h.last()
	if c.Type != protocol.CmdData || string(c.Spec) != string(a.Draft.JSON()) {
		t.Fatalf("painting asked %+v, want the draft's data", c)
	}
	if h.painted["points"] != [3]int{PointsSize, PointsSize, 4 * PointsSize * PointsSize} {
		t.Fatalf("before the answer the points canvas is not blank: %v", h.painted)
	}
	n := len(h.sent)
	a.Paint()
	if len(h.sent) != n {
		t.Fatalf("asked again for the same data: %+v", h.last())
	}

	// A training point of class 1 at the centre, a test point of class 0
	// at the top left corner.
	b := protocol.AppendPoint(nil, 0, 0, 1)
	b = protocol.AppendPoint(b, -6, 6, 0)
	a.Apply(protocol.Event{Type: protocol.EvData, Seq: c.Seq + 1, Data: &protocol.Data{Train: 1, Test: 1, Classes: 2}}, b)
	if key, _ := a.PointsRGBA(); key != "blank" {
		t.Fatalf("an answer to another command was drawn (key %q)", key)
	}
	a.Apply(protocol.Event{Type: protocol.EvData, Seq: c.Seq, Data: &protocol.Data{Train: 1, Test: 1, Classes: 2}}, b[:12])
	if key, _ := a.PointsRGBA(); key != "blank" {
		t.Fatalf("an answer with too few bytes was drawn (key %q)", key)
	}
	a.Apply(protocol.Event{Type: protocol.EvData, Seq: c.Seq, Data: &protocol.Data{Train: 1, Test: 1, Classes: 2}}, b)
	key, rgba := a.PointsRGBA()
	px := func(x, y int) []byte { return rgba[4*(y*PointsSize+x) : 4*(y*PointsSize+x)+4] }
	mid := PointsSize / 2
	if key == "blank" || px(mid, mid)[3] != 255 || px(1, 1)[3] == 0 || px(mid, 50)[3] != 0 {
		t.Fatalf("points not drawn: centre %v, corner %v, elsewhere %v", px(mid, mid), px(1, 1), px(mid, 50))
	}
	if o := px(mid+4, mid); o[0] != 255 || o[1] != 255 || o[2] != 255 {
		t.Errorf("a training point's outline is %v, want white", o)
	}
	a.Paint()

	// Another seed: new data are asked for; the old points stay meanwhile.
	a.SetField("seed", "9")
	a.Paint()
	if c2 := h.last(); c2.Type != protocol.CmdData || c2.Seq == c.Seq {
		t.Fatalf("a new seed asked %+v", c2)
	}
	if key2, _ := a.PointsRGBA(); key2 != "" {
		t.Errorf("while waiting, key %q: the canvas would change", key2)
	}
}

// The map's legend follows the draft's data: two classes, more (a chip
// each), or a regression's output range once a view shows it.
func TestMapLegend(t *testing.T) {
	a, h := running(t)
	if l := a.MapLegend(); l.Classes != 2 {
		t.Fatalf("before any data: %+v, want two classes", l)
	}
	b := protocol.AppendPoint(nil, 0, 0, 2)
	answer := func(classes int) {
		a.Paint()
		c := h.last()
		a.Apply(protocol.Event{Type: protocol.EvData, Seq: c.Seq, Data: &protocol.Data{Train: 1, Classes: classes}}, b)
	}
	answer(3)
	if l := a.MapLegend(); l.Classes != 3 {
		t.Errorf("three classes: %+v", l)
	}
	if ClassCSS(0) == ClassCSS(2) || ClassCSS(1) == ClassCSS(2) {
		t.Errorf("class colors %s %s %s are not distinct", ClassCSS(0), ClassCSS(1), ClassCSS(2))
	}
	a.SetField("seed", "11")
	answer(0)
	if l := a.MapLegend(); l.Classes != 0 || l.Lo != "low" || l.Hi != "high" {
		t.Errorf("a regression before a view: %+v", l)
	}
	a.Apply(protocol.Event{Type: protocol.EvView, View: &protocol.View{Run: a.Run, Kind: protocol.ViewGrid, W: 1, H: 1, Lo: -0.25, Hi: 1.5}}, []byte{0})
	if l := a.MapLegend(); l.Lo != "-0.25" || l.Hi != "1.5" {
		t.Errorf("a regression's legend: %+v, want -0.25 … 1.5", l)
	}
}

// The map's corners: [-6, 6]² for generated sets, custom data's own units
// and feature names once its points say what the square shows.
func TestMapCorners(t *testing.T) {
	a, h := running(t)
	if c := a.MapCorners(); c != (Corners{TL: "6", BL: "−6", BR: "6"}) {
		t.Fatalf("generated: %+v", c)
	}
	a.Paint()
	ax := &protocol.Axes{X: "height", Y: "weight", XLo: -2.25, XHi: 3.5, YLo: 10, YHi: 15.75}
	a.Apply(protocol.Event{Type: protocol.EvData, Seq: h.last().Seq, Data: &protocol.Data{Train: 1, Classes: 2, Axes: ax}}, protocol.AppendPoint(nil, 0, 0, 1))
	if c := a.MapCorners(); c != (Corners{TL: "weight 15.8", BL: "(−2.25, 10)", BR: "height 3.5"}) {
		t.Errorf("custom: %+v", c)
	}
}
