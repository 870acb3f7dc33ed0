package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"playground/spec"
	"playground/wasm/protocol"
)

// Time travel and run comparison.

// ScrubState is the time-travel view: a past step of the run, recomputed
// by the worker.
type ScrubState struct {
	On       bool
	Target   uint64          // the step asked for last
	Result   *protocol.Scrub // the newest answer (maybe an interim one)
	View     *ViewImage
	inflight bool
	seq      int64 // the CmdScrub sent last, until an event answers it (0: none)
}

// waits says whether seq is that of the scrub sent last and not answered
// yet.
func (s *ScrubState) waits(seq int64) bool { return seq != 0 && seq == s.seq }

// ScrubTo shows step (clamped to the run's current step). At most one
// request is in flight; the newest target is sent when it is answered,
// so dragging never queues work in the worker.
func (a *App) ScrubTo(step uint64) {
	if a.Run == "" {
		return
	}
	s := &a.Scrub
	s.On, s.Target = true, min(step, a.Step)
	if !s.inflight {
		s.inflight = true
		s.seq = a.send(protocol.Command{Type: protocol.CmdScrub, Run: a.Run, At: s.Target})
	}
}

// ScrubText handles the step typed into the time-travel field.
func (a *App) ScrubText(v string) {
	a.Typed("scrub-step")
	n, err := strconv.ParseUint(strings.TrimSpace(strings.ReplaceAll(v, ",", "")), 10, 64)
	if err == nil {
		a.ScrubTo(n)
	}
}

// ScrubLive leaves time travel: the page follows the live run again.
func (a *App) ScrubLive() {
	a.Scrub = ScrubState{inflight: a.Scrub.inflight, seq: a.Scrub.seq}
	a.padAsk()
}

func (a *App) scrubbed(ev protocol.Event, data []byte) {
	r := ev.Scrub
	s := &a.Scrub
	if r == nil || r.Run != a.Run {
		s.inflight = false
		return
	}
	if !s.On {
		s.inflight = !r.Done && r.Error == ""
		return
	}
	s.Result = r
	if r.Error != "" {
		s.inflight = false
		a.warn("warn", "time travel: "+r.Error)
		return
	}
	if !r.Done {
		return
	}
	s.inflight = false
	if ev.View != nil {
		s.View = NewViewImage(ev.View, data)
	}
	a.padAsk()
	if s.Target != r.At {
		a.ScrubTo(s.Target)
	}
}

// ScrubView is what the output shows: the scrubbed step's view while time
// travelling, else the live one.
func (a *App) ScrubView() *ViewImage {
	if a.Scrub.On && a.Scrub.View != nil {
		return a.Scrub.View
	}
	return a.Live
}

// ScrubDone says whether the time-travel answer is complete and current.
func (a *App) ScrubDone() bool {
	r := a.Scrub.Result
	return a.Scrub.On && r != nil && r.Done && r.At == a.Scrub.Target && r.Error == ""
}

// CompareParams are the settings the compare panel can vary.
var CompareParams = []string{"lr", "regRate", "momentum", "noise", "seed"}

// CompareState is the compare panel: its settings, and the comparison the
// worker runs (forking children from one checkpoint, one setting varied,
// training them in turn), as its last EvCompare said. A reload does not
// stop it: the worker continues it and says so.
type CompareState struct {
	Param    string
	Values   string
	Steps    int
	Base     protocol.Checkpoint
	Children []CompareChild
	Active   bool
	Err      string

	baseName string
	seq      int64 // the CmdCompare sent last
}

// CompareChild is one forked run of a comparison.
type CompareChild struct {
	Value  string
	Run    string
	From   uint64
	Target uint64
	Done   bool
}

// SetCompare changes a field of the compare panel.
func (a *App) SetCompare(field, v string) {
	c := &a.Compare
	a.Typed("compare-" + field)
	switch field {
	case "param":
		c.Param = v
	case "values":
		c.Values = v
	case "steps":
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			c.Steps = n
		}
	}
}

// compareSettings are the compare panel's settings, each one unset
// defaulted: the learning rate varied over a third, the draft's and three
// times it, 500 steps each.
func (a *App) compareSettings() (param, values string, steps int) {
	c := &a.Compare
	param, values, steps = c.Param, c.Values, c.Steps
	if param == "" {
		param = "lr"
	}
	if values == "" {
		lr := a.Draft.Optimizer.LR
		values = fmt.Sprintf("%.3g, %.3g, %.3g", lr/3, lr, lr*3)
	}
	if steps == 0 {
		steps = 500
	}
	return param, values, steps
}

// compareDefaults fills the panel's unset settings.
func (a *App) compareDefaults() {
	c := &a.Compare
	c.Param, c.Values, c.Steps = a.compareSettings()
}

// CompareBaseText names the checkpoint a comparison starts from (it
// follows the saves: painted at the source).
func (a *App) CompareBaseText() string {
	if b, ok := a.CompareBase(); ok {
		return "the checkpoint at step " + Commas(b.Step)
	}
	return "the selected checkpoint"
}

// CompareBase is the checkpoint a comparison forks from: the selected one,
// else the active run's newest.
func (a *App) CompareBase() (protocol.Checkpoint, bool) {
	cs := a.Checkpoints()
	for _, c := range cs {
		if c.ID == a.Selected && c.Error == "" {
			return c, true
		}
	}
	for _, c := range cs {
		if c.Error == "" {
			return c, true
		}
	}
	return protocol.Checkpoint{}, false
}

// StartCompare asks the worker to run the comparison: one child per
// value, each with the draft's spec but for the value.
func (a *App) StartCompare() {
	a.compareDefaults()
	c := &a.Compare
	base, ok := a.CompareBase()
	if !ok || a.Spec == nil {
		c.Err = "no checkpoint to fork from yet"
		return
	}
	c.baseName = a.Name
	plan := &protocol.Compare{Base: base, Param: c.Param, Steps: uint64(c.Steps)}
	var kids []CompareChild
	for _, v := range strings.Split(c.Values, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		spec, err := a.childSpec(v)
		if err != nil {
			c.Err = err.Error()
			return
		}
		kids = append(kids, CompareChild{Value: v})
		plan.Children = append(plan.Children, protocol.CompareChild{Value: v, Spec: json.RawMessage(spec.JSON())})
	}
	if len(kids) == 0 {
		c.Err = "list the values to compare, separated by commas"
		return
	}
	c.Base, c.Children, c.Err, c.Active = base, kids, "", true
	c.seq = a.send(protocol.Command{Type: protocol.CmdCompare, Compare: plan})
}

// childSpec is the draft with the compared setting set to v, named after
// it.
func (a *App) childSpec(v string) (spec.Spec, error) {
	s := a.Draft
	if err := setField(&s, a.Compare.Param, v); err != nil {
		return s, err
	}
	name := a.Compare.baseName
	if name == "" {
		name = "run"
	}
	s.Name = fmt.Sprintf("%s %s=%s", name, a.Compare.Param, v)
	n, err := s.Normalize()
	if err != nil {
		return s, err
	}
	if a.Spec != nil && !sameLayout(n, *a.Spec) {
		return s, fmt.Errorf("%s=%s changes the network; a fork cannot continue the checkpoint", a.Compare.Param, v)
	}
	return n, nil
}

// compared follows the worker's comparison. The children's curves come
// from the page's store when they trained before a reload, and are kept
// there as each child ends.
func (a *App) compared(p *protocol.Compare) {
	if p == nil {
		return
	}
	c := &a.Compare
	c.Base, c.Param, c.Active, c.Err = p.Base, p.Param, !p.Done, p.Error
	was := c.Children
	c.Children = make([]CompareChild, len(p.Children))
	for i, k := range p.Children {
		c.Children[i] = CompareChild{Value: k.Value, Run: k.Run, From: k.From, Target: k.Target, Done: k.Done}
		if k.Run == "" {
			continue
		}
		a.loadCurves(k.Run)
		if k.Done && (i >= len(was) || !was[i].Done) {
			a.storeCurves(k.Run, true)
		}
	}
	if p.Done && p.Error == "" {
		a.log("", "Compared %d runs from step %s.", len(c.Children), Commas(c.Base.Step))
	}
}

func (c *CompareState) failed(seq int64, msg string) {
	if c.Active && seq != 0 && seq == c.seq {
		c.Active, c.Err = false, msg
	}
}

// CompareColors color the children's curves.
var CompareColors = []string{"#2b6cb0", "#d53f8c", "#2f855a", "#b7791f", "#6b46c1", "#c53030"}
