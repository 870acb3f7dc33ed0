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
