// Package session is the engine worker's logic in pure Go: one training run
// driven by protocol commands, checkpointed to a persist.Store on an
// autosave policy, resumed after a reload by restoring the newest valid
// checkpoint and replaying deterministically up to the page's mark, and
// guarded by a per-run writer lock. The js/wasm main in wasm/worker only
// wires it to the browser (messages, IndexedDB, WebCrypto, Web Locks).
//
// Three goroutines, each owning its state:
//
//   - the loop (loop.go) owns the run: dispatch and the phase state
//     machine, the runner (trainer, time slicing, replay), the autosave
//     policy, the view, time travel (scrubber) and the comparison in
//     progress. Nothing else touches them.
//   - the writer (writer.go) owns the store's writes: the heads it wrote
//     and the runs it may write. It takes typed operations (ownOp, saveOp,
//     …) on its queue and reports on the loop's inbox.
//   - the syncer (sync.go) owns the server: token, the server's heads as
//     last seen, auto-push retention. It takes typed operations (pushOp,
//     pullOp, …) and reports a pull on the loop's inbox.
//
// Reading runs for a listing or an export happens in short goroutines that
// hold only the store and Env.Emit.
package session

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"playground/internal/defaults"
	"playground/persist"
	"playground/wasm/protocol"
)

// Env is what the session needs from its host.
type Env struct {
	Store persist.Store
	// Emit posts an event (with a file in data for EvExport). It is called
	// from the session's goroutines and must not block for long.
	Emit func(ev protocol.Event, data []byte)
	// Sum is the SHA-256 of header then data; nil uses crypto/sha256. The
	// browser passes WebCrypto so hashing leaves the training thread.
	Sum func(header, data []byte) ([]byte, error)
	// Locks grants one writer per run; nil grants every lock.
	Locks Locker
	// Yield lets the host's event loop run between training slices; nil
	// uses runtime.Gosched (time.Sleep on js).
	Yield func()
	// IsQuota reports a write refused for lack of space.
	IsQuota func(error) bool
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Server is the base URL of the sync server (playground/server) that
	// push, pull and auto-push talk to; "" for none.
	Server string
	// Memo keeps the comparison in progress across reloads; nil keeps it
	// for the session's life only.
	Memo Memo
	// Data keeps the custom datasets (CmdDataset) the runs train on; nil
	// refuses them.
	Data persist.DataStore
}

// Memo is one small record the session keeps across reloads (the plan of
// the comparison in progress, a few hundred bytes of JSON). The browser
// keeps it in the worker's own IndexedDB database.
type Memo interface {
	// Load returns the record; nil and no error when there is none.
	Load(ctx context.Context) ([]byte, error)
	// Save replaces the record; nil deletes it.
	Save(ctx context.Context, b []byte) error
}

// Locker is the per-run writer lock (Web Locks in the browser). Losing a
// lock to another holder is reported by pushing Input{Lost: run}.
type Locker interface {
	// Acquire takes run's lock; with steal it takes it from its holder,
	// otherwise it reports false when another holder has it.
	Acquire(ctx context.Context, run string, steal bool) (bool, error)
	// Release gives run's lock up.
	Release(run string)
}

// Options tune a Session.
type Options struct {
	Autosave      protocol.Autosave
	SaveShare     float64       // largest share of training time spent on time-based autosaves
	Slice         time.Duration // training time between yields to the event loop
	ProgressEvery time.Duration // how often progress is posted while training
	// RetryFirst and RetryMax are the sync's back-off while the server does
	// not answer: the first wait, doubling up to the longest.
	RetryFirst, RetryMax time.Duration
	// WatchPace paces the 2-D datasets by default (protocol.DefaultPace)
	// so that people can watch them learn; off, every run trains at full
	// speed unless a command sets a pace.
	WatchPace bool
}

// NewOptions returns the defaults. Autosave after 0.5 s of training, or
// up to 2 s when saving would take more than 1% of the training thread's
// time (measured: each save's pause is a few milliseconds). A reload replays
// the steps since the last autosave, so the interval bounds the replay and
// keeps navigation to the first resumed step under 1.5 s. Step-based
// autosave is off by default: time bounds the replay whatever the model.
func NewOptions() Options {
	return Options{
		Autosave:      protocol.Autosave{EveryMillis: 500, Keep: 5, MilestoneMs: 60_000},
		SaveShare:     0.01,
		Slice:         10 * time.Millisecond,
		ProgressEvery: 250 * time.Millisecond,
		RetryFirst:    time.Second,
		RetryMax:      time.Minute,
		WatchPace:     true,
	}
}

// Session is one page's engine: at most one active run at a time.
type Session struct {
	l *loop
	w *writer
	y *syncer
}

// New returns a session reading its inputs from inbox.
func New(env Env, opt Options, inbox *Inbox) *Session {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Sum == nil {
		env.Sum = func(header, data []byte) ([]byte, error) {
			h := sha256.New()
			h.Write(header)
			h.Write(data)
			return h.Sum(nil), nil
		}
	}
	if env.Yield == nil {
		env.Yield = defaultYield
	}
	if env.IsQuota == nil {
		env.IsQuota = func(error) bool { return false }
	}
	def := NewOptions()
	defaults.Positive(&opt.Slice, def.Slice)
	defaults.Positive(&opt.ProgressEvery, def.ProgressEvery)
	defaults.Positive(&opt.SaveShare, def.SaveShare)
	defaults.Positive(&opt.Autosave.Keep, def.Autosave.Keep)
	defaults.Positive(&opt.RetryFirst, def.RetryFirst)
	defaults.Positive(&opt.RetryMax, def.RetryMax)
	tb := &tables{store: env.Data, server: env.Server}
	l := newLoop(env, opt, inbox, tb)
	w, y := newWriter(env, inbox), newSyncer(env, opt, inbox, tb)
	l.writes, l.syncs, l.wakes = w.ops, y.ops, w.wakes
	return &Session{l: l, w: w, y: y}
}

// Run handles inputs and trains until ctx ends.
func (s *Session) Run(ctx context.Context) {
	wdone, ydone := make(chan struct{}), make(chan struct{})
	go func() { s.w.loop(ctx); close(wdone) }()
	go func() { s.y.loop(ctx); close(ydone) }()
	defer func() { <-wdone; <-ydone }()
	s.l.serve(ctx)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// commas formats n with thousands separators, as the status line shows it.
func commas(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
