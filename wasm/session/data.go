package session

import (
	"context"

	"playground/engine"
	"playground/spec"
	"playground/wasm/protocol"
)

// data answers CmdData: the points of the command's 2-D dataset, for the
// page to draw settings it has not trained yet (the UI carries no dataset
// generators), two-feature custom data mapped into the page's square as
// its views are. Digits and other custom data have no points to draw: the
// answer holds none.
func (l *loop) cmdData(ctx context.Context, c protocol.Command, _ []byte) {
	sp, err := spec.ParseSpec(c.Spec)
	if err == nil {
		sp, err = sp.Normalize()
	}
	if err != nil {
		l.fail(c.Seq, "data: %v", err)
		return
	}
	ev := protocol.Event{Type: protocol.EvData, Seq: c.Seq, Data: &protocol.Data{}}
	kind, _ := spec.Dataset(sp.Dataset.Kind)
	if !kind.TwoD && (sp.Dataset.Kind != spec.CustomKind || sp.Dataset.Inputs != 2) {
		l.env.Emit(ev, nil)
		return
	}
	tb, err := l.data.tables.of(ctx, sp)
	var d *engine.Dataset
	if err == nil {
		d, err = engine.Data(sp, tb)
	}
	if err != nil {
		l.fail(c.Seq, "data: %v", err)
		return
	}
	pl, _ := planeOf(sp, d)
	*ev.Data = protocol.Data{Train: d.Train.N, Test: d.Test.N, Classes: d.Classes, Axes: pl.axes(d.Features)}
	b := make([]byte, 0, (d.Train.N+d.Test.N)*protocol.PointBytes)
	for _, part := range []*engine.Split{&d.Train, &d.Test} {
		for i := range part.N {
			var pt [2]float32
			if part.Points != nil {
				pt = part.Points[i]
			}
			x, y := pl.point(part.X[i*d.Inputs:(i+1)*d.Inputs], pt)
			b = protocol.AppendPoint(b, x, y, part.Label[i])
		}
	}
	l.env.Emit(ev, b)
}
