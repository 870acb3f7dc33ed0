package ui

import (
	"fmt"

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
	}
}

// StepText is the step counter (digits only, for scripts and tests);
// StepShownText is the one people read, with thousands separators.
func (a *App) StepText() string      { return fmt.Sprint(a.Step) }
func (a *App) StepShownText() string { return Commas(a.Step) }

// EpochText is the epoch counter.
func (a *App) EpochText() string {
	// Another tab's run: this tab has the step of the mark, not the epoch.
	if a.Run == "" || a.Phase == "locked" || a.Phase == "lost" {
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
