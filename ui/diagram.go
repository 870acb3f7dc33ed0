package ui

import (
	"fmt"
	"strings"
)

// The network diagram's view box.
const netW, netH = 260, 110

// Node is one unit drawn in the network diagram.
type Node struct {
	X, Y  float64
	Class string // input, hidden or output
}

// Label is a text in the network diagram.
type Label struct {
	X, Y float64
	Text string
}

// Diagram is the draft network drawn as columns of units; all the
// connections are one path, so the diagram stays a few dozen nodes.
type Diagram struct {
	Nodes  []Node
	Edges  string // an SVG path
	Labels []Label
}

// maxDrawn is the most units drawn per layer; more are summarized.
const maxDrawn = 8

// NetDiagram lays out the draft network.
func (a *App) NetDiagram() Diagram {
	d := a.Draft
	widths := []int{d.Inputs()}
	for _, l := range d.Model.Layers {
		widths = append(widths, l.Units)
	}
	var dg Diagram
	var cols [][]Node
	gap := float64(netW-30) / float64(max(len(widths)-1, 1))
	for i, w := range widths {
		x := 15 + gap*float64(i)
		n := min(w, maxDrawn)
		class := "hidden"
		switch i {
		case 0:
			class = "input"
		case len(widths) - 1:
			class = "output"
		}
		var col []Node
		for k := 0; k < n; k++ {
			y := float64(netH-18)/2 + (float64(k)-float64(n-1)/2)*11
			col = append(col, Node{X: x, Y: y + 2, Class: class})
		}
		cols = append(cols, col)
		dg.Nodes = append(dg.Nodes, col...)
		text := fmt.Sprint(w)
		if w > maxDrawn {
			text = fmt.Sprintf("%d…", w)
		}
		dg.Labels = append(dg.Labels, Label{X: x, Y: netH - 3, Text: text})
	}
	var b strings.Builder
	for i := 0; i+1 < len(cols); i++ {
		for _, p := range cols[i] {
			for _, q := range cols[i+1] {
				fmt.Fprintf(&b, "M%.0f %.0fL%.0f %.0f", p.X, p.Y, q.X, q.Y)
			}
		}
	}
	dg.Edges = b.String()
	return dg
}
