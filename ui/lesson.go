package ui

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"playground/wasm/protocol"
)

// A lesson link tailors the page: ?hide=NAMES leaves controls and panels
// out, ?lock=NAMES shows controls disabled, ?embed=1 lays the page out
// compactly for an iframe (README, "Lesson links").

// LessonControls are the names of the controls a lesson link hides or
// locks, in the order the share dialog lists them.
var LessonControls = []string{
	"play", "step", "reset", "speed",
	"preset", "dataset", "noise", "test", "samples", "features", "seed", "csv",
	"layers", "activation", "regularization",
	"optimizer", "lr", "schedule", "batch", "newrun", "link", "spec",
}

// LessonPanels are the names of the panels a lesson link hides.
var LessonPanels = []string{
	"data", "network", "training", "output", "chart", "travel", "fingerprint",
	"pad", "checkpoints", "server", "compare", "log",
}

// lessonLabels names each control and panel for people (the share dialog).
var lessonLabels = map[string]string{
	"play": "Play / pause", "step": "Step", "reset": "Reset", "speed": "Speed",
	"preset": "Preset", "dataset": "Dataset", "noise": "Noise", "test": "Test share", "samples": "Samples",
	"features": "Features", "seed": "Seed", "layers": "Hidden layers", "activation": "Activation",
	"regularization": "Regularization", "optimizer": "Optimizer", "lr": "Learning rate",
	"schedule": "Schedule", "batch": "Batch size", "newrun": "New run button", "link": "Share and copy link",
	"spec": "Spec (JSON)", "csv": "Your data (CSV)", "pad": "Drawing pad (digits)",
	"data": "Data panel", "network": "Network panel", "training": "Training panel", "output": "Output panel",
	"chart": "Loss chart", "travel": "Time travel", "fingerprint": "Fingerprint", "checkpoints": "Checkpoints",
	"server": "Server", "compare": "Compare runs", "log": "Log",
}

// Lesson is what a lesson link asks of the page.
type Lesson struct {
	Hide, Lock map[string]bool
	Embed      bool
}

// Visibility of a name in a lesson: shown, locked or hidden.
const (
	Shown  = "show"
	Locked = "lock"
	Hidden = "hide"
)

// ParseLesson reads the lesson options of a page's query; an unknown
// name is left out and reported in the error (the rest still applies).
func ParseLesson(query string) (Lesson, error) {
	q, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	l := Lesson{Hide: map[string]bool{}, Lock: map[string]bool{}}
	var bad []string
	if err != nil {
		bad = append(bad, err.Error())
	}
	read := func(key string, into map[string]bool, names ...[]string) {
		for _, v := range q[key] {
			for n := range strings.SplitSeq(v, ",") {
				n = strings.TrimSpace(n)
				switch {
				case n == "":
				case slices.ContainsFunc(names, func(ns []string) bool { return slices.Contains(ns, n) }):
					into[n] = true
				default:
					bad = append(bad, fmt.Sprintf("%s: unknown name %q", key, short(n)))
				}
			}
		}
	}
	read("hide", l.Hide, LessonControls, LessonPanels)
	read("lock", l.Lock, LessonControls)
	switch e := q.Get("embed"); e {
	case "", "0":
	case "1":
		l.Embed = true
	default:
		bad = append(bad, fmt.Sprintf("embed: %q (want 1 or 0)", short(e)))
	}
	if len(bad) > 0 {
		return l, fmt.Errorf("lesson link: %s (names: %s; panels: %s)", strings.Join(bad, "; "),
			strings.Join(LessonControls, ","), strings.Join(LessonPanels, ","))
	}
	return l, nil
}

// short cuts text from a link to 40 bytes for a message.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Query is the lesson's options as query parameters ("" when none).
func (l Lesson) Query() string {
	v := url.Values{}
	if h := setNames(l.Hide); h != "" {
		v.Set("hide", h)
	}
	if k := setNames(l.Lock); k != "" {
		v.Set("lock", k)
	}
	if l.Embed {
		v.Set("embed", "1")
	}
	return v.Encode()
}

// setNames lists the names set in m in the dialog's order.
func setNames(m map[string]bool) string {
	var out []string
	for _, n := range append(slices.Clone(LessonControls), LessonPanels...) {
		if m[n] {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// Shows says whether the page shows control or panel name.
func (a *App) Shows(name string) bool { return !a.Lesson.Hide[name] }

// Locks says whether the lesson locks control name.
func (a *App) Locks(name string) bool { return a.Lesson.Lock[name] }

// LessonLabel names a control or panel for people.
func LessonLabel(name string) string { return lessonLabels[name] }

// ShareState is the share dialog: what students see, and the link.
type ShareState struct {
	Open      bool
	Seen      map[string]string // name → Shown, Locked or Hidden
	Embed     bool
	Autostart bool
	StopAt    string // a step, or ""
	Link      string
}

// OpenShare opens the share dialog with the page's own lesson options.
func (a *App) OpenShare() {
	s := ShareState{Open: true, Seen: map[string]string{}, Embed: a.Lesson.Embed}
	for n := range a.Lesson.Hide {
		s.Seen[n] = Hidden
	}
	for n := range a.Lesson.Lock {
		s.Seen[n] = Locked
	}
	a.Share = s
	a.shareLink()
}

// CloseShare closes the share dialog.
func (a *App) CloseShare() { a.Share.Open = false }

// SetSeen sets what students see of name (Shown, Locked or Hidden).
func (a *App) SetSeen(name, seen string) {
	a.Share.Seen[name] = seen
	a.shareLink()
}

// SetShareOption sets one of the dialog's other options from a control.
func (a *App) SetShareOption(name, value string) {
	switch name {
	case "embed":
		a.Share.Embed = value == "true"
	case "autostart":
		a.Share.Autostart = value == "true"
	case "stopAt":
		a.Share.StopAt = strings.TrimSpace(value)
		a.Typed("share-stopat")
	}
	a.shareLink()
}

// SeenOf is what students see of name.
func (a *App) SeenOf(name string) string {
	if s := a.Share.Seen[name]; s != "" {
		return s
	}
	return Shown
}

// shareLink computes the dialog's link: the draft's spec, the lesson, and
// the pace, start and stop.
func (a *App) shareLink() {
	s := &a.Share
	l := Lesson{Hide: map[string]bool{}, Lock: map[string]bool{}, Embed: s.Embed}
	for n, seen := range s.Seen {
		l.Hide[n], l.Lock[n] = seen == Hidden, seen == Locked
	}
	q := protocol.EncodeSpecQuery(a.Draft)
	if lq := l.Query(); lq != "" {
		q += "&" + lq
	}
	if s.Autostart {
		q += "&autostart=1"
	}
	if n, err := strconv.ParseUint(s.StopAt, 10, 64); err == nil && n > 0 {
		q += "&stopAt=" + strconv.FormatUint(n, 10)
	}
	if a.Pace != protocol.PaceDefault {
		q += "&speed=" + SpeedParam(a.Pace)
	}
	if a.Host != nil {
		s.Link = a.Host.Link(q)
	}
}

// CopyShare copies the dialog's link.
func (a *App) CopyShare() {
	if a.Host != nil && a.Share.Link != "" {
		a.Host.Copy(a.Share.Link)
		a.log("", "Copied the lesson link.")
	}
}

// DivergedHere says whether the run paused where its loss stopped being
// a number.
func (a *App) DivergedHere() bool {
	return a.Diverged != 0 && a.Diverged == a.Step && a.Phase == protocol.PhasePaused
}

// DivergedText says what happened and what to do.
func (a *App) DivergedText() string {
	lr := "The learning rate"
	if a.Spec != nil {
		lr = fmt.Sprintf("The learning rate (%s)", Num(a.Spec.Optimizer.LR))
	}
	return fmt.Sprintf("Training diverged at step %s: the training loss is no longer finite. %s is too high for this setup: lower it and press Reset to start again.", Commas(a.Diverged), lr)
}

// FullLink is the page's setup without the lesson's options, for
// "Open in the playground".
func (a *App) FullLink() string {
	if a.Host == nil {
		return ""
	}
	return a.Host.Link(protocol.EncodeSpecQuery(a.Draft))
}
