package session

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"playground/engine"
	"playground/engine/enginetest"
	"playground/spec"
	"playground/wasm/protocol"
)

// neuron is the neuron lesson: the circle, features x and y, one hidden
// layer of 4 tanh units.
const neuron = `{"seed":3,"dataset":{"kind":"circle","features":["x","y"]},"model":{"layers":[{"units":4,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"sgd","lr":0.1}}`

func trained(t *testing.T, js string, steps uint64) *engine.Trainer {
	t.Helper()
	s, err := spec.ParseSpec([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return enginetest.Trained(t, s, int(steps))
}

// Every unit's map is its activation over the output map's grid: the
// output unit's is the output map before quantization, the hidden ones
// differ from each other, and UnitMap returns the very values the view
// sends.
func TestUnitMaps(t *testing.T) {
	tr := trained(t, neuron, 300)
	var vw viewer
	v, data := vw.of(tr, "r")
	net := v.Net
	if len(net.Layers) != 3 || net.Layers[0].Drawn != 2 || net.Layers[1].Drawn != 4 || net.Layers[2].Drawn != 1 {
		t.Fatalf("layers %+v", net.Layers)
	}
	if got, want := len(net.Maps), net.MapBytes(); got != want || want != 4*7*GridSide*GridSide {
		t.Fatalf("%d bytes of maps, want %d", got, want)
	}
	if len(net.Layers[1].Weights) != 8 || len(net.Layers[2].Weights) != 4 || len(net.Layers[2].Bias) != 1 {
		t.Fatalf("weights %+v", net.Layers)
	}
	if w := tr.Model.Params.View(tr.Model.Layers[0].W); net.Layers[1].Weights[3] != w[3] {
		t.Errorf("weight to unit 1 from input 1 is %v, the model's %v", net.Layers[1].Weights[3], w[3])
	}
	var maps [][]float32
	for l := range net.Layers {
		for u := 0; u < net.Layers[l].Drawn; u++ {
			m, w, h, err := UnitMap(tr, l, u)
			if err != nil || w != GridSide || h != GridSide {
				t.Fatalf("UnitMap(%d, %d): %v, %d×%d", l, u, err, w, h)
			}
			off := 4 * len(maps) * GridSide * GridSide
			for i, x := range m {
				if math.Float32bits(x) != binary.LittleEndian.Uint32(net.Maps[off+4*i:]) {
					t.Fatalf("UnitMap(%d, %d)[%d] is not the view's", l, u, i)
				}
			}
			maps = append(maps, m)
		}
	}
	// Input x grows to the right, input y to the top.
	if x := maps[0]; !(x[0] < x[GridSide-1]) || x[0] != x[GridSide] {
		t.Errorf("input x map %v … %v", x[0], x[GridSide-1])
	}
	for i := 2; i < len(maps); i++ {
		for j := i + 1; j < len(maps); j++ {
			if slices.Equal(maps[i], maps[j]) {
				t.Errorf("maps %d and %d are the same", i, j)
			}
		}
	}
	out := maps[len(maps)-1]
	for i, p := range out {
		if q := byte(min(max(float64(p), 0), 1)*255 + 0.5); q != data[i] {
			t.Fatalf("output map %v at %d, the view's byte %d", p, i, data[i])
		}
	}
	for _, bad := range [][2]int{{-1, 0}, {3, 0}, {1, 4}, {1, -1}} {
		if _, _, _, err := UnitMap(tr, bad[0], bad[1]); err == nil {
			t.Errorf("UnitMap(%d, %d) has no error", bad[0], bad[1])
		}
	}
}

// A wide input (digits) maps its first hidden layer's units as their
// incoming weights, 28×28, and draws the first DrawnUnits of a wide layer.
func TestUnitMapsDigits(t *testing.T) {
	tr := enginetest.PresetTrained(t, "digits", 0)
	var vw viewer
	v, _ := vw.of(tr, "d")
	net := v.Net
	if net.Layers[0].Drawn != 0 || net.Layers[1].MapW != 28 || net.Layers[1].Drawn != min(DrawnUnits, net.Layers[1].Units) {
		t.Fatalf("layers %+v", net.Layers[:2])
	}
	last := net.Layers[len(net.Layers)-1]
	if last.Units != 10 || last.Drawn != DrawnUnits || last.MapW != 0 {
		t.Errorf("output layer %+v", last)
	}
	m, w, h, err := UnitMap(tr, 1, 2)
	ml := tr.Model.Layers[0]
	if err != nil || w != 28 || h != 28 || !slices.Equal(m, tr.Model.Params.View(ml.W)[2*ml.In:3*ml.In]) {
		t.Errorf("unit 2's map is not its weights (%v)", err)
	}
	if _, _, _, err := UnitMap(tr, len(net.Layers)-1, 9); err == nil {
		t.Error("an undrawn unit has a map")
	}
	if net.MapBytes() != len(net.Maps) {
		t.Errorf("maps of %d bytes, want %d", len(net.Maps), net.MapBytes())
	}
}

// A NetView whose layers do not fit together is refused, never indexed.
func TestNetViewMapBytes(t *testing.T) {
	good := protocol.NetView{Layers: []protocol.NetLayer{{Units: 2, Drawn: 2}, {Units: 3, Drawn: 1, MapW: 2, MapH: 2, Weights: []float32{1, 2}, Bias: []float32{0}}}}
	if n := good.MapBytes(); n != 16 {
		t.Errorf("MapBytes %d, want 16", n)
	}
	for _, l := range []protocol.NetLayer{
		{Units: 3, Drawn: 4, Weights: make([]float32, 8), Bias: make([]float32, 4)},
		{Units: 3, Drawn: 1, Weights: []float32{1}, Bias: []float32{0}},
		{Units: 3, Drawn: 1, MapW: 2, Weights: []float32{1, 2}, Bias: []float32{0}},
		{Units: 3, Drawn: 1, MapW: -2, MapH: -2, Weights: []float32{1, 2}, Bias: []float32{0}},
	} {
		bad := protocol.NetView{Layers: []protocol.NetLayer{good.Layers[0], l}}
		if n := bad.MapBytes(); n != -1 {
			t.Errorf("%+v: MapBytes %d", l, n)
		}
	}
}
