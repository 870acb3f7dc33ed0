package session

import (
	"playground/engine"
	"playground/spec"
	"playground/wasm/protocol"
)

// data answers CmdData: the points of the command's 2-D dataset, for the
// page to draw settings it has not trained yet (the UI carries no dataset
// generators). Digits have no points to draw: the answer holds none.
func (s *Session) data(c protocol.Command) {
	sp, err := spec.ParseSpec(c.Spec)
	if err != nil {
		s.fail(c.Seq, "data: %v", err)
		return
	}
	ev := protocol.Event{Type: protocol.EvData, Seq: c.Seq, Data: &protocol.Data{}}
	kind, _ := spec.Dataset(sp.Dataset.Kind)
	if !kind.TwoD {
		s.env.Emit(ev, nil)
		return
	}
	d := engine.Generate(sp)
	*ev.Data = protocol.Data{Train: d.Train.N, Test: d.Test.N, Classes: d.Classes}
	b := make([]byte, 0, (d.Train.N+d.Test.N)*protocol.PointBytes)
	for _, part := range []*engine.Split{&d.Train, &d.Test} {
		for i, p := range part.Points {
			b = protocol.AppendPoint(b, p[0], p[1], part.Label[i])
		}
	}
	s.env.Emit(ev, b)
}
