// Package protocol is the message protocol between the page and the engine
// worker, defined once as Go types: the worker and the UI's wasm main both
// use them, and the plain-JS page of web/ builds the same JSON.
//
// On the wire every message is a structured-clone object
// {json: string, bytes?: Uint8Array}: json is a Command (page → worker) or
// an Event (worker → page) encoded as JSON; bytes carries a checkpoint file
// for CmdImport and EvExport, transferred rather than copied.
//
// The worker answers each command with events carrying the command's Seq.
// It posts progress a few times per second while training, never per step.
package protocol

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"playground/spec"
)

// Command types (page → worker).
const (
	// CmdOpen starts the session: resume the most recent run (or, with
	// Preset, the most recent run of that preset; with Run, that run) at
	// its newest valid checkpoint replayed up to its Mark, else start
	// Preset/Spec afresh. Marks, Autosave, PauseAt and Autostart apply.
	CmdOpen = "open"
	// CmdStart starts a new run of Preset or Spec from step 0.
	CmdStart = "start"
	// CmdPause pauses training; the state is checkpointed and fingerprinted.
	CmdPause = "pause"
	// CmdResume continues training.
	CmdResume = "resume"
	// CmdStep trains Steps steps (default 1), then pauses.
	CmdStep = "step"
	// CmdReset starts a new run of the current spec from step 0.
	CmdReset = "reset"
	// CmdSave checkpoints the current state now; Kind "pinned" pins it.
	CmdSave = "save"
	// CmdHidden says the page became hidden: checkpoint now.
	CmdHidden = "hidden"
	// CmdRestore continues from checkpoint Run/ID: in its run if it is the
	// run's newest, else as a fork with the same spec (runs never rewind).
	CmdRestore = "restore"
	// CmdFork starts a new run from checkpoint Run/ID with Spec (the same
	// architecture and optimizer; other hyperparameters may change).
	CmdFork = "fork"
	// CmdList asks for every run with its checkpoints and lineage (EvRuns).
	CmdList = "list"
	// CmdExport asks for checkpoint Run/ID as a .safetensors file
	// (EvExport); without ID, the current state, saved first if needed.
	CmdExport = "export"
	// CmdImport continues the checkpoint file in the message's bytes.
	CmdImport = "import"
	// CmdPin re-saves checkpoint Run/ID as pinned (kept by retention).
	CmdPin = "pin"
	// CmdDelete deletes checkpoint Run/ID.
	CmdDelete = "delete"
	// CmdTakeover takes the run's writer lock from another tab and resumes
	// it (with the page's current Marks).
	CmdTakeover = "takeover"
	// CmdSettings changes Autosave and PauseAt.
	CmdSettings = "settings"
	// CmdScrub asks for the state at step At of run Run (default: the
	// active one) — time travel. The worker recomputes it by deterministic
	// replay from the nearest checkpoint at or before At in the run's
	// lineage, on a trainer of its own: the active run goes on undisturbed.
	// Answered by EvScrub events (with a View); a newer scrub supersedes
	// one still replaying.
	CmdScrub = "scrub"
	// CmdPush uploads run Run (default: the active one) to the server the
	// page came from: the checkpoints it lacks, oldest first, moving the
	// server's run head from the head last seen (the active run's current
	// state is saved first). Answered by EvSynced; refused with EvError
	// when another writer moved the server's head.
	CmdPush = "push"
	// CmdPull continues run Run (default: the active one) from the
	// server's head: downloads and verifies that checkpoint, stores it as
	// the run's newest and resumes there, paused. A local copy ahead of
	// the server's is kept (and a warning says so). Answered by EvSynced.
	CmdPull = "pull"
	// CmdServerRuns lists the server's runs (EvServerRuns).
	CmdServerRuns = "server-runs"
	// CmdData asks for the points of Spec's 2-D dataset, for the page to
	// draw the data of settings not trained yet: answered by EvData (no
	// points for digits).
	CmdData = "data"
	// CmdCompare runs the comparison Compare: from checkpoint Base, one
	// child run forked per entry of Children (with its Spec), each trained
	// Steps steps, in turn. The worker sequences it and keeps its plan
	// across a reload (the page's next open continues it). Answered by
	// EvCompare events as each child starts and ends; refused with EvError
	// while another comparison runs.
	CmdCompare = "compare"
	// CmdPredict asks for the model's outputs on one sample, Input (the
	// model's input features: the 784 pixels of a drawn digit): of the
	// active run's current state, or with Travel, of run Run's state at
	// step At as the last time travel recomputed it. Answered by
	// EvPredict (EvError when there is no such state or the input does
	// not fit the model).
	CmdPredict = "predict"
	// CmdDataset takes a CSV file of custom data (package dataset) in the
	// message's bytes: parsed, stored once under its SHA-256 (nothing is
	// stored when it has a defect: EvError names the line and column) and
	// answered by EvDataset with the spec to train on it, Spec (the
	// page's draft) applied to the data.
	CmdDataset = "dataset"
)

var commandTypes = []string{
	CmdOpen, CmdStart, CmdPause, CmdResume, CmdStep, CmdReset, CmdSave, CmdHidden,
	CmdRestore, CmdFork, CmdList, CmdExport, CmdImport, CmdPin, CmdDelete,
	CmdTakeover, CmdSettings, CmdScrub, CmdPush, CmdPull, CmdServerRuns, CmdData, CmdCompare,
	CmdPredict, CmdDataset,
}

// Command is one request from the page.
type Command struct {
	Type      string          `json:"type"`
	Seq       int64           `json:"seq,omitempty"`       // echoed by the events that answer it
	Preset    string          `json:"preset,omitempty"`    // open, start
	Spec      json.RawMessage `json:"spec,omitempty"`      // open, start, fork, data: a full spec
	Run       string          `json:"run,omitempty"`       // open, restore, fork, export, pin, delete
	ID        string          `json:"id,omitempty"`        // checkpoint id
	Steps     uint64          `json:"steps,omitempty"`     // step: how many (default 1)
	PauseAt   *uint64         `json:"pauseAt,omitempty"`   // open, settings: pause exactly at this step (0 clears)
	Autostart bool            `json:"autostart,omitempty"` // open: train right away
	Kind      string          `json:"kind,omitempty"`      // save: autosave (default) or pinned
	Marks     []Mark          `json:"marks,omitempty"`     // open, takeover
	Autosave  *Autosave       `json:"autosave,omitempty"`  // open, settings
	Query     string          `json:"query,omitempty"`     // open: the page's URL query; a spec in it (SpecFromQuery) is used as Spec
	At        uint64          `json:"at,omitempty"`        // scrub: the step to show
	Sync      *SyncSettings   `json:"sync,omitempty"`      // open, settings
	Compare   *Compare        `json:"compare,omitempty"`   // compare: the plan (Children's Run, From, Target and Done unset)
	Input     []float32       `json:"input,omitempty"`     // predict: one sample's input features
	Travel    bool            `json:"travel,omitempty"`    // predict: of the time-travelled state Run/At
}

// MaxInput bounds the features of CmdPredict's sample.
const MaxInput = 4096

// Compare is a comparison of runs forked from one checkpoint with one
// setting varied: its plan and how far it got.
type Compare struct {
	Base     Checkpoint     `json:"base"`  // the checkpoint forked from (Run, ID, Step)
	Param    string         `json:"param"` // the setting varied, as the page names it
	Steps    uint64         `json:"steps"` // steps each child trains
	Children []CompareChild `json:"children"`
	Done     bool           `json:"done"`            // every child trained, or the comparison failed
	Error    string         `json:"error,omitempty"` // why it stopped short
}

// CompareChild is one forked run of a comparison.
type CompareChild struct {
	Value  string          `json:"value"`            // the varied setting's value, as the page shows it
	Spec   json.RawMessage `json:"spec"`             // the child's full spec
	Run    string          `json:"run,omitempty"`    // its run, once forked
	From   uint64          `json:"from,omitempty"`   // the step it starts at (Base.Step)
	Target uint64          `json:"target,omitempty"` // the step it trains to
	Done   bool            `json:"done,omitempty"`
}

// SyncSettings configure the sync with the server; nil fields leave a
// setting unchanged.
type SyncSettings struct {
	// AutoPush uploads every checkpoint of the active run to the server
	// as it is saved (the newest one when saves come faster than uploads),
	// moving the server's head. It stops for a run whose server head
	// another writer moved (EvWarning), until a push or pull of that run.
	AutoPush *bool `json:"autoPush,omitempty"`
	// Token is the server's bearer token ("" for none).
	Token *string `json:"token,omitempty"`
}

// Mark is the page's record that a run reached a step: written by the page
// itself (a few bytes, so it commits even on pagehide) whenever it shows a
// new step. Training is a pure function of (spec, seed, step), so the
// worker recomputes the state at Step from the run's last full checkpoint.
type Mark struct {
	Run     string `json:"run"`
	Step    uint64 `json:"step"`
	Running bool   `json:"running"` // training when the mark was written
	Time    int64  `json:"time"`    // Unix milliseconds
}

// Autosave is the checkpoint policy; zero fields leave a setting unchanged.
type Autosave struct {
	EverySteps  uint64 `json:"everySteps,omitempty"`  // save every N steps (0: by time only)
	EveryMillis int64  `json:"everyMillis,omitempty"` // save after T ms of training
	Keep        int    `json:"keep,omitempty"`        // autosaves kept per run
	MilestoneMs int64  `json:"milestoneMs,omitempty"` // an autosave becomes a kept milestone this often (ms of training)
}

// Event types (worker → page).
const (
	EvReady    = "ready"    // the worker is up and takes commands; lists the presets
	EvStatus   = "status"   // Status: what the session is doing, after every change
	EvProgress = "progress" // Progress, a few times per second while training
	EvSaved    = "saved"    // Saved: a checkpoint committed
	EvResumed  = "resumed"  // Resumed: a run was restored (and replayed)
	EvRuns     = "runs"     // Runs: the answer to CmdList
	EvExport   = "export"   // Export, with the file in bytes
	EvWarning  = "warning"  // Message: something went wrong but training goes on
	EvError    = "error"    // Message: a command failed
	EvView     = "view"     // View of the active run's model, with its bytes: a few times per second while training and after every change
	EvScrub    = "scrub"    // Scrub: the answer to CmdScrub, with a View and its bytes when done
	EvSynced   = "synced"   // Synced: a push, pull or auto-push finished
	EvCompare  = "compare"  // Compare: the comparison in progress, after every change
	// EvServerRuns answers CmdServerRuns: ServerRuns, or Message when the
	// server cannot be asked (no server, no API, refused).
	EvServerRuns = "server-runs"
	// EvData answers CmdData: Data, with the points in the message's bytes.
	EvData = "data"
	// EvPredict answers CmdPredict: Predict.
	EvPredict = "predict"
	// EvDataset answers CmdDataset: Dataset.
	EvDataset = "dataset"
)

// Session phases in Status.Phase.
const (
	PhaseIdle      = "idle"      // no run
	PhaseLoading   = "loading"   // reading checkpoints
	PhaseReplaying = "replaying" // recomputing steps after the last checkpoint
	PhaseRunning   = "running"
	PhasePaused    = "paused"
	PhaseLocked    = "locked" // another tab trains this run; CmdTakeover takes it
	PhaseLost      = "lost"   // another tab took this run over
)

// Event is one message from the worker; Type says which field is set.
type Event struct {
	Type     string    `json:"type"`
	Seq      int64     `json:"seq,omitempty"`
	Status   *Status   `json:"status,omitempty"`
	Progress *Progress `json:"progress,omitempty"`
	Saved    *Saved    `json:"saved,omitempty"`
	Resumed  *Resumed  `json:"resumed,omitempty"`
	Runs     []RunInfo `json:"runs,omitempty"`
	Export   *Export   `json:"export,omitempty"`
	Message  string    `json:"message,omitempty"` // warning, error, server-runs (why there is no list)
	Presets  []string  `json:"presets,omitempty"` // ready: the built-in presets
	View     *View     `json:"view,omitempty"`    // view, scrub
	Scrub    *Scrub    `json:"scrub,omitempty"`
	Synced   *Synced   `json:"synced,omitempty"`
	Data     *Data     `json:"data,omitempty"`
	Compare  *Compare  `json:"compare,omitempty"`
	// ServerRuns: the server's runs (server-runs).
	ServerRuns []ServerRun `json:"serverRuns,omitempty"`
	Predict    *Predict    `json:"predict,omitempty"`
	Dataset    *Dataset    `json:"dataset,omitempty"`
}

// Dataset is a custom dataset stored (CmdDataset).
type Dataset struct {
	SHA256  string          `json:"sha256"` // its name
	Rows    int             `json:"rows"`
	Names   []string        `json:"names"`   // the feature columns
	Classes int             `json:"classes"` // 0: a regression target
	Test    int             `json:"test"`    // rows its split column marks test (0 without one)
	Split   bool            `json:"split"`
	Bytes   int             `json:"bytes"` // of its canonical CSV
	Spec    json.RawMessage `json:"spec"`  // the page's draft applied to it, normalized
}

// Predict is the model's output on one sample (CmdPredict): class
// probabilities for classification (one, of class 1, for two classes),
// the value for regression. The JSON numbers are float32's shortest
// decimals: parsed as float32 they give back the worker's exact bits, as
// `playground eval --input` prints them.
type Predict struct {
	Run     string    `json:"run"`
	Step    uint64    `json:"step"`
	Travel  bool      `json:"travel,omitempty"` // of a time-travelled state
	Outputs []float32 `json:"outputs"`
}

// Status is the session's state.
type Status struct {
	Phase       string          `json:"phase"`
	Run         string          `json:"run,omitempty"`
	Name        string          `json:"name,omitempty"` // the spec's name (preset)
	Spec        json.RawMessage `json:"spec,omitempty"`
	Step        uint64          `json:"step"`
	Epoch       int             `json:"epoch"`
	Owner       bool            `json:"owner"`                 // this tab holds the run's writer lock
	Fingerprint string          `json:"fingerprint,omitempty"` // when paused: as `playground ckpt inspect` prints it
	PauseAt     uint64          `json:"pauseAt,omitempty"`
	Autosave    Autosave        `json:"autosave"`
	AutoPush    bool            `json:"autoPush"`         // every checkpoint goes to the server as it is saved
	Server      string          `json:"server,omitempty"` // the server's base URL
}

// Progress reports training since the last Progress.
type Progress struct {
	Run         string   `json:"run"`
	Step        uint64   `json:"step"`
	Epoch       int      `json:"epoch"`
	Batch       int      `json:"batch"`
	Loss        *float64 `json:"loss,omitempty"`     // mean training loss over the steps since the last report (nil if not finite)
	TestLoss    *float64 `json:"testLoss,omitempty"` // latest evaluation on the test split
	Accuracy    *float64 `json:"accuracy,omitempty"` // test accuracy (classification only)
	EvalStep    uint64   `json:"evalStep,omitempty"` // step of that evaluation
	StepsPerSec float64  `json:"stepsPerSec"`
	// Curve is the training loss since the last report, finer than Loss:
	// [last step of a span, mean loss over the span] for consecutive spans
	// of equal length (at most CurvePoints; non-finite spans left out).
	Curve [][2]float64 `json:"curve,omitempty"`
}

// CurvePoints bounds the points of one Progress.Curve.
const CurvePoints = 64

// View kinds.
const (
	// ViewGrid: the bytes are the model's output on a W×H grid over the
	// square [-Domain, Domain]², row by row from the top (y = +Domain),
	// left to right, each quantized linearly so that 0 is Lo and 255 is Hi.
	ViewGrid = "grid"
	// ViewDigits: the bytes are len(Labels) test images of Side×Side
	// pixels (0 black … 255 white); Labels are their classes, Predicted
	// the model's.
	ViewDigits = "digits"
	// ViewNone: no picture (custom data of other than two features).
	ViewNone = "none"
)

// View is what the model makes of its input space at one step: the
// decision-boundary heat map of a 2-D dataset, or predictions on sample
// digits. Its data travel in the message's bytes.
type View struct {
	Run       string  `json:"run"`
	Step      uint64  `json:"step"`
	Kind      string  `json:"kind"`
	W         int     `json:"w,omitempty"`
	H         int     `json:"h,omitempty"`
	Domain    float64 `json:"domain,omitempty"`
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Side      int     `json:"side,omitempty"`
	Labels    []int   `json:"labels,omitempty"`
	Predicted []int   `json:"predicted,omitempty"`
	// Classes: a grid of more than two classes, each byte the class the
	// model predicts there (no Lo and Hi).
	Classes int `json:"classes,omitempty"`
}

// Data counts the points of a 2-D dataset that travel in the message's
// bytes: the training points, then the test points, each PointBytes
// bytes: x, y and the label (the class, or the regression target) as
// little-endian float32.
type Data struct {
	Train   int `json:"train"`
	Test    int `json:"test"`
	Classes int `json:"classes"` // 0 for regression
}

// PointBytes is the size of one point of Data.
const PointBytes = 12

// AppendPoint appends one point of Data to b.
func AppendPoint(b []byte, x, y, label float32) []byte {
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(y))
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(label))
}

// Point returns point i of Data's bytes b (which hold at least i+1).
func Point(b []byte, i int) (x, y, label float32) {
	p := b[i*PointBytes : (i+1)*PointBytes]
	f := func(o int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(p[o:])) }
	return f(0), f(4), f(8)
}

// Scrub is the state at a past step, recomputed for CmdScrub.
type Scrub struct {
	Run         string   `json:"run"`
	At          uint64   `json:"at"`             // the step asked for
	Step        uint64   `json:"step"`           // the step reached so far (= At when Done)
	FromRun     string   `json:"fromRun"`        // the checkpoint replayed from: its run (an ancestor when At precedes a fork)
	FromID      string   `json:"fromId"`         // its id
	From        uint64   `json:"from"`           // its step
	Millis      float64  `json:"millis"`         // command to answer
	Done        bool     `json:"done"`           // false: an interim report while replaying
	Fingerprint string   `json:"fingerprint"`    // done: as `playground ckpt inspect` prints it
	Loss        *float64 `json:"loss,omitempty"` // done: on the whole training split
	TestLoss    *float64 `json:"testLoss,omitempty"`
	Accuracy    *float64 `json:"accuracy,omitempty"` // test accuracy (classification only)
	Error       string   `json:"error,omitempty"`
}

// Checkpoint describes one stored checkpoint.
type Checkpoint struct {
	Run       string `json:"run"`
	ID        string `json:"id"`
	Step      uint64 `json:"step"`
	Epoch     int    `json:"epoch"`
	Kind      string `json:"kind"`
	Size      int64  `json:"size"`
	Created   string `json:"created,omitempty"` // RFC 3339
	Parent    string `json:"parent,omitempty"`
	ParentRun string `json:"parentRun,omitempty"`
	Error     string `json:"error,omitempty"` // header unreadable: why
}

// Saved reports a committed checkpoint and what retention deleted.
type Saved struct {
	Checkpoint
	Millis      float64  `json:"millis"`      // snapshot to commit
	PauseMillis float64  `json:"pauseMillis"` // time the training thread spent on this save
	Deleted     []string `json:"deleted,omitempty"`
}

// Resumed reports a restored run: the checkpoint it started from, and the
// steps recomputed from there to the page's mark.
type Resumed struct {
	Run      string    `json:"run"`
	Step     uint64    `json:"step"`     // where training continues
	From     uint64    `json:"from"`     // step of the checkpoint restored
	FromID   string    `json:"fromId"`   // its id
	Replayed uint64    `json:"replayed"` // Step - From
	Millis   float64   `json:"millis"`   // open to resumed
	Skipped  []Skipped `json:"skipped,omitempty"`
}

// Skipped is a damaged checkpoint passed over on resume.
type Skipped struct {
	ID    string `json:"id"`
	Step  uint64 `json:"step"`
	Error string `json:"error"`
}

// RunInfo is one run with its lineage and checkpoints (oldest first).
type RunInfo struct {
	Run         string       `json:"run"`
	Name        string       `json:"name,omitempty"`
	Head        string       `json:"head,omitempty"`
	ParentRun   string       `json:"parentRun,omitempty"` // the run it was forked from
	Parent      string       `json:"parent,omitempty"`    // the checkpoint it was forked from
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// Sync operations in Synced.Op.
const (
	SyncPush     = "push"
	SyncPull     = "pull"
	SyncAutoPush = "autopush"
)

// Synced reports a finished push, pull or auto-push of one run.
type Synced struct {
	Op        string  `json:"op"`
	Run       string  `json:"run"`
	Head      string  `json:"head"`                // the server's head of the run afterwards
	Step      uint64  `json:"step"`                // its step
	Sent      int     `json:"sent"`                // checkpoints uploaded or downloaded
	Had       int     `json:"had"`                 // already there
	Bytes     int64   `json:"bytes"`               // sent or received
	Millis    float64 `json:"millis"`              // command to done
	URL       string  `json:"url"`                 // the run's URL on the server (for playground train --resume)
	Kept      bool    `json:"kept,omitempty"`      // pull: the local copy was ahead and was kept
	LocalStep uint64  `json:"localStep,omitempty"` // pull: where the local run continues
}

// ServerRun is one run stored on the server.
type ServerRun struct {
	Run         string `json:"run"`
	Head        string `json:"head,omitempty"`
	Step        uint64 `json:"step"` // of the newest checkpoint
	Checkpoints int    `json:"checkpoints"`
	URL         string `json:"url"`
}

// Export names the file sent in the message's bytes.
type Export struct {
	Run      string `json:"run"`
	ID       string `json:"id"`
	Step     uint64 `json:"step"`
	Filename string `json:"filename"`
}

// ErrProtocol marks a message that is not a valid command or event.
var ErrProtocol = errors.New("protocol")

// DecodeCommand parses and checks a command.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if err := spec.DecodeStrict(b, &c); err != nil {
		return Command{}, fmt.Errorf("%w: command: %v", ErrProtocol, err)
	}
	if err := c.Validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}

// Validate checks the command's type and the fields it needs.
func (c Command) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrProtocol, c.Type, fmt.Sprintf(format, a...))
	}
	if !slices.Contains(commandTypes, c.Type) {
		return fmt.Errorf("%w: unknown command type %q", ErrProtocol, c.Type)
	}
	switch c.Type {
	case CmdRestore, CmdFork, CmdPin, CmdDelete:
		if c.Run == "" || c.ID == "" {
			return bad("needs run and id")
		}
	case CmdStart:
		if (c.Preset == "") == (len(c.Spec) == 0) {
			return bad("needs exactly one of preset and spec")
		}
	case CmdData:
		if len(c.Spec) == 0 {
			return bad("needs a spec")
		}
	case CmdSave:
		if c.Kind != "" && c.Kind != "autosave" && c.Kind != "pinned" {
			return bad("kind %q (want autosave or pinned)", c.Kind)
		}
	case CmdCompare:
		if err := c.Compare.Validate(); err != nil {
			return bad("%v", err)
		}
	case CmdPredict:
		if len(c.Input) == 0 || len(c.Input) > MaxInput {
			return bad("%d input features (want 1 to %d)", len(c.Input), MaxInput)
		}
		if c.Travel && c.Run == "" {
			return bad("travel needs run")
		}
	}
	if a := c.Autosave; a != nil && (a.EveryMillis < 0 || a.Keep < 0 || a.MilestoneMs < 0) {
		return bad("negative autosave setting")
	}
	return nil
}

// maxCompare bounds the children of one comparison.
const maxCompare = 16

// Validate checks a comparison's plan: a base checkpoint, steps, and 1 to
// 16 children, each with a spec.
func (p *Compare) Validate() error {
	switch {
	case p == nil:
		return errors.New("needs compare")
	case p.Base.Run == "" || p.Base.ID == "":
		return errors.New("needs the base checkpoint's run and id")
	case p.Steps == 0:
		return errors.New("needs steps")
	case len(p.Children) == 0 || len(p.Children) > maxCompare:
		return fmt.Errorf("%d children (want 1 to %d)", len(p.Children), maxCompare)
	}
	for i, k := range p.Children {
		if len(k.Spec) == 0 {
			return fmt.Errorf("child %d has no spec", i+1)
		}
	}
	return nil
}

// Encode returns the JSON of a command or an event.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the types are plain data; a NaN would be a bug
	}
	return b
}

// DecodeEvent parses an event.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	if err := spec.DecodeStrict(b, &e); err != nil {
		return Event{}, fmt.Errorf("%w: event: %v", ErrProtocol, err)
	}
	if e.Type == "" {
		return Event{}, fmt.Errorf("%w: event without a type", ErrProtocol)
	}
	return e, nil
}

// Float returns a pointer to v, or nil for NaN or an infinity (JSON has
// neither).
func Float(v float64) *float64 {
	if v != v || v > 1e308 || v < -1e308 {
		return nil
	}
	return &v
}
