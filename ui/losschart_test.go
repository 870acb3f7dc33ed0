package ui

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"playground/wasm/protocol"
)

// chartOf is the loss chart of a run whose history is pts, at its last
// step.
func chartOf(t *testing.T, pts []protocol.CurvePoint, o ChartOpts) string {
	t.Helper()
	a := NewApp(nil)
	a.Run, a.Step, a.Chart = "r", pts[len(pts)-1].Step, o
	a.CurvesOf("r").addPoints(pts, true)
	return a.ChartSVG()
}

func svgAttr(t *testing.T, svg, id, name string) string {
	t.Helper()
	m := regexp.MustCompile(`data-testid="` + id + `"[^>]*? ` + name + `="([^"]*)"`).FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("no %s of %s in %s", name, id, svg)
	}
	return m[1]
}

// ys are the y positions of a curve's newest segment.
func ys(t *testing.T, svg, id string) []float64 {
	var out []float64
	for _, p := range strings.Fields(svgAttr(t, svg, id, "points")) {
		_, y, _ := strings.Cut(p, ",")
		v, _ := strconv.ParseFloat(y, 64)
		out = append(out, v)
	}
	return out
}

// A test loss far above the training loss is drawn where it is, inside
// the axis, not flattened at its top; every point is drawn.
func TestChartHoldsEveryPoint(t *testing.T) {
	var pts []protocol.CurvePoint
	for s := uint64(1); s <= 64; s++ {
		pts = append(pts, protocol.CurvePoint{Step: s, Train: protocol.Float(0.2), Test: protocol.Float(3.43 * float64(s) / 64)})
	}
	for _, o := range []ChartOpts{{}, {LogLoss: true}, {LogSteps: true}, {LogLoss: true, LogSteps: true}} {
		svg := chartOf(t, pts, o)
		if svgAttr(t, svg, "curve-test", "data-points") != "64" || svgAttr(t, svg, "curve-train", "data-points") != "64" {
			t.Errorf("%+v: not every point drawn", o)
		}
		test, train := ys(t, svg, "curve-test"), ys(t, svg, "curve-train")
		top := test[len(test)-1]
		if top < padT || top > padT+10 || test[0] <= top || train[0] <= top || train[0] > ChartH-padB {
			t.Errorf("%+v: test loss from y %v to %v, train at %v", o, test[0], top, train[0])
		}
	}
	if !strings.Contains(chartOf(t, pts, ChartOpts{}), `data-testid="chart-legend"`) {
		t.Error("no legend")
	}
}

// Steps never evaluated are a gap, not a straight line; a divergence is
// marked where it happened.
func TestChartGapsAndDivergence(t *testing.T) {
	var pts []protocol.CurvePoint
	for s := uint64(64); s <= 128; s += 2 {
		pts = append(pts, protocol.CurvePoint{Step: s, Train: protocol.Float(0.5), Test: protocol.Float(0.6)})
	}
	for s := uint64(4096); s <= 8192; s += 128 {
		pts = append(pts, protocol.CurvePoint{Step: s, Train: protocol.Float(0.4), Test: protocol.Float(0.5)})
	}
	pts = append(pts, protocol.CurvePoint{Step: 8320, Diverged: true}, protocol.CurvePoint{Step: 8448, Diverged: true})
	svg := chartOf(t, pts, ChartOpts{})
	if got := svgAttr(t, svg, "curve-train", "data-segments"); got != "2" {
		t.Errorf("%s segments, want 2", got)
	}
	if n := strings.Count(svg, `data-testid="curve-train-part"`); n != 1 {
		t.Errorf("%d older segments", n)
	}
	if steps := svgAttr(t, svg, "curve-train", "data-steps"); !strings.HasPrefix(steps, "64,66,") || !strings.Contains(steps, ",128|4096,4224,") || !strings.HasSuffix(steps, ",8192") {
		t.Errorf("steps %s", steps)
	}
	if svgAttr(t, svg, "chart-diverged", "data-step") != "8320" || !strings.Contains(svg, "diverged at step 8,320") {
		t.Error("divergence not marked")
	}
	if !Joined(4096, 4224) || Joined(128, 4096) || !Joined(1, 2) || Joined(1, 3) {
		t.Error("Joined")
	}
}

// A report of points replaces those at or after its first; a whole
// history replaces everything.
func TestCurvesAddPoints(t *testing.T) {
	var c Curves
	pt := func(s uint64) protocol.CurvePoint { return protocol.CurvePoint{Step: s} }
	c.addPoints([]protocol.CurvePoint{pt(1), pt(2), pt(3)}, false)
	c.addPoints([]protocol.CurvePoint{pt(2), pt(4)}, false)
	c.addPoints(nil, false)
	if len(c.Hist) != 3 || c.Hist[1].Step != 2 || c.Hist[2].Step != 4 {
		t.Errorf("%+v", c.Hist)
	}
	c.addPoints([]protocol.CurvePoint{pt(8)}, true)
	if len(c.Hist) != 1 || c.Hist[0].Step != 8 {
		t.Errorf("%+v", c.Hist)
	}
}

func TestAppendTenths(t *testing.T) {
	for _, v := range []float64{0, 0.04, 0.05, 1.25, 44, 589.96, -3.14} {
		if got, want := string(appendTenths(nil, v)), strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64); got != want {
			t.Errorf("%v: %s, want %s", v, got, want)
		}
	}
}

// A diverging run's axis: each step labelled once, a huge loss in three
// digits.
func TestChartAxesHugeLoss(t *testing.T) {
	huge := 5.97e33
	xs, ys := chartAxes(0, 1, []protocol.CurvePoint{{Step: 1, Train: &huge}}, ChartOpts{}).ticks()
	if len(xs) != 2 || xs[0].Label != "0" || xs[1].Label != "1" {
		t.Errorf("x ticks %+v", xs)
	}
	for _, y := range ys {
		if len(y.Label) > 8 {
			t.Errorf("y tick %q", y.Label)
		}
	}
}
