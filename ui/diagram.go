package ui

import (
	"fmt"
	"math"
	"strings"

	"playground/wasm/protocol"
)

// The network panel: a column of units per layer, each unit a small map
// (what it computes over the input plane, painted into its canvas from the
// worker's view), links between units colored by the sign of their weight
// and as wide as it is large, a bias square by each unit. Until a view of
// the draft's network arrives the units are plain squares.

// The network diagram's view box: netW wide, as high as its tallest
// column needs.
const (
	netW    = 300
	maxSide = 40.0 // the largest square of a unit; fewer layers, larger squares
	netFoot = 18.0 // the layer labels below
)

// Node is one unit drawn in the network diagram, centred on X, Y.
type Node struct {
	X, Y        float64
	Class       string // input, hidden or output
	Layer, Unit int
	Map         bool // the view has its map: a canvas shows it
}

// ID is the node's test id: unit-L-I.
func (n Node) ID() string { return fmt.Sprintf("unit-%d-%d", n.Layer, n.Unit) }

// Target is the node as a NetTarget.
func (n Node) Target() NetTarget { return NetTarget{Kind: "unit", Layer: n.Layer, Unit: n.Unit} }

// MapID is the id of the canvas of the node's map.
func (n Node) MapID() string { return fmt.Sprintf("unitmap-%d-%d", n.Layer, n.Unit) }

// Label is a text in the network diagram.
type Label struct {
	X, Y float64
	Text string
}

// Link is a weight drawn from unit From of layer Layer-1 to unit To of
// layer Layer: a band (D, an SVG path) as wide as the weight is large, so
// that a level link has an area to hover too.
type Link struct {
	D               string
	Layer, To, From int
	W               float32
	Fill            string
}

// Target is the link as a NetTarget.
func (k Link) Target() NetTarget {
	return NetTarget{Kind: "link", Layer: k.Layer, Unit: k.To, From: k.From}
}

// Bias is a unit's bias square, its top left at X, Y.
type Bias struct {
	X, Y        float64
	Layer, Unit int
	B           float32
	Fill        string
}

// Target is the bias as a NetTarget.
func (b Bias) Target() NetTarget { return NetTarget{Kind: "bias", Layer: b.Layer, Unit: b.Unit} }

// Diagram is the network drawn as columns of units. Without a view of
// the draft's network, all the connections are one path (Edges).
type Diagram struct {
	H, Side float64 // the view box's height, a unit's square's side
	Nodes   []Node
	Edges   string // an SVG path
	Links   []Link
	Biases  []Bias
	Labels  []Label
	Net     *protocol.NetView // the view drawn, nil without one
}

// maxDrawn is the most units drawn per layer; more are summarized. The
// worker draws as many (session.DrawnUnits).
const maxDrawn = 8

// netView is the network of the view shown if it is the draft's network.
func (a *App) netView() *protocol.NetView {
	v := a.ScrubView()
	if v == nil || v.Net == nil {
		return nil
	}
	d := a.Draft
	net := v.Net
	if len(net.Layers) != len(d.Model.Layers)+1 || net.Layers[0].Units != d.Inputs() {
		return nil
	}
	for i, l := range d.Model.Layers {
		if net.Layers[i+1].Units != l.Units {
			return nil
		}
	}
	return net
}

// NetDiagram lays out the draft network, with the weights and maps of the
// view shown when it is of that network.
func (a *App) NetDiagram() Diagram {
	d := a.Draft
	widths := []int{d.Inputs()}
	for _, l := range d.Model.Layers {
		widths = append(widths, l.Units)
	}
	dg := Diagram{Net: a.netView()}
	drawn := make([]int, len(widths))
	rows := 1
	for i, w := range widths {
		drawn[i] = min(w, maxDrawn)
		if dg.Net != nil {
			drawn[i] = dg.Net.Layers[i].Drawn
		}
		rows = max(rows, drawn[i])
	}
	// Columns 1.8 squares apart: links at least 0.8 of a square long.
	n := float64(len(widths))
	side := min(maxSide, (netW-8)/(1.8*n-0.8))
	dg.Side = side
	pitch := side * 1.3 // between the centres of a column's squares
	dg.H = float64(rows)*pitch + netFoot
	var cols [][]Node
	gap := (netW - side - 8) / max(n-1, 1)
	for i, w := range widths {
		x := 4 + side/2 + gap*float64(i)
		class := "hidden"
		switch i {
		case 0:
			class = "input"
		case len(widths) - 1:
			class = "output"
		}
		var col []Node
		for k := 0; k < drawn[i]; k++ {
			y := (dg.H-netFoot)/2 + (float64(k)-float64(drawn[i]-1)/2)*pitch
			col = append(col, Node{X: x, Y: y, Class: class, Layer: i, Unit: k, Map: dg.Net != nil && dg.Net.Layers[i].MapW > 0})
		}
		cols = append(cols, col)
		dg.Nodes = append(dg.Nodes, col...)
		dg.Labels = append(dg.Labels, Label{X: x, Y: dg.H - 5, Text: layerText(w, drawn[i])})
	}
	if dg.Net != nil {
		dg.weights(cols)
		return dg
	}
	var b strings.Builder
	for i := 0; i+1 < len(cols); i++ {
		for _, p := range cols[i] {
			for _, q := range cols[i+1] {
				fmt.Fprintf(&b, "M%.0f %.0fL%.0f %.0f", p.X+side/2, p.Y, q.X-side/2, q.Y)
			}
		}
	}
	dg.Edges = b.String()
	return dg
}

// layerText labels a layer of w units of which drawn are drawn.
func layerText(w, drawn int) string {
	switch {
	case drawn == 0:
		return fmt.Sprintf("%d inputs", w)
	case w > drawn:
		return fmt.Sprintf("%d (+%d more)", w, w-drawn)
	}
	return fmt.Sprint(w)
}

// weights adds the view's links and biases between the columns.
func (dg *Diagram) weights(cols [][]Node) {
	for li := 1; li < len(cols); li++ {
		l := dg.Net.Layers[li]
		prev := cols[li-1]
		for i, q := range cols[li] {
			for j, p := range prev {
				w := l.Weights[i*len(prev)+j]
				h := (0.6 + min(math.Abs(float64(w)), 4)*0.9) / 2
				if math.IsNaN(h) {
					h = 0.3
				}
				x1, y1, x2, y2 := p.X+dg.Side/2, p.Y, q.X-dg.Side/2, q.Y
				dg.Links = append(dg.Links, Link{
					D:     fmt.Sprintf("M%.2f %.2fL%.2f %.2fL%.2f %.2fL%.2f %.2fZ", x1, y1-h, x2, y2-h, x2, y2+h, x1, y1+h),
					Layer: li, To: i, From: j, W: w,
					Fill: rgb(color(signed(float64(w)), 0)),
				})
			}
			b := l.Bias[i]
			dg.Biases = append(dg.Biases, Bias{
				X: q.X - dg.Side/2 - dg.BiasSide() - 1, Y: q.Y + dg.Side/2 - dg.BiasSide(), Layer: li, Unit: i, B: b,
				Fill: rgb(color(signed(float64(b)), 0)),
			})
		}
	}
}

// signed maps a weight to the palette: its sign, darker the larger it is
// (full at 1).
func signed(w float64) float64 {
	if math.IsNaN(w) {
		return 0
	}
	return min(max(w, -1), 1)
}

func rgb(r, g, b byte) string { return fmt.Sprintf("#%02x%02x%02x", r, g, b) }

// Shape is one focusable shape of the diagram, as an SVG path: a link, a
// unit or a bias.
type Shape struct {
	D, Class, Fill string // Fill "" leaves the color to the class
	Target         NetTarget
}

// Shapes lists the diagram's links, then its units, then the biases (so a
// unit and its bias are above the links).
func (dg Diagram) Shapes() []Shape {
	square := func(x, y, s float64) string { return fmt.Sprintf("M%.2f %.2fh%.2fv%.2fh%.2fZ", x, y, s, s, -s) }
	out := make([]Shape, 0, len(dg.Links)+len(dg.Nodes)+len(dg.Biases))
	for _, k := range dg.Links {
		out = append(out, Shape{D: k.D, Class: "link", Fill: k.Fill, Target: k.Target()})
	}
	for _, n := range dg.Nodes {
		class := "node " + n.Class
		switch {
		case n.Map:
			class += " mapped"
		case dg.Net != nil:
			class += " nomap" // a unit of the live network without a picture (digits' deeper layers)
		}
		out = append(out, Shape{D: square(n.X-dg.Side/2, n.Y-dg.Side/2, dg.Side), Class: class, Target: n.Target()})
	}
	for _, b := range dg.Biases {
		out = append(out, Shape{D: square(b.X, b.Y, dg.BiasSide()), Class: "bias", Fill: b.Fill, Target: b.Target()})
	}
	return out
}

// BiasSide is the side of a bias square.
func (dg Diagram) BiasSide() float64 { return max(dg.Side/4, 4) }

// Style places an element over the diagram's square at x, y (centre) of
// side s, in percent of the diagram, so it scales with it.
func (dg Diagram) Style(x, y, s float64) string {
	return fmt.Sprintf("left:%.3f%%;top:%.3f%%;width:%.3f%%;height:%.3f%%",
		(x-s/2)/netW*100, (y-s/2)/dg.H*100, s/netW*100, s/dg.H*100)
}
