package ui

import (
	"fmt"
	"strconv"

	"playground/wasm/protocol"
)

// What changes while a run trains is painted at the source: between the
// page's renders (which follow the controls and the worker's other
// events) the browser side (wasm/ui) writes these texts, the loss chart
// (ChartSVG) and the pictures (Paint) straight into their elements. The
// templates show the same functions, so a render agrees with the paint.

// LiveText is a text painted at the source: the element with data-testid
// ID gets Text (and Class, when not empty).
type LiveText struct {
	ID, Text, Class string
}

// LiveTexts are the texts that change as a run trains and as time passes.
func (a *App) LiveTexts() []LiveText {
	return []LiveText{
		{ID: "step", Text: a.StepText()},
		{ID: "step-shown", Text: a.StepShownText()},
		{ID: "epoch", Text: a.EpochText()},
		{ID: "speed", Text: a.SpeedText()},
		{ID: "loss", Text: a.LossText()},
		{ID: "test-loss", Text: a.TestLossText()},
		{ID: "accuracy", Text: a.AccuracyText()},
		{ID: "status", Text: a.StatusLine(), Class: a.StatusClass()},
		{ID: "net-value", Text: a.NetValueText()},
		{ID: "last-save", Text: a.LastSaveText()},
		{ID: "saves", Text: fmt.Sprint(a.Saves)},
		{ID: "compare-base", Text: a.CompareBaseText()},
	}
}

// LastSaveText is the step of the last checkpoint saved ("" before one),
// for scripts.
func (a *App) LastSaveText() string {
	if a.LastSave == nil {
		return ""
	}
	return fmt.Sprint(a.LastSave.Step)
}

// StepText is the step counter (digits only, for scripts and tests);
// StepShownText is the one people read, with thousands separators.
func (a *App) StepText() string      { return fmt.Sprint(a.Step) }
func (a *App) StepShownText() string { return Commas(a.Step) }

// EpochText is the epoch counter.
func (a *App) EpochText() string {
	// Another tab's run: this tab has the step of the mark, not the epoch.
	if a.Run == "" || a.Elsewhere() {
		return "–"
	}
	return Commas(uint64(a.Epoch))
}

// SpeedText is the training speed while training.
func (a *App) SpeedText() string {
	if a.StepsPerSec <= 0 || !a.Running() {
		return "–"
	}
	return Commas(uint64(a.StepsPerSec + 0.5))
}

// LossText, TestLossText and AccuracyText are the metrics shown.
func (a *App) LossText() string     { return Opt(a.Loss, 4) }
func (a *App) TestLossText() string { return Opt(a.TestLoss, 4) }
func (a *App) AccuracyText() string { return Percent(a.Accuracy) }

// StatusClass is the status line's class.
func (a *App) StatusClass() string {
	if a.StatusWarn() {
		return "status warn"
	}
	return "status"
}

// Pred is the label predicted for the i-th digit shown, PredClass
// whether it is right ("ok") or not ("bad").
func (a *App) Pred(i int) string { return fmt.Sprint(a.ScrubView().Predicted[i]) }

func (a *App) PredClass(i int) string {
	if a.ScrubView().Correct(i) {
		return "ok"
	}
	return "bad"
}

// LivePreds are the predicted labels of the digits shown, with their
// classes (nil unless digits are shown).
func (a *App) LivePreds() []LiveText {
	v := a.ScrubView()
	if v == nil || v.Kind != protocol.ViewDigits {
		return nil
	}
	out := make([]LiveText, len(v.Labels))
	for i := range v.Labels {
		out[i] = LiveText{ID: "digit-pred", Text: a.Pred(i), Class: a.PredClass(i)}
	}
	return out
}

// DiagramKey is the network diagram's structure: the units drawn per
// layer and the sizes of their maps, or the draft's widths without a view
// of its network. The page renders when it changes (a new layout, new
// canvases); between renders the diagram's links and biases are painted
// at the source (LiveShapes).
func (a *App) DiagramKey() string {
	b := make([]byte, 0, 64)
	net := a.netView()
	if net == nil {
		b = append(b, "draft"...)
		b = strconv.AppendInt(b, int64(a.Draft.Inputs()), 10)
		for _, l := range a.Draft.Model.Layers {
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(l.Units), 10)
		}
		return string(b)
	}
	for _, l := range net.Layers {
		b = fmt.Appendf(b, "%d:%dx%d ", l.Drawn, l.MapW, l.MapH)
	}
	return string(b)
}

// LiveShape is a link's or a bias's shape in the network diagram as the
// template draws it: the element with id ID gets D, Fill and Label (its
// aria-label).
type LiveShape struct {
	ID, D, Fill, Label string
}

// LiveShapes are the diagram's links and biases, which change with every
// view (nil without a view of the draft's network).
func (a *App) LiveShapes() []LiveShape {
	dg := a.NetDiagram()
	if dg.Net == nil {
		return nil
	}
	var out []LiveShape
	for _, sh := range dg.Shapes() {
		if sh.Target.Kind == "unit" {
			continue // a unit's square and name do not change with the view
		}
		out = append(out, LiveShape{ID: sh.Target.DOMID(), D: sh.D, Fill: sh.Fill, Label: a.NetLabel(sh.Target)})
	}
	return out
}
