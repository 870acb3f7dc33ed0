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
	"strconv"

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
	// CmdStep trains Steps steps (default 1), or with Epoch to the end of
	// the current epoch, then pauses.
	CmdStep = "step"
	// CmdReset starts a new run from step 0: of Spec when given (the
	// settings the page shows), else of the current spec.
	CmdReset = "reset"
	// CmdContinue continues the active run's current state with Spec as a
	// new run forked at the current step (the lineage names the active
	// run and its checkpoint at that step); Spec must hold the same
	// tensors and the same batch size. With Autostart it trains at once.
	CmdContinue = "continue"
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
	// CmdSettings changes Autosave, PauseAt and Pace.
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
	// CmdEdit sets one weight or bias of the active run, paused, to
	// Edit.Value: as a fork, a new run whose first checkpoint is the
	// edited state (its parent the run's current one, the edit recorded
	// in its metadata), paused.
	CmdEdit = "edit"
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
	CmdContinue, CmdRestore, CmdFork, CmdList, CmdExport, CmdImport, CmdPin, CmdDelete,
	CmdTakeover, CmdSettings, CmdScrub, CmdPush, CmdPull, CmdServerRuns, CmdData, CmdCompare, CmdEdit,
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
	Epoch     bool            `json:"epoch,omitempty"`     // step: to the end of the current epoch
	PauseAt   *uint64         `json:"pauseAt,omitempty"`   // open, settings: pause exactly at this step (0 clears)
	Pace      *int            `json:"pace,omitempty"`      // open, settings: steps per second at most (0 full speed, PaceDefault the dataset's default)
	Autostart bool            `json:"autostart,omitempty"` // open, continue: train right away
	Kind      string          `json:"kind,omitempty"`      // save: autosave (default) or pinned
	Marks     []Mark          `json:"marks,omitempty"`     // open, takeover
	Autosave  *Autosave       `json:"autosave,omitempty"`  // open, settings
	Query     string          `json:"query,omitempty"`     // open: the page's URL query; a spec in it (SpecFromQuery) is used as Spec
	At        uint64          `json:"at,omitempty"`        // scrub: the step to show
	Sync      *SyncSettings   `json:"sync,omitempty"`      // open, settings
	Compare   *Compare        `json:"compare,omitempty"`   // compare: the plan (Children's Run, From, Target and Done unset)
	Input     []float32       `json:"input,omitempty"`     // predict: one sample's input features
	Travel    bool            `json:"travel,omitempty"`    // predict: of the time-travelled state Run/At
	Edit      *Edit           `json:"edit,omitempty"`      // edit: the parameter and its new value
}

// Edit is one parameter of a model and a value for it: the weight to
// unit Unit of layer Layer (1 the first hidden layer, as in a NetView)
// from unit From of the layer before, or with From -1 the unit's bias.
type Edit struct {
	Layer int     `json:"layer"`
	Unit  int     `json:"unit"`
	From  int     `json:"from"`
	Value float32 `json:"value"`
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
	// EvReach says the server stopped answering or answers again: Reach.
	// It comes once per change, never per attempt.
	EvReach = "reach"
	// EvUnits follows every view (and scrub view) that has a NetView:
	// Units names the view's run and step, the message's bytes are its
	// NetView.Maps (binary: as JSON they would cost the page's thread
	// tens of milliseconds a view).
	EvUnits = "units"
	// EvPredict answers CmdPredict: Predict.
	EvPredict = "predict"
	// EvDataset answers CmdDataset: Dataset.
	EvDataset = "dataset"
)

// MissingData is in the Message of an EvError whose command waits for a
// dataset found nowhere: the page asks for the CSV, and the command runs
// again once it is uploaded.
const MissingData = "upload its CSV"

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
	// StorageOff (ready): why checkpoints are off, "" when they are kept.
	// The browser refused the worker its storage (a cross-site iframe with
	// third-party storage blocked, some private modes): the run trains in
	// memory and is gone with the tab.
	StorageOff string   `json:"storageOff,omitempty"`
	View       *View    `json:"view,omitempty"` // view, scrub
	Scrub      *Scrub   `json:"scrub,omitempty"`
	Synced     *Synced  `json:"synced,omitempty"`
	Reach      *Reach   `json:"reach,omitempty"`
	Data       *Data    `json:"data,omitempty"`
	Compare    *Compare `json:"compare,omitempty"`
	Units      *Units   `json:"units,omitempty"`
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
	// Wide names the features with values beyond ±WideFeature: units
	// that take them saturate (tanh, sigmoid) until the weights shrink,
	// so the page suggests scaling them.
	Wide []string `json:"wide,omitempty"`
}

// WideFeature bounds the features' values that need no scaling (the
// generated sets live in ±6).
const WideFeature = 10

// Predict is the model's output on one sample (CmdPredict): class
// probabilities for classification (one, of class 1, for two classes),
// the value for regression. The JSON numbers are float32's shortest
// decimals: parsed as float32 they give back the worker's exact bits, as
// `playground eval --input` prints them.
type Predict struct {
	Run     string `json:"run"`
	Step    uint64 `json:"step"`
	Travel  bool   `json:"travel,omitempty"` // of a time-travelled state
	Outputs Floats `json:"outputs"`
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
	Pace        int             `json:"pace"`               // as set: steps per second at most, 0 full speed, PaceDefault the dataset's default
	PaceNow     int             `json:"paceNow"`            // the pace in force (0: full speed)
	Diverged    uint64          `json:"diverged,omitempty"` // the step whose training loss was NaN or infinite (training paused there)
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
	Loss        *float64 `json:"loss,omitempty"`     // mean training loss over the steps since the last report, or without any the history's newest (nil if not finite)
	TestLoss    *float64 `json:"testLoss,omitempty"` // latest evaluation on the test split
	Accuracy    *float64 `json:"accuracy,omitempty"` // test accuracy (classification only)
	EvalStep    uint64   `json:"evalStep,omitempty"` // step of that evaluation
	StepsPerSec float64  `json:"stepsPerSec"`
	// Curve is the training loss since the last report, finer than Loss:
	// [last step of a span, mean loss over the span] for consecutive spans
	// of equal length (at most CurvePoints; non-finite spans left out).
	Curve [][2]float64 `json:"curve,omitempty"`
	// Points are the run's history (package curve) since the last report:
	// the points on the evaluation schedule. With History they are the
	// whole history and replace the page's (a run restored, forked,
	// pulled, or its history thinned).
	Points  []CurvePoint `json:"points,omitempty"`
	History bool         `json:"history,omitempty"`
}

// CurvePoint is a point of a run's history; a value is nil when it is
// not finite (Diverged says so) or not measured (no test split, the
// accuracy of a regression).
type CurvePoint struct {
	Step     uint64   `json:"s"`
	Train    *float64 `json:"l,omitempty"`
	Test     *float64 `json:"t,omitempty"`
	Accuracy *float64 `json:"a,omitempty"`
	Diverged bool     `json:"x,omitempty"` // the training or test loss is NaN or infinite
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
	// Net is the network's units as the page draws them.
	Net *NetView `json:"net,omitempty"`
}

// NetView is the network of a View: Layers[0] the inputs, then the hidden
// layers, the last the output layer. Of each layer the first Drawn units
// are drawn, each with a map of MapW×MapH float32 values (little-endian,
// row by row from the top; none when MapW is 0) in Maps, layer by layer,
// unit by unit (sent apart from the view: EvUnits). On a grid view a
// unit's map is its activation at every grid point (an input's: the
// feature's value); the first hidden layer of a wide input (digits) maps
// each unit's incoming weights as an image instead.
type NetView struct {
	Layers []NetLayer `json:"layers"`
	Maps   []byte     `json:"-"` // in the bytes of the EvUnits that follows the view
}

// Units names the view whose unit maps an EvUnits carries.
type Units struct {
	Run  string `json:"run"`
	Step uint64 `json:"step"`
}

// NetLayer is one layer of a NetView.
type NetLayer struct {
	Units int `json:"units"` // in the layer
	Drawn int `json:"drawn"` // the first Drawn are drawn
	MapW  int `json:"mapW,omitempty"`
	MapH  int `json:"mapH,omitempty"`
	// Weights[i*prev.Drawn+j] is the weight to drawn unit i from drawn
	// unit j of the previous layer; Bias[i] unit i's bias (none for the
	// inputs).
	Weights Floats `json:"weights,omitempty"`
	Bias    Floats `json:"bias,omitempty"`
}

// MapBytes is the size Maps must have, or -1 when the layers do not fit
// together (a malformed NetView).
func (n *NetView) MapBytes() int {
	total, prev := 0, 0
	for i, l := range n.Layers {
		if l.Units < 0 || l.Drawn < 0 || l.Drawn > l.Units || l.MapW < 0 || l.MapH < 0 || l.MapW > 1<<12 || l.MapH > 1<<12 || l.Units > 1<<20 {
			return -1
		}
		if (l.MapW == 0) != (l.MapH == 0) {
			return -1
		}
		wantW, wantB := l.Drawn*prev, l.Drawn
		if i == 0 {
			wantW, wantB = 0, 0
		}
		if len(l.Weights) != wantW || len(l.Bias) != wantB {
			return -1
		}
		total += 4 * l.Drawn * l.MapW * l.MapH
		prev = l.Drawn
	}
	return total
}

// Map returns the map of drawn unit unit of layer layer from Maps: its
// values and width and height (false when it has none, or Maps does not
// fit the layers).
func (n *NetView) Map(layer, unit int) ([]float32, int, int, bool) {
	return n.MapInto(nil, layer, unit)
}

// MapInto is Map with the values in dst's array when it is large enough
// (the page decodes every unit's map of every view).
func (n *NetView) MapInto(dst []float32, layer, unit int) ([]float32, int, int, bool) {
	if n.MapBytes() != len(n.Maps) || layer < 0 || layer >= len(n.Layers) {
		return nil, 0, 0, false
	}
	l := n.Layers[layer]
	if unit < 0 || unit >= l.Drawn || l.MapW == 0 {
		return nil, 0, 0, false
	}
	off := 0
	for _, pl := range n.Layers[:layer] {
		off += 4 * pl.Drawn * pl.MapW * pl.MapH
	}
	off += 4 * unit * l.MapW * l.MapH
	vals := slices.Grow(dst[:0], l.MapW*l.MapH)[:l.MapW*l.MapH]
	src := n.Maps[off : off+4*len(vals)]
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
	return vals, l.MapW, l.MapH, true
}

// FormatMap formats a map w values wide as `playground eval --grid`
// prints it: a line per row, each value the shortest decimal that reads
// back as the same float32.
func FormatMap(vals []float32, w int) string {
	var b []byte
	for i, v := range vals {
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
		if (i+1)%w == 0 {
			b = append(b, '\n')
		} else {
			b = append(b, ' ')
		}
	}
	return string(b)
}

// Data counts the points of a 2-D dataset that travel in the message's
// bytes: the training points, then the test points, each PointBytes
// bytes: x, y and the label (the class, or the regression target) as
// little-endian float32.
type Data struct {
	Train   int   `json:"train"`
	Test    int   `json:"test"`
	Classes int   `json:"classes"`        // 0 for regression
	Axes    *Axes `json:"axes,omitempty"` // custom data: what the square shows
}

// Axes says what the page's square [-Domain, Domain]² shows of custom
// data of two features: feature X from XLo (left) to XHi (right), Y from
// YLo (bottom) to YHi (top). Generated sets have none: their square is
// the plane itself.
type Axes struct {
	X   string  `json:"x"`
	Y   string  `json:"y"`
	XLo float64 `json:"xlo"`
	XHi float64 `json:"xhi"`
	YLo float64 `json:"ylo"`
	YHi float64 `json:"yhi"`
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
	// Unusable says why in a few words (persist.Unusable): "damaged", "of
	// another version"…
	Unusable string `json:"unusable,omitempty"`
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

// Skipped is a checkpoint passed over on resume: damaged, or one this
// build cannot restore.
type Skipped struct {
	ID       string `json:"id"`
	Step     uint64 `json:"step"`
	Error    string `json:"error"`
	Unusable string `json:"unusable"` // persist.Unusable: "damaged", "of another version"…
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

// Reach is whether the server answers (EvReach).
type Reach struct {
	Reachable bool `json:"reachable"`
	// Retry (unreachable): auto-push holds the newest checkpoint of each
	// run and tries again, 1 s after the first failure, doubling to 60 s.
	Retry bool   `json:"retry,omitempty"`
	Error string `json:"error,omitempty"` // unreachable: what the request got
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
	case CmdContinue:
		if len(c.Spec) == 0 {
			return bad("needs a spec")
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
	case CmdEdit:
		if e := c.Edit; e == nil || e.Layer < 1 || e.Unit < 0 || e.From < -1 {
			return bad("needs an edit of a layer from 1, a unit from 0 and from -1 (the bias) or a unit from 0")
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
	if p := c.Pace; p != nil && (*p < PaceDefault || *p > MaxPace) {
		return bad("pace %d (want %d for the default, 0 for full speed, or 1 to %d steps per second)", *p, PaceDefault, MaxPace)
	}
	return nil
}

// Paces: Command.Pace and Status.Pace are steps per second at most.
const (
	PaceDefault = -1        // the dataset's default (DefaultPace)
	PaceFull    = 0         // as fast as the engine goes
	PaceWatch   = 150       // the default of the 2-D datasets: the circle preset converges in about 6 s
	MaxPace     = 1_000_000 // above it, "full speed"
)

// DefaultPace is the pace a run of dataset kind trains at unless told
// otherwise: slow enough to watch a built-in 2-D dataset's boundary
// form, full speed for digits and custom data.
func DefaultPace(kind string) int {
	if k, ok := spec.Dataset(kind); ok && k.TwoD {
		return PaceWatch
	}
	return PaceFull // digits, and custom data (a CSV)
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

// Floats is a list of float32 whose values that are not finite (a
// diverged model's) travel as null in JSON, which has no NaN or Inf, and
// come back as NaN.
type Floats []float32

// MarshalJSON writes f with null for each value that is not finite.
func (f Floats) MarshalJSON() ([]byte, error) {
	if f == nil {
		return []byte("null"), nil
	}
	b := []byte{'['}
	for i, v := range f {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON reads f, a null as NaN.
func (f *Floats) UnmarshalJSON(b []byte) error {
	var vs []*float32
	if err := json.Unmarshal(b, &vs); err != nil {
		return err
	}
	if vs == nil {
		*f = nil
		return nil
	}
	out := make(Floats, len(vs))
	for i, v := range vs {
		out[i] = float32(math.NaN())
		if v != nil {
			out[i] = *v
		}
	}
	*f = out
	return nil
}

// Float returns a pointer to v, or nil for NaN or an infinity (JSON has
// neither).
func Float(v float64) *float64 {
	if v != v || v > 1e308 || v < -1e308 {
		return nil
	}
	return &v
}
