// Package ui is the playground page: vugu components (the .vugu files, and
// the code vugugen generates from them) over one App, the page's state.
// App is plain Go: it applies the engine worker's events
// (wasm/protocol) and turns the controls into commands, so the whole page
// renders natively under vugu's static renderer in tests. The browser side
// (the worker, the URL, canvases, storage) is behind Host, which the UI's
// wasm main (wasm/ui) implements.
package ui

//go:generate go tool vugugen -s -skip-go-mod -skip-main .
//go:generate gofmt -w 0_components_gen.go

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"playground/spec"
	"playground/wasm/protocol"

	"github.com/vugu/vugu/js"
)

// Host is what the page needs from the browser.
type Host interface {
	// Send posts a command to the engine worker.
	Send(c protocol.Command)
	// SendFile posts c with the file chosen in input as its bytes.
	SendFile(c protocol.Command, input js.Value)
	// SendBytes posts c with b as its bytes.
	SendBytes(c protocol.Command, b []byte)
	// SetQuery replaces the spec part of the page's URL (no navigation).
	SetQuery(query string)
	// SetOption sets one option of the page's URL ("" removes it).
	SetOption(key, value string)
	// Load and Save keep small strings across reloads (localStorage).
	Load(key string) string
	Save(key, value string)
	// Link is the page's absolute URL with query as its spec part.
	Link(query string) string
	// Copy puts text on the clipboard.
	Copy(text string)
	// Paint draws a w×h RGBA image into the canvas with that id. It copies
	// rgba: the caller may reuse it.
	Paint(canvasID string, w, h int, rgba []byte)
}

// App is the page's state.
type App struct {
	Host Host
	Now  func() time.Time

	Presets []string

	// The session, as the worker's last status said.
	Phase       string
	Run         string
	Name        string
	Owner       bool
	Step        uint64
	Epoch       int
	Fingerprint string
	PauseAt     uint64
	Pace        int    // the speed as set (protocol.PaceDefault: the dataset's)
	PaceNow     int    // the speed in force (0: full speed)
	Diverged    uint64 // the step whose loss was not finite (training paused there)
	Autosave    protocol.Autosave
	Spec        *spec.Spec // the active run's

	// Progress.
	Loss, TestLoss, Accuracy *float64
	StepsPerSec              float64
	curves                   map[string]*Curves
	Chart                    ChartOpts // the loss chart's toggles

	// Persistence.
	Runs     []protocol.RunInfo
	Selected string // checkpoint id selected in the timeline
	LastSave *protocol.Saved
	saveTime time.Time
	Saves    int
	Resumed  *protocol.Resumed
	resumeAt time.Time
	Warning  string
	warnAt   time.Time
	Log      []LogLine
	Damaged  map[string]string // checkpoints a resume skipped: why (protocol.Skipped.Unusable)
	// StorageOff says why checkpoints are off ("" when they are kept): the
	// browser refused the worker its storage, the run trains in memory.
	StorageOff string

	// The sync with the server (sync.go).
	AutoPush bool   // every checkpoint of the active run goes to the server (the worker's status)
	Server   string // the server's base URL (the worker's status)
	Token    string // the server's bearer token, as stored in the page
	// The server's runs, as the last CmdServerRuns answered; nothing is
	// shown before the first answer.
	ServerRuns       []protocol.ServerRun
	ServerRunsLoaded bool
	ServerErr        string           // why the server's runs could not be listed
	LastSync         *protocol.Synced // the last push, pull or auto-push finished
	syncAt           time.Time
	SyncErr          string // the last push or pull failed: why (until the next sync)
	Unreachable      bool   // the server stopped answering (EvReach); auto-push, if on, retries
	syncOp, syncRun  string // the push or pull in flight
	syncSeq          int64
	listSeq          int64 // the last CmdServerRuns
	listQuiet        bool  // the page sent it by itself: a failure only goes to the log
	listAsked        bool  // the first listing went out

	// The settings being edited; Play and Fork use them.
	Draft    spec.Spec
	DraftErr string
	edited   bool // the user changed Draft since it last followed the run
	// The command that trains the draft (start, continue, reset, fork)
	// until the worker answers it, and the draft it sent: the edits stay
	// until the run takes them, and a refusal keeps them.
	draftSeq  int64
	draftSent string

	SharedLink string            // the link last copied
	Lesson     Lesson            // what the page's link hides and locks
	Share      ShareState        // the share dialog
	StepBatch  bool              // Step trains one batch, not one epoch
	typing     map[string]string // text being typed into fields
	badField   string            // the field whose text did not parse (kept in typing, DraftErr says why)

	// What the model makes of its inputs.
	Live    *ViewImage
	Scrub   ScrubState
	Compare CompareState
	Pad     PadState // the drawing pad (digits)
	CSV     CSVState // the custom data upload

	Net NetState // the network panel's focus and editor

	painted *ViewImage
	// The output's toggles: test points drawn, the heat map discretized.
	ShowTest, Discretize bool
	paintedDiscrete      bool
	paintedFocus         string     // the unit the heat map shows ("" the output)
	unitsPainted         *ViewImage // the view whose unit maps are painted
	unitBuf              []byte     // the pixels of a unit's map, reused
	unitVals             []float32  // its values, reused
	seq                  int64
	settingsSeq          int64    // the last settings command not yet answered
	gone                 []string // run/id of checkpoints deleted lately
	loggedRun            string   // the run the log last introduced
	points               pointsCache
}

// EvPageLog is an event of the page itself (not the worker): a line for
// the log.
const EvPageLog = "page-log"

// LogLine is one entry of the page's log.
type LogLine struct {
	Time  time.Time
	Text  string
	Class string // "", "warn" or "error"
}

// NewApp returns the page's state before the worker is ready.
func NewApp(h Host) *App {
	a := &App{
		Host: h, Now: time.Now, Phase: "loading", Damaged: map[string]string{},
		curves: map[string]*Curves{}, Pace: protocol.PaceDefault, ShowTest: true,
		Lesson: Lesson{Hide: map[string]bool{}, Lock: map[string]bool{}},
	}
	spec, _ := spec.Preset("circle-sgd")
	a.Draft = spec
	if h != nil {
		a.Token = h.Load(tokenKey)
	}
	return a
}

// send posts a command with a fresh sequence number and returns it.
func (a *App) send(c protocol.Command) int64 {
	return a.sendWith(c, func(c protocol.Command) { a.Host.Send(c) })
}

// sendWith posts a command with a fresh sequence number through send.
func (a *App) sendWith(c protocol.Command, send func(protocol.Command)) int64 {
	a.seq++
	c.Seq = a.seq
	if a.Host != nil {
		send(c)
	}
	return c.Seq
}

func (a *App) log(class, format string, args ...any) {
	a.Log = append([]LogLine{{Time: a.Now(), Text: fmt.Sprintf(format, args...), Class: class}}, a.Log...)
	if len(a.Log) > 30 {
		a.Log = a.Log[:30]
	}
}

// Apply handles one event of the worker; data is the message's bytes.
func (a *App) Apply(ev protocol.Event, data []byte) {
	switch ev.Type {
	case protocol.EvReady:
		a.Presets = ev.Presets
		if ev.StorageOff != "" && a.StorageOff == "" {
			a.log("warn", "Checkpoints are off: %s.", ev.StorageOff)
		}
		a.StorageOff = ev.StorageOff
	case protocol.EvStatus:
		a.status(ev)
	case protocol.EvProgress:
		a.progress(ev.Progress)
	case protocol.EvSaved:
		a.saved(ev.Saved)
	case protocol.EvResumed:
		r := ev.Resumed
		a.Resumed, a.resumeAt = r, a.Now()
		for _, sk := range r.Skipped {
			a.Damaged[sk.ID] = sk.Unusable
		}
		a.Step = r.Step
		if r.Replayed > 0 {
			a.log("", "Resumed at step %s: restored the checkpoint at step %s and replayed %s steps (%d ms).", Commas(r.Step), Commas(r.From), Commas(r.Replayed), int(r.Millis))
		} else {
			a.log("", "Resumed at step %s (%d ms).", Commas(r.Step), int(r.Millis))
		}
	case protocol.EvRuns:
		a.runs(ev.Runs)
	case protocol.EvExport:
		a.log("", "Downloaded the checkpoint at step %s (%s).", Commas(ev.Export.Step), ev.Export.Filename)
	case protocol.EvWarning:
		a.warn("warn", ev.Message)
	case protocol.EvSynced:
		a.synced(ev)
	case protocol.EvServerRuns:
		a.serverRuns(ev)
	case protocol.EvReach:
		a.reach(ev.Reach)
	case protocol.EvPredict:
		a.predicted(ev)
	case protocol.EvDataset:
		a.datasetStored(ev)
	case protocol.EvError:
		a.refused(ev)
	case protocol.EvView:
		if ev.View != nil && ev.View.Run == a.Run {
			a.Live = NewViewImage(ev.View, data)
			a.padAsk()
		}
	case protocol.EvScrub:
		a.scrubbed(ev, data)
	case protocol.EvUnits: // the maps of a view, a pure function of its run and step
		a.Live = a.Live.withMaps(ev.Units, data)
		a.Scrub.View = a.Scrub.View.withMaps(ev.Units, data)
	case protocol.EvData:
		a.dataPoints(ev, data)
	case protocol.EvCompare:
		a.compared(ev.Compare)
	case EvPageLog:
		a.log("", "%s", ev.Message)
	}
	if a.Scrub.waits(ev.Seq) {
		a.Scrub.seq = 0 // answered
	}
}

// refused takes an error of the worker: it says so, and what waited for
// the command it answers waits no more.
func (a *App) refused(ev protocol.Event) {
	a.predicted(ev)
	a.csvFailed(ev)
	a.syncFailed(ev)
	a.warn("error", ev.Message)
	a.Compare.failed(ev.Seq, ev.Message)
	if a.Scrub.waits(ev.Seq) {
		a.Scrub.inflight = false
	}
	if ev.Seq == 0 {
		return
	}
	if ev.Seq == a.settingsSeq { // the worker's statuses count again
		a.settingsSeq = 0
	}
	if ev.Seq == a.draftSeq { // the edits stay, to mend and send again
		a.draftSeq = 0
	}
}

func (a *App) warn(class, msg string) {
	a.Warning, a.warnAt = msg, a.Now()
	a.log(class, "%s", msg)
}

func (a *App) status(ev protocol.Event) {
	s := ev.Status
	runChanged := s.Run != a.Run
	a.Phase, a.Run, a.Owner = s.Phase, s.Run, s.Owner
	if s.Name != "" || runChanged {
		a.Name = s.Name
	}
	a.PauseAt, a.Autosave = s.PauseAt, s.Autosave
	// A status the worker sent before it took the page's last settings
	// says the settings before them: the page keeps what it set until
	// the answer (the click on auto-push or the speed stays).
	if a.settingsSeq != 0 && ev.Seq == a.settingsSeq {
		a.settingsSeq = 0
	}
	if a.settingsSeq == 0 {
		a.Pace = s.Pace
	}
	a.PaceNow, a.Diverged = s.PaceNow, s.Diverged
	a.syncStatus(s)
	a.Fingerprint = ""
	if s.Phase == protocol.PhasePaused {
		a.Fingerprint = s.Fingerprint
	}
	switch s.Phase {
	case protocol.PhaseRunning, protocol.PhasePaused, protocol.PhaseLocked, protocol.PhaseLost:
		a.Step, a.Epoch = s.Step, s.Epoch
	}
	if len(s.Spec) > 0 {
		if spec, err := spec.ParseSpec(s.Spec); err == nil {
			a.Spec = &spec
			a.draftTaken(ev.Seq, spec)
			if !a.edited {
				a.Draft, a.DraftErr = spec, ""
				a.dropBad()
			}
		}
	}
	if runChanged {
		a.Loss, a.TestLoss, a.Accuracy, a.StepsPerSec = nil, nil, nil, 0
		a.LastSave, a.Selected, a.Live = nil, "", nil
		a.Scrub = ScrubState{}
		a.Pad.Result = nil
		if a.Run != "" {
			a.loadCurves(a.Run)
			if a.Owner {
				a.send(protocol.Command{Type: protocol.CmdList})
			}
		}
	}
	if s.Run != "" && s.Name != "" && s.Run != a.loggedRun {
		a.loggedRun = s.Run
		a.logRun(s)
	}
	switch s.Phase {
	case protocol.PhaseLocked:
		a.log("warn", "This run is being trained in another tab.")
	case protocol.PhaseLost:
		a.log("warn", "Another tab took over this run.")
	}
}

func (a *App) progress(p *protocol.Progress) {
	if p == nil || p.Run != a.Run {
		return
	}
	a.Step, a.Epoch = p.Step, p.Epoch
	a.Loss, a.TestLoss, a.Accuracy = p.Loss, p.TestLoss, p.Accuracy
	if p.StepsPerSec > 0 {
		a.StepsPerSec = p.StepsPerSec
	}
	c := a.CurvesOf(p.Run)
	c.addPoints(p.Points, p.History)
	if len(p.Curve) > 0 {
		for _, pt := range p.Curve {
			c.Train.Add(uint64(pt[0]), pt[1])
		}
	} else if p.Loss != nil {
		c.Train.Add(p.Step, *p.Loss)
	}
}

func (a *App) saved(s *protocol.Saved) {
	if s == nil {
		return
	}
	ri := a.runInfo(s.Run)
	if ri == nil {
		// A run the last list did not have yet: list again, for the
		// checkpoints committed before this one.
		a.Runs = append(a.Runs, protocol.RunInfo{Run: s.Run, Name: a.Name, ParentRun: s.ParentRun, Parent: s.Parent, Checkpoints: []protocol.Checkpoint{}})
		ri = &a.Runs[len(a.Runs)-1]
		if s.Run == a.Run && a.Owner && len(s.Deleted) == 0 && s.ParentRun == "" && s.Parent != "" {
			a.send(protocol.Command{Type: protocol.CmdList})
		}
	}
	for _, id := range s.Deleted {
		a.forget(s.Run, id)
	}
	ri.Checkpoints = slices.DeleteFunc(ri.Checkpoints, func(c protocol.Checkpoint) bool {
		return c.ID == s.ID || slices.Contains(s.Deleted, c.ID)
	})
	ri.Checkpoints = append(ri.Checkpoints, s.Checkpoint)
	slices.SortFunc(ri.Checkpoints, func(x, y protocol.Checkpoint) int {
		switch {
		case x.ID < y.ID:
			return -1
		case x.ID > y.ID:
			return 1
		}
		return 0
	})
	ri.Head = s.ID
	if slices.Contains(s.Deleted, a.Selected) {
		a.Selected = ""
	}
	if s.Run == a.Run {
		a.Saves++
		a.LastSave, a.saveTime = s, a.Now()
		a.storeCurves(s.Run, false)
	}
}

// runInfo returns the listed run, or nil.
func (a *App) runInfo(run string) *protocol.RunInfo {
	for i := range a.Runs {
		if a.Runs[i].Run == run {
			return &a.Runs[i]
		}
	}
	return nil
}

// Checkpoints lists the active run's checkpoints, newest first.
func (a *App) Checkpoints() []protocol.Checkpoint {
	ri := a.runInfo(a.Run)
	if ri == nil {
		return nil
	}
	out := slices.Clone(ri.Checkpoints)
	slices.Reverse(out)
	return out
}

// Mine says whether this tab trains the active run.
func (a *App) Mine() bool {
	return a.Owner && (a.Phase == protocol.PhaseRunning || a.Phase == protocol.PhasePaused)
}

// Running says whether the active run trains.
func (a *App) Running() bool { return a.Phase == protocol.PhaseRunning }

// SpecJSON is the draft as indented JSON, for `playground train --spec`.
func (a *App) SpecJSON() string {
	b, err := json.MarshalIndent(a.Draft, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// StatusLine says what the session and persistence did, as people read it.
func (a *App) StatusLine() string {
	var parts []string
	now := a.Now()
	switch a.Phase {
	case "loading":
		parts = append(parts, "Loading the run…")
	case protocol.PhaseReplaying:
		parts = append(parts, "Recomputing the steps after the last checkpoint…")
	case protocol.PhaseIdle:
		parts = append(parts, "Pick a dataset and a network, then press Play.")
	case protocol.PhaseLocked:
		parts = append(parts, "This run is being trained in another tab. This tab does not train or save it; take over to continue it here.")
	case protocol.PhaseLost:
		parts = append(parts, "Another tab took over this run; this tab stopped training and saving. Take it back to continue here.")
	case protocol.PhasePaused, protocol.PhaseRunning:
		if a.Phase == protocol.PhasePaused {
			parts = append(parts, fmt.Sprintf("Paused at step %s.", Commas(a.Step)))
		}
		if r := a.Resumed; r != nil && r.Run == a.Run && now.Sub(a.resumeAt) < 8*time.Second {
			if r.Replayed > 0 {
				parts = append(parts, fmt.Sprintf("resumed at step %s (checkpoint at %s + %s replayed steps)", Commas(r.Step), Commas(r.From), Commas(r.Replayed)))
			} else {
				parts = append(parts, fmt.Sprintf("resumed at step %s", Commas(r.Step)))
			}
		}
		if a.StorageOff != "" {
			parts = append(parts, "checkpoints off: this tab only")
		} else if a.LastSave != nil {
			parts = append(parts, fmt.Sprintf("saved %s ago at step %s", Ago(now.Sub(a.saveTime)), Commas(a.LastSave.Step)))
		} else if a.Phase == protocol.PhaseRunning && len(parts) == 0 {
			parts = append(parts, "training…")
		}
	}
	line := strings.Join(parts, " · ")
	if a.warningFresh(now) {
		line = "⚠ " + a.Warning + " — " + line
	}
	return line
}

// StatusWarn says whether the status line is a warning.
func (a *App) StatusWarn() bool {
	return a.warningFresh(a.Now()) || a.Elsewhere()
}

// warningFresh says whether the last warning is recent enough (30 s) to
// head the status line at now.
func (a *App) warningFresh(now time.Time) bool {
	return a.Warning != "" && now.Sub(a.warnAt) < 30*time.Second
}

// logRun says which run the page now shows.
func (a *App) logRun(s *protocol.Status) {
	name := s.Name
	if ri := a.runInfo(s.Run); ri != nil && ri.ParentRun != "" {
		a.log("", "Run %s (%s), %s.", s.Run, name, lineage(ri))
		return
	}
	a.log("", "Run %s (%s) at step %s.", s.Run, name, Commas(s.Step))
}

// forget records that a checkpoint was deleted, so a list computed before
// the deletion does not bring it back.
func (a *App) forget(run, id string) {
	a.gone = append(a.gone, run+"/"+id)
	if len(a.gone) > 200 {
		a.gone = a.gone[100:]
	}
}

// withoutGone returns a copy of run's checkpoints cks without those
// deleted lately.
func (a *App) withoutGone(run string, cks []protocol.Checkpoint) []protocol.Checkpoint {
	return slices.DeleteFunc(slices.Clone(cks), func(c protocol.Checkpoint) bool {
		return slices.Contains(a.gone, run+"/"+c.ID)
	})
}

// runs takes a list of every run. Events and lists cross: checkpoints
// saved after the list was made are kept, deleted ones stay gone.
func (a *App) runs(list []protocol.RunInfo) {
	for i := range list {
		ri := &list[i]
		ri.Checkpoints = a.withoutGone(ri.Run, ri.Checkpoints)
		old := a.runInfo(ri.Run)
		if old == nil {
			continue
		}
		newest := ""
		if n := len(ri.Checkpoints); n > 0 {
			newest = ri.Checkpoints[n-1].ID
		}
		for _, c := range old.Checkpoints {
			if c.ID > newest {
				ri.Checkpoints = append(ri.Checkpoints, c)
			}
		}
		if old.Head > ri.Head {
			ri.Head = old.Head
		}
	}
	// Runs saved to since the list was made are not in it yet.
	for _, old := range a.Runs {
		if slices.ContainsFunc(list, func(r protocol.RunInfo) bool { return r.Run == old.Run }) {
			continue
		}
		if _, seen := a.curves[old.Run]; !seen && old.Run != a.Run {
			continue
		}
		old.Checkpoints = a.withoutGone(old.Run, old.Checkpoints)
		if len(old.Checkpoints) > 0 {
			list = append(list, old)
		}
	}
	a.Runs = list
	a.pruneCurves()
}

// Elsewhere says whether another tab trains the run (this tab has no
// model of it).
func (a *App) Elsewhere() bool {
	return a.Phase == protocol.PhaseLocked || a.Phase == protocol.PhaseLost
}
