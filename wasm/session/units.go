package session

import (
	"encoding/binary"
	"fmt"
	"math"

	"playground/engine"
	"playground/spec"
	"playground/wasm/protocol"
)

// The network panel's pictures: a small map per unit, computed in the
// forward pass of the output map, with the drawn units' weights and biases.
// Like every view they only read the parameters.

// DrawnUnits is the most units of a layer the page draws; the panel says
// how many more a wider layer has.
const DrawnUnits = 8

// netOf lays out the NetView of tr's model (without the maps' bytes).
func netOf(tr *engine.Trainer, twoD bool) *protocol.NetView {
	m, d := tr.Model, tr.Data
	net := &protocol.NetView{}
	in := protocol.NetLayer{Units: d.Inputs, Drawn: min(d.Inputs, DrawnUnits)}
	if twoD {
		in.MapW, in.MapH = GridSide, GridSide
	} else {
		in.Drawn = 0 // 784 pixels: the first layer's maps show their weights
	}
	net.Layers = append(net.Layers, in)
	for i, l := range m.Layers {
		nl := protocol.NetLayer{Units: l.Out, Drawn: min(l.Out, DrawnUnits)}
		switch {
		case twoD:
			nl.MapW, nl.MapH = GridSide, GridSide
		case i == 0 && l.In == spec.DigitSize*spec.DigitSize:
			nl.MapW, nl.MapH = spec.DigitSize, spec.DigitSize
		}
		w, b := m.Params.View(l.W), m.Params.View(l.B)
		prev := net.Layers[i].Drawn
		for u := 0; u < nl.Drawn; u++ {
			nl.Weights = append(nl.Weights, w[u*l.In:u*l.In+prev]...)
		}
		nl.Bias = append(nl.Bias, b[:nl.Drawn]...)
		net.Layers = append(net.Layers, nl)
	}
	return net
}

// unitMaps holds the drawn units' maps while a grid view is computed:
// maps[l][u] is unit u of layer l's.
type unitMaps [][][]float32

// newUnitMaps makes room for net's maps, filling those of the inputs
// (layer 0) from the featurized grid, or without a grid (digits) the
// weight images from the model.
func newUnitMaps(net *protocol.NetView, m *engine.Model, grid []float32) unitMaps {
	maps := make(unitMaps, len(net.Layers))
	for li, l := range net.Layers {
		maps[li] = make([][]float32, l.Drawn)
		for u := range maps[li] {
			if l.MapW == 0 {
				continue
			}
			mp := make([]float32, l.MapW*l.MapH)
			switch {
			case li == 0:
				for p := range mp {
					mp[p] = grid[p*l.Units+u]
				}
			case grid == nil: // a weight image
				ml := m.Layers[li-1]
				copy(mp, m.Params.View(ml.W)[u*ml.In:(u+1)*ml.In])
			}
			maps[li][u] = mp
		}
	}
	return maps
}

// take copies the drawn units' activations of the last Forward over the
// n grid points from lo.
func (maps unitMaps) take(m *engine.Model, lo, n int) {
	for li := 1; li < len(maps); li++ {
		units := maps[li]
		if len(units) == 0 || units[0] == nil {
			continue
		}
		out := m.Layers[li-1].Out
		acts := m.Activations(li-1, n)
		for u, mp := range units {
			for k := 0; k < n; k++ {
				mp[lo+k] = acts[k*out+u]
			}
		}
	}
}

// bytes encodes the maps as NetView.Maps, in one allocation.
func (maps unitMaps) bytes() []byte {
	n := 0
	for _, units := range maps {
		for _, mp := range units {
			n += len(mp)
		}
	}
	b := make([]byte, 0, 4*n)
	for _, units := range maps {
		for _, mp := range units {
			for _, v := range mp {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			}
		}
	}
	return b
}

// UnitMap is the map the page draws for unit unit of layer layer (0: the
// inputs, then the hidden layers, the last the output layer) of tr's
// model: its values, row by row from the top, and its width and height.
// `playground eval --grid` prints it.
func UnitMap(tr *engine.Trainer, layer, unit int) ([]float32, int, int, error) {
	var vw viewer
	v, _ := vw.of(tr, "")
	net := v.Net
	if layer < 0 || layer >= len(net.Layers) {
		return nil, 0, 0, fmt.Errorf("layer %d does not exist: the inputs are layer 0, the output layer is %d", layer, len(net.Layers)-1)
	}
	l := net.Layers[layer]
	if unit < 0 || unit >= l.Units {
		return nil, 0, 0, fmt.Errorf("layer %d has units 0 to %d, not %d", layer, l.Units-1, unit)
	}
	if unit >= l.Drawn || l.MapW == 0 {
		return nil, 0, 0, fmt.Errorf("unit %d of layer %d has no map (the page maps %d of its %d units)", unit, layer, mapped(l), l.Units)
	}
	vals, w, h, _ := net.Map(layer, unit)
	return vals, w, h, nil
}

// mapped is how many of l's units have a map.
func mapped(l protocol.NetLayer) int {
	if l.MapW == 0 {
		return 0
	}
	return l.Drawn
}

// emitView posts a view event, then its unit maps as EvUnits (binary, in
// the message's bytes).
func emitView(emit func(protocol.Event, []byte), ev protocol.Event, data []byte) {
	var maps []byte
	if v := ev.View; v != nil && v.Net != nil {
		maps, v.Net.Maps = v.Net.Maps, nil
	}
	emit(ev, data)
	if len(maps) > 0 {
		emit(protocol.Event{Type: protocol.EvUnits, Units: &protocol.Units{Run: ev.View.Run, Step: ev.View.Step}}, maps)
	}
}
