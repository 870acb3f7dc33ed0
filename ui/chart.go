package ui

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"playground/wasm/protocol"
)

// Pt is one point of a loss curve.
type Pt struct {
	Step uint64
	V    float64
}

// Series is a loss curve, bounded in size: past maxPts points it halves
// (neighbours merge) and from then on each point averages twice as many
// reports, so a long run costs the page a constant.
type Series struct {
	Pts    []Pt
	stride int     // reports per point (0: 1)
	n      int     // reports in the open last point
	sum    float64 // their sum
}

const maxPts = 800

// Add adds a report; points at or after step (a rewound run) go first.
func (s *Series) Add(step uint64, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	for len(s.Pts) > 0 && s.Pts[len(s.Pts)-1].Step >= step {
		s.Pts = s.Pts[:len(s.Pts)-1]
		s.n, s.sum = 0, 0
	}
	if s.n == 0 {
		s.Pts = append(s.Pts, Pt{})
	}
	s.n++
	s.sum += v
	s.Pts[len(s.Pts)-1] = Pt{step, s.sum / float64(s.n)}
	if s.n >= max(s.stride, 1) {
		s.n, s.sum = 0, 0
	}
	if len(s.Pts) > maxPts {
		half := s.Pts[:0]
		for i := 0; i+1 < len(s.Pts); i += 2 {
			half = append(half, Pt{s.Pts[i+1].Step, (s.Pts[i].V + s.Pts[i+1].V) / 2})
		}
		if len(s.Pts)%2 == 1 {
			half = append(half, s.Pts[len(s.Pts)-1])
		}
		s.Pts = half
		s.stride = max(s.stride, 1) * 2
		s.n, s.sum = 0, 0
	}
}

// Last is the newest point's value (NaN when empty).
func (s *Series) Last() float64 {
	if len(s.Pts) == 0 {
		return math.NaN()
	}
	return s.Pts[len(s.Pts)-1].V
}

// Curves are one run's training loss as reported (Train: the
// comparison's overlay) and its history on the evaluation schedule (Hist:
// the loss chart), which the worker sends whole whenever the run is
// restored, forked or pulled.
type Curves struct {
	Train Series
	Hist  []protocol.CurvePoint
	saved time.Time // when storeCurves last saved them
}

// addPoints adds a progress report's history points; with all they
// replace the history (points at or after the first new one go first).
func (c *Curves) addPoints(pts []protocol.CurvePoint, all bool) {
	if all {
		c.Hist = c.Hist[:0]
	}
	if len(pts) == 0 {
		return
	}
	for len(c.Hist) > 0 && c.Hist[len(c.Hist)-1].Step >= pts[0].Step {
		c.Hist = c.Hist[:len(c.Hist)-1]
	}
	c.Hist = append(c.Hist, pts...)
}

// CurvesOf returns run's curves, creating them.
func (a *App) CurvesOf(run string) *Curves {
	c := a.curves[run]
	if c == nil {
		c = &Curves{}
		a.curves[run] = c
	}
	return c
}

// Curves persist in localStorage (a few KB per run) so the chart survives
// a reload as the run does.
const curveKey, curveIndex = "pg-curve:", "pg-curves"

func (a *App) loadCurves(run string) {
	if _, ok := a.curves[run]; ok || a.Host == nil {
		return
	}
	c := a.CurvesOf(run)
	var stored struct{ T [][2]float64 }
	if json.Unmarshal([]byte(a.Host.Load(curveKey+run)), &stored) != nil {
		return
	}
	for _, p := range stored.T {
		c.Train.Add(uint64(p[0]), p[1])
	}
}

// storeCurves saves run's curves, at most every few seconds unless forced.
func (a *App) storeCurves(run string, force bool) {
	c := a.curves[run]
	if c == nil || a.Host == nil || (!force && a.Now().Sub(c.saved) < 3*time.Second) {
		return
	}
	c.saved = a.Now()
	pts := func(s Series) [][2]float64 {
		out := make([][2]float64, len(s.Pts))
		for i, p := range s.Pts {
			out[i] = [2]float64{float64(p.Step), math.Round(p.V*1e6) / 1e6}
		}
		return out
	}
	b, _ := json.Marshal(struct{ T [][2]float64 }{pts(c.Train)})
	a.Host.Save(curveKey+run, string(b))
	idx := strings.Split(a.Host.Load(curveIndex), ",")
	if !slices.Contains(idx, run) {
		idx = append(idx, run)
		a.Host.Save(curveIndex, strings.Trim(strings.Join(idx, ","), ","))
	}
}

// pruneCurves forgets the stored curves of runs that no longer exist. A
// list can be older than the newest checkpoints (a new run may not be in
// it yet), so runs this page has seen lately are kept.
func (a *App) pruneCurves() {
	if a.Host == nil {
		return
	}
	var keep []string
	for _, run := range strings.Split(a.Host.Load(curveIndex), ",") {
		if run == "" {
			continue
		}
		if _, seen := a.curves[run]; !seen && a.runInfo(run) == nil {
			a.Host.Save(curveKey+run, "")
			continue
		}
		keep = append(keep, run)
	}
	a.Host.Save(curveIndex, strings.Join(keep, ","))
}

// Chart geometry: an SVG of fixed view box, scaled by CSS.
const (
	ChartW, ChartH = 600.0, 210.0
	padL, padR     = 44.0, 10.0
	padT, padB     = 10.0, 30.0
)

// Line is one curve of a chart.
type Line struct {
	Points string
	Color  string
	Label  string
	Run    string
}

// Tick is an axis label.
type Tick struct {
	Pos    float64
	Label  string
	Anchor string // SVG text-anchor
}

// Chart is the comparison's chart laid out for the template.
type Chart struct {
	Lines          []Line
	XTicks, YTicks []Tick
	Empty          bool
}

type frame struct {
	x0, x1 uint64
	y1     float64
}

func (f frame) X(step uint64) float64 {
	span := float64(max(f.x1-f.x0, 1))
	return padL + float64(step-min(step, f.x0))/span*(ChartW-padL-padR)
}

func (f frame) Y(v float64) float64 {
	return padT + (1-min(max(v/f.y1, 0), 1))*(ChartH-padT-padB)
}

func (f frame) polyline(s Series) string {
	var b strings.Builder
	for _, p := range s.Pts {
		if p.Step < f.x0 || p.Step > f.x1 {
			continue
		}
		fmt.Fprintf(&b, "%.1f,%.1f ", f.X(p.Step), f.Y(p.V))
	}
	return strings.TrimSpace(b.String())
}

// newFrame fits the series, always including steps lo..hi.
func newFrame(lo, hi uint64, ss ...Series) frame {
	f := frame{x0: lo, x1: hi}
	var vals []float64
	for _, s := range ss {
		for _, p := range s.Pts {
			f.x0, f.x1 = min(f.x0, p.Step), max(f.x1, p.Step)
			vals = append(vals, p.V)
		}
	}
	// The top is the 98th percentile, so one early spike does not flatten
	// the rest of the curve.
	slices.Sort(vals)
	if len(vals) > 0 {
		f.y1 = vals[min(len(vals)-1, len(vals)*98/100)] * 1.08
	}
	if !(f.y1 > 0) {
		f.y1 = 1
	}
	if f.x1 <= f.x0 {
		f.x1 = f.x0 + 1
	}
	return f
}

// ticks labels the axes: five steps and three losses.
func (f frame) ticks() (xs, ys []Tick) {
	xs = stepTicks(f.X, func(i int) uint64 { return f.x0 + uint64(float64(f.x1-f.x0)*float64(i)/4) })
	for i := 0; i <= 2; i++ {
		v := f.y1 / 1.08 * float64(i) / 2
		ys = append(ys, Tick{f.Y(v), tickLabel(v), "end"})
	}
	return xs, ys
}

// CompareChart overlays the compared children's training curves.
func (a *App) CompareChart() Chart {
	c := a.Compare
	var ss []Series
	hi := c.Base.Step
	for _, k := range c.Children {
		if k.Run == "" {
			continue
		}
		hi = max(hi, k.Target)
		if cv := a.curves[k.Run]; cv != nil {
			ss = append(ss, cv.Train)
		}
	}
	f := newFrame(c.Base.Step, hi, ss...)
	var ch Chart
	for i, k := range c.Children {
		if k.Run == "" {
			continue
		}
		var s Series
		if cv := a.curves[k.Run]; cv != nil {
			s = cv.Train
		}
		ch.Lines = append(ch.Lines, Line{Points: f.polyline(s), Color: CompareColors[i%len(CompareColors)], Label: a.Compare.Param + " = " + k.Value, Run: k.Run})
	}
	ch.Empty = len(ch.Lines) == 0
	if !ch.Empty {
		ch.XTicks, ch.YTicks = f.ticks()
	}
	return ch
}

// ChildLoss is the newest training loss of a compared child, as text.
func (a *App) ChildLoss(run string) string {
	if cv := a.curves[run]; cv != nil && len(cv.Train.Pts) > 0 {
		return Fixed(cv.Train.Last(), 4)
	}
	return "–"
}

// stepOfID reads the step a checkpoint id starts with (persist.NewID).
func stepOfID(id string) (uint64, bool) {
	digits, _, ok := strings.Cut(id, "-")
	if !ok {
		return 0, false
	}
	var n uint64
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + uint64(r-'0')
	}
	return n, true
}

// stepTicks labels a steps axis at the steps at(0) … at(4) (fewer over a
// short span: each label once), placed by x.
func stepTicks(x func(uint64) float64, at func(i int) uint64) []Tick {
	var xs []Tick
	last := ^uint64(0)
	for i := 0; i <= 4; i++ {
		s := at(i)
		if s == last {
			continue
		}
		last = s
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		xs = append(xs, Tick{x(s), Commas(s), anchor})
	}
	return xs
}
