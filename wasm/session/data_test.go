package session

import (
	"testing"

	"playground/engine"
	"playground/spec"
	"playground/spec/spectest"
	"playground/wasm/protocol"
)

// CmdData answers with the points the engine generates for the spec (the
// page draws them without the generators), none for digits, and an error
// for a spec that is not valid.
func TestDataPoints(t *testing.T) {
	h := newHost(t, opts{})
	sp := spectest.Preset(t, "spiral-adam")
	seq := h.send(protocol.Command{Type: protocol.CmdData, Spec: sp.JSON()})
	ev, i := h.wait(0, "data", func(ev protocol.Event) bool { return ev.Type == protocol.EvData && ev.Seq == seq })
	d := engine.Generate(sp)
	if *ev.Data != (protocol.Data{Train: d.Train.N, Test: d.Test.N, Classes: 2}) {
		t.Fatalf("data %+v, want %d + %d points of 2 classes", *ev.Data, d.Train.N, d.Test.N)
	}
	h.mu.Lock()
	b := h.files[i]
	h.mu.Unlock()
	if len(b) != (d.Train.N+d.Test.N)*protocol.PointBytes {
		t.Fatalf("%d bytes for %d points", len(b), d.Train.N+d.Test.N)
	}
	for j, part := range []*engine.Split{&d.Train, &d.Test} {
		for k, p := range part.Points {
			n := k + j*d.Train.N
			if x, y, label := protocol.Point(b, n); x != p[0] || y != p[1] || label != part.Label[k] {
				t.Fatalf("point %d is (%v, %v, %v), want (%v, %v, %v)", n, x, y, label, p[0], p[1], part.Label[k])
			}
		}
	}

	digits, _ := spec.Preset("digits")
	seq = h.send(protocol.Command{Type: protocol.CmdData, Spec: digits.JSON()})
	ev, i = h.wait(0, "digits data", func(ev protocol.Event) bool { return ev.Type == protocol.EvData && ev.Seq == seq })
	h.mu.Lock()
	b = h.files[i]
	h.mu.Unlock()
	if *ev.Data != (protocol.Data{}) || len(b) != 0 {
		t.Errorf("digits: %+v and %d bytes, want no points", *ev.Data, len(b))
	}

	seq = h.send(protocol.Command{Type: protocol.CmdData, Spec: []byte(`{"dataset":{"kind":"moons"}}`)})
	h.wait(0, "an error", func(ev protocol.Event) bool { return ev.Type == protocol.EvError && ev.Seq == seq })
}
