package persist

import (
	"errors"
	"time"

	"playground/curve"
	"playground/engine"
)

// Format name and version written into every checkpoint's __metadata__.
const (
	FormatName    = "playground-checkpoint"
	FormatVersion = 1
)

// Checkpoint kinds.
const (
	KindAutosave  = "autosave"
	KindPinned    = "pinned"
	KindMilestone = "milestone"
	KindFinal     = "final"
	KindImported  = "imported"
)

// Meta is what a checkpoint records besides the training state.
type Meta struct {
	RunID         string
	ID            string
	Parent        string // id of the checkpoint this run continued from ("" for none)
	ParentRun     string // run of Parent when it is another run's (a fork)
	Created       time.Time
	EngineVersion string
	Kind          string
	// Edit says how this checkpoint's state was edited by hand from its
	// parent's (the page's weight edit, a fork), "" if it was not.
	Edit string
}

// Checkpoint is one saved training state with its metadata.
type Checkpoint struct {
	Meta
	State engine.State
	Curve curve.History // the run's loss history up to State.Step (metadata "curve")
}

// Decoding errors. Each is wrapped with a message that says what differs.
var (
	ErrTruncated     = errors.New("checkpoint truncated")
	ErrCorrupt       = errors.New("checkpoint corrupt")
	ErrVersion       = errors.New("unsupported checkpoint version") // format or engine version: version.go
	ErrNotCheckpoint = errors.New("not a playground checkpoint")
	ErrIncompatible  = engine.ErrIncompatible
)
