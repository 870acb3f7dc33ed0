package ui

import (
	"strconv"

	"playground/wasm/protocol"
)

// Paces are the speeds the speed control offers, in steps per second
// (protocol.PaceDefault: the dataset's default; 0: full speed).
var Paces = []int{protocol.PaceDefault, 60, protocol.PaceWatch, 500, 2000, 10000, protocol.PaceFull}

// PaceLabel names a pace for people.
func PaceLabel(p int, kind string) string {
	switch p {
	case protocol.PaceDefault:
		return "default (" + PaceLabel(protocol.DefaultPace(kind), kind) + ")"
	case protocol.PaceFull:
		return "full speed"
	case 60:
		return "1 step per frame"
	}
	return Commas(uint64(p)) + " steps/s"
}

// SpeedParam is the ?speed= value of a pace: max, default, or steps per
// second.
func SpeedParam(p int) string {
	switch p {
	case protocol.PaceFull:
		return "max"
	case protocol.PaceDefault:
		return "default"
	}
	return strconv.Itoa(p)
}

// SetPace sets the speed from the control's text and keeps it in the URL.
func (a *App) SetPace(text string) {
	p, err := strconv.Atoi(text)
	if err != nil || p < protocol.PaceDefault || p > protocol.MaxPace || a.Locks("speed") {
		return
	}
	a.Pace = p
	a.settingsSeq = a.send(protocol.Command{Type: protocol.CmdSettings, Pace: &p})
	if a.Host != nil {
		v := SpeedParam(p)
		if p == protocol.PaceDefault {
			v = ""
		}
		a.Host.SetOption("speed", v)
	}
}

// SetStepBy sets what Step trains: "epoch" (the default) or "batch".
func (a *App) SetStepBy(by string) {
	a.StepBatch = by == "batch"
	if a.Host != nil {
		v := ""
		if a.StepBatch {
			v = "batch"
		}
		a.Host.SetOption("stepBy", v)
	}
}
