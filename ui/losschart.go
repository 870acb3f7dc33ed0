package ui

import (
	"fmt"
	"html"
	"math"
	"strconv"

	"playground/wasm/protocol"
)

// The loss chart is the run's history (Curves.Hist): the training loss
// and the test loss on the worker's evaluation schedule, the same on every
// machine at the same step. It is painted at the source: ChartSVG is the
// whole picture, which the page puts into the chart's box whenever it
// changes (wasm/ui), without rendering the rest of the page.

// minPerOctave is the sparsest the history's schedule gets (package
// curve thins to at most MaxPoints points, never below 8 per octave below
// 2^53): consecutive points farther apart were never evaluated between
// them, and the curve breaks there.
const minPerOctave = 8

// Joined says whether history points at steps a < b are neighbours on the
// evaluation schedule (drawn joined), not the two sides of a gap.
func Joined(a, b uint64) bool { return b-a <= max(1, b/minPerOctave) }

// ChartOpts are the loss chart's toggles.
type ChartOpts struct {
	LogLoss  bool // log-scale loss axis
	LogSteps bool // log-scale step axis
}

// axes map steps and losses to the chart's view box.
type axes struct {
	x0, x1 uint64
	y0, y1 float64 // loss range (log10 of it with logY)
	logX   bool
	logY   bool
}

func (f axes) xv(step uint64) float64 {
	if f.logX {
		return math.Log10(float64(step) + 1)
	}
	return float64(step)
}

// X is step's position.
func (f axes) X(step uint64) float64 {
	lo, hi := f.xv(f.x0), f.xv(f.x1)
	return padL + (f.xv(max(step, f.x0))-lo)/max(hi-lo, 1e-9)*(ChartW-padL-padR)
}

func (f axes) yv(v float64) float64 {
	if f.logY {
		return math.Log10(max(v, 1e-30))
	}
	return v
}

// Y is loss v's position (clamped into the plot).
func (f axes) Y(v float64) float64 {
	t := (f.yv(v) - f.y0) / max(f.y1-f.y0, 1e-12)
	return padT + (1-min(max(t, 0), 1))*(ChartH-padT-padB)
}

// chartAxes fits every drawn value, and steps lo..hi.
func chartAxes(lo, hi uint64, pts []protocol.CurvePoint, o ChartOpts) axes {
	f := axes{x0: lo, x1: max(hi, lo+1), logX: o.LogSteps, logY: o.LogLoss}
	vmin, vmax := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		f.x0, f.x1 = min(f.x0, p.Step), max(f.x1, p.Step)
		for _, v := range []*float64{p.Train, p.Test} {
			if v != nil && (!f.logY || *v > 0) {
				vmin, vmax = min(vmin, *v), max(vmax, *v)
			}
		}
	}
	switch {
	case vmax < vmin: // nothing drawn
		f.y0, f.y1 = 0, 1
		if f.logY {
			f.y0, f.y1 = -2, 0
		}
	case f.logY:
		f.y0, f.y1 = math.Log10(vmin), math.Log10(vmax)
		pad := max((f.y1-f.y0)*0.05, 0.05)
		f.y0, f.y1 = f.y0-pad, f.y1+pad
	default:
		f.y0, f.y1 = 0, vmax*1.05
		if !(f.y1 > 0) {
			f.y1 = 1
		}
	}
	return f
}

func (f axes) ticks() (xs, ys []Tick) {
	xs = stepTicks(f.X, func(i int) uint64 {
		if f.logX {
			return uint64(math.Round(math.Pow(10, f.xv(f.x0)+(f.xv(f.x1)-f.xv(f.x0))*float64(i)/4) - 1))
		}
		return f.x0 + uint64(float64(f.x1-f.x0)*float64(i)/4)
	})
	for i := 0; i <= 2; i++ {
		v := f.y0 + (f.y1-f.y0)*float64(i)/2
		label := tickLabel(v)
		if f.logY {
			v = math.Pow(10, v)
			label = fmt.Sprintf("%.3g", v)
		}
		ys = append(ys, Tick{f.Y(v), label, "end"})
	}
	return xs, ys
}

// segments splits the points with a value (by val) into runs drawn
// joined, as [start, end) index ranges of pts: a missing value or a gap in
// the schedule breaks the curve.
func segments(pts []protocol.CurvePoint, val func(protocol.CurvePoint) *float64) [][2]int {
	var out [][2]int
	start := -1
	for i, p := range pts {
		if start >= 0 && (val(p) == nil || !Joined(pts[i-1].Step, p.Step)) {
			out, start = append(out, [2]int{start, i}), -1
		}
		if start < 0 && val(p) != nil {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(pts)})
	}
	return out
}

// appendCurve draws one curve as a polyline per segment; the newest
// carries the test id, the number of points drawn in all, the segments
// and their steps (segments separated by "|").
func appendCurve(b []byte, f axes, pts []protocol.CurvePoint, label, color string, val func(protocol.CurvePoint) *float64) []byte {
	segs := segments(pts, val)
	n, drawn := 0, len(segs)
	for _, sg := range segs {
		n += sg[1] - sg[0]
	}
	if drawn == 0 {
		segs = [][2]int{{0, 0}} // an empty polyline still carries the test id
	}
	for i, sg := range segs {
		b = append(b, `<polyline class="curve" data-testid="curve-`...)
		b = append(b, label...)
		if i < len(segs)-1 {
			b = append(b, "-part"...)
		}
		b = append(b, `" points="`...)
		for j, p := range pts[sg[0]:sg[1]] {
			if j > 0 {
				b = append(b, ' ')
			}
			b = append(appendTenths(b, f.X(p.Step)), ',')
			b = appendTenths(b, f.Y(*val(p)))
		}
		b = append(append(append(b, `" stroke="`...), color...), '"')
		if i == len(segs)-1 {
			b = fmt.Appendf(b, ` data-points="%d" data-segments="%d" data-steps="`, n, drawn)
			for k, sg := range segs {
				if k > 0 {
					b = append(b, '|')
				}
				for j, p := range pts[sg[0]:sg[1]] {
					if j > 0 {
						b = append(b, ',')
					}
					b = strconv.AppendUint(b, p.Step, 10)
				}
			}
			b = append(b, '"')
		}
		b = append(b, "></polyline>"...)
	}
	return b
}

// appendTenths appends v with one decimal, as "%.1f" would (v is a
// coordinate of the view box: small and not negative in practice).
func appendTenths(b []byte, v float64) []byte {
	n := int64(math.Round(v * 10))
	if n < 0 {
		b, n = append(b, '-'), -n
	}
	b = strconv.AppendInt(b, n/10, 10)
	return append(b, '.', byte('0'+n%10))
}

func trainOf(p protocol.CurvePoint) *float64 { return p.Train }
func testOf(p protocol.CurvePoint) *float64  { return p.Test }

// ChartX0 is the first step the loss chart shows.
func (a *App) ChartX0() uint64 {
	lo := a.Step
	for _, ck := range a.Checkpoints() {
		lo = min(lo, ck.Step)
	}
	if c := a.curves[a.Run]; c != nil && len(c.Hist) > 0 {
		lo = min(lo, c.Hist[0].Step)
	}
	return lo
}

// ChartSVG is the active run's loss chart (AppendChart).
func (a *App) ChartSVG() string { return string(a.AppendChart(nil)) }

// AppendChart appends the active run's loss chart, an SVG, to b: the train
// and test curves of its history, with gaps where it was never evaluated,
// an axis that holds every point drawn, a legend, where the run diverged,
// the checkpoints as marks and the time-travel cursor.
func (a *App) AppendChart(b []byte) []byte {
	var pts []protocol.CurvePoint
	if c := a.curves[a.Run]; c != nil {
		pts = c.Hist
	}
	f := chartAxes(a.ChartX0(), a.Step, pts, a.Chart)
	b = fmt.Appendf(b, `<svg class="losschart" data-testid="loss-chart" viewBox="0 0 %v %v" role="img" aria-label="training (orange) and test (blue) loss by step; checkpoints marked below">`, ChartW, ChartH)
	b = fmt.Appendf(b, `<line class="axisline" x1="%v" y1="%v" x2="%v" y2="%v"></line><line class="axisline" x1="%v" y1="%v" x2="%v" y2="%v"></line>`,
		padL, padT, padL, ChartH-padB, padL, ChartH-padB, ChartW-padR, ChartH-padB)
	xs, ys := f.ticks()
	for _, t := range ys {
		b = fmt.Appendf(b, `<text class="axis" x="40" y="%.1f" text-anchor="end">%s</text>`, t.Pos+4, t.Label)
	}
	for _, t := range xs {
		b = fmt.Appendf(b, `<text class="axis" x="%.1f" y="206" text-anchor="%s">%s</text>`, t.Pos, t.Anchor, t.Label)
	}
	b = appendCurve(b, f, pts, "train", "#f28c28", trainOf)
	b = appendCurve(b, f, pts, "test", "#2b6cb0", testOf)
	for _, p := range pts {
		if p.Diverged {
			x := f.X(p.Step)
			b = fmt.Appendf(b, `<g class="diverged" data-testid="chart-diverged" data-step="%d"><line x1="%.1f" y1="%v" x2="%.1f" y2="%v"></line><text x="%.1f" y="%v" text-anchor="end">diverged at step %s</text></g>`,
				p.Step, x, padT, x, ChartH-padB, x-3, padT+22, Commas(p.Step))
			break
		}
	}
	b = append(b, `<g class="legend" data-testid="chart-legend"><rect x="414" y="8" width="170" height="16" fill="#fff" fill-opacity="0.85"></rect><line x1="420" y1="16" x2="436" y2="16" stroke="#f28c28"></line><text x="440" y="20">train loss</text><line x1="505" y1="16" x2="521" y2="16" stroke="#2b6cb0"></line><text x="525" y="20">test loss</text></g>`...)
	if a.Scrub.On {
		x := f.X(a.Scrub.Target)
		b = fmt.Appendf(b, `<line class="cursor" data-testid="scrub-cursor" x1="%.1f" y1="%v" x2="%.1f" y2="%v"></line>`, x, padT, x, ChartH-padB)
	}
	b = a.appendMarks(b, f)
	if len(pts) == 0 {
		b = append(b, `<text x="300" y="100" text-anchor="middle" class="axis">the loss appears here while training</text>`...)
	}
	return append(b, `</svg>`...)
}

// appendMarks appends the checkpoints' marks under the step axis.
func (a *App) appendMarks(b []byte, f axes) []byte {
	for _, ck := range a.Checkpoints() {
		if ck.Error != "" {
			continue
		}
		class := "mark " + ck.Kind
		if ck.ID == a.Selected {
			class += " selected"
		}
		b = fmt.Appendf(b, `<path class="%s" data-testid="ckpt-mark" data-step="%d" data-id="%s" d="M%.1f 181l5 8h-10z"><title>%s checkpoint at step %s</title></path>`,
			html.EscapeString(class), ck.Step, html.EscapeString(ck.ID), f.X(ck.Step), html.EscapeString(ck.Kind), Commas(ck.Step))
	}
	return b
}

// Toggle is a checkbox of the output: its test id, label and state.
type Toggle struct {
	ID, Label string
	On        bool
}

// Toggles are the checkboxes of the loss chart ("chart") or of the output
// map ("output").
func (a *App) Toggles(group string) []Toggle {
	if group == "chart" {
		return []Toggle{{"log-loss", "log loss", a.Chart.LogLoss}, {"log-steps", "log steps", a.Chart.LogSteps}}
	}
	return []Toggle{{"show-test", "Show test data", a.ShowTest}, {"discretize", "Discretize output", a.Discretize}}
}

// Toggle sets the checkbox with test id id.
func (a *App) Toggle(id string, on bool) {
	switch id {
	case "log-loss":
		a.Chart.LogLoss = on
	case "log-steps":
		a.Chart.LogSteps = on
	case "show-test":
		a.ShowTest = on
	case "discretize":
		a.Discretize = on
	}
}
