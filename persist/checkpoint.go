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

// Unusable says in a few words why a checkpoint that err refused is
// passed over, for messages that name it: "damaged" only when its bytes
// are not a whole, valid checkpoint; "of another version" when this build
// cannot read or restore it (a newer one likely can); "missing its
// dataset"; "unreadable" for any other error (the store's).
func Unusable(err error) string {
	switch {
	case errors.Is(err, ErrVersion), errors.Is(err, ErrIncompatible):
		return "of another version"
	case errors.Is(err, ErrMissingData):
		return "missing its dataset"
	case errors.Is(err, ErrTruncated), errors.Is(err, ErrCorrupt), errors.Is(err, ErrNotCheckpoint):
		return "damaged"
	}
	return "unreadable"
}
