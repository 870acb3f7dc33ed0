package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"playground/engine/enginetest"
	"playground/persist"
	"playground/persist/disk"
	"playground/persist/storetest"
	"playground/wasm/protocol"
)

// host runs a session natively over a disk store, recording its events.
type host struct {
	t     *testing.T
	inbox *Inbox
	store persist.Store
	s     *Session
	seq   int64
	stop  func() // ends the session (a reload)

	mu     sync.Mutex
	events []protocol.Event
	files  map[int][]byte // export bytes by event index
	cond   chan struct{}
}

type opts struct {
	store  persist.Store
	locks  *fakeLocks
	opt    Options
	quota  func(error) bool
	server string // the sync server's base URL
	memo   Memo
	data   persist.DataStore
}

func newHost(t *testing.T, o opts) *host {
	t.Helper()
	if o.store == nil {
		st := storetest.Disk(t)
		o.store = st
	}
	if o.opt.Autosave.EveryMillis == 0 && o.opt.Autosave.EverySteps == 0 {
		// Deterministic tests save by steps only.
		o.opt.Autosave = protocol.Autosave{EverySteps: 1000, EveryMillis: 1 << 40, Keep: 5, MilestoneMs: 1 << 40}
	}
	h := &host{t: t, inbox: NewInbox(), store: o.store, files: map[int][]byte{}, cond: make(chan struct{}, 1)}
	env := Env{Store: o.store, Emit: h.emit, IsQuota: o.quota, Server: o.server, Memo: o.memo, Data: o.data}
	if o.locks != nil {
		env.Locks = o.locks.forHost(h)
	}
	h.s = New(env, o.opt, h.inbox)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.s.Run(ctx); close(done) }()
	var once sync.Once
	h.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(h.stop)
	return h
}

func (h *host) emit(ev protocol.Event, data []byte) {
	// Every event must survive the JSON the browser sends.
	b := protocol.Encode(ev)
	if _, err := protocol.DecodeEvent(b); err != nil {
		h.t.Errorf("event does not round-trip: %v: %s", err, b)
	}
	h.mu.Lock()
	h.events = append(h.events, ev)
	if data != nil {
		h.files[len(h.events)-1] = bytes.Clone(data)
	}
	h.mu.Unlock()
	select {
	case h.cond <- struct{}{}:
	default:
	}
}

func (h *host) send(c protocol.Command, data ...byte) int64 {
	h.seq++
	c.Seq = h.seq
	h.inbox.Push(Input{Cmd: c, Data: data})
	return c.Seq
}

// wait returns the first event at or after index from that matches, and
// its index.
func (h *host) wait(from int, what string, match func(protocol.Event) bool) (protocol.Event, int) {
	h.t.Helper()
	deadline := time.After(90 * time.Second)
	for {
		h.mu.Lock()
		for i := from; i < len(h.events); i++ {
			if match(h.events[i]) {
				ev := h.events[i]
				h.mu.Unlock()
				return ev, i
			}
		}
		h.mu.Unlock()
		select {
		case <-h.cond:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; events:\n%s", what, h.dump())
		}
	}
}

// do sends c and returns the first event after it that matches.
func (h *host) do(c protocol.Command, what string, match func(protocol.Event) bool) protocol.Event {
	h.t.Helper()
	n := h.count()
	h.send(c)
	ev, _ := h.wait(n, what, match)
	return ev
}

func (h *host) dump() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for i, ev := range h.events {
		if ev.Type == protocol.EvProgress {
			continue
		}
		fmt.Fprintf(&b, "%d %s\n", i, protocol.Encode(ev))
	}
	return b.String()
}

func (h *host) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func (h *host) of(typ string) []protocol.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []protocol.Event
	for _, ev := range h.events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func pausedAt(step uint64) func(protocol.Event) bool {
	return func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Phase == protocol.PhasePaused && ev.Status.Step == step
	}
}

func isType(typ string) func(protocol.Event) bool {
	return func(ev protocol.Event) bool { return ev.Type == typ }
}

func u64(v uint64) *uint64 { return &v }

// storedSteps lists the steps of run's checkpoints in st.
func storedSteps(t *testing.T, st persist.Store, run string) []uint64 {
	t.Helper()
	objs, err := st.List(t.Context(), run)
	if err != nil {
		t.Fatal(err)
	}
	var steps []uint64
	for _, o := range objs {
		s, _ := persist.StepOfID(o.ID)
		steps = append(steps, s)
	}
	return steps
}

// nativeFingerprint trains preset to step in one go.
func nativeFingerprint(t *testing.T, preset string, step uint64) string {
	t.Helper()
	return persist.Fingerprint(enginetest.PresetTrained(t, preset, int(step)).State())
}

func TestPauseAtFingerprint(t *testing.T) {
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(2345)})
	ev, _ := h.wait(0, "pause at 2345", pausedAt(2345))
	if want := nativeFingerprint(t, "circle-sgd", 2345); ev.Status.Fingerprint != want {
		t.Fatalf("fingerprint %s, want %s", ev.Status.Fingerprint, want)
	}
	saved, _ := h.wait(0, "saved at 2345", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 2345 })
	if ps := h.of(protocol.EvProgress); len(ps) == 0 {
		t.Error("no progress events")
	}
	// Autosaves every 1000 steps, the origin kept as a milestone.
	if steps := storedSteps(t, h.store, saved.Saved.Run); fmt.Sprint(steps) != "[0 1000 2000 2345]" {
		t.Errorf("checkpoints at %v", steps)
	}
}

// After a "reload" (a new session over the same store), the run resumes
// from its newest checkpoint and replays to the page's mark; a damaged
// newest checkpoint is reported and skipped.
func TestResumeReplaysToMark(t *testing.T) {
	for _, damage := range []string{"lost", "corrupt"} {
		t.Run(damage, func(t *testing.T) {
			dir, st, _, run := pausedRun(t, "xor-momentum", 2600)
			files, _ := filepath.Glob(filepath.Join(dir, run, "0000000026*"))
			if len(files) != 1 {
				t.Fatalf("checkpoint files at 2600: %v", files)
			}
			if damage == "lost" {
				os.Remove(files[0])
			} else {
				b, _ := os.ReadFile(files[0])
				b[len(b)-3] ^= 1
				os.WriteFile(files[0], b, 0o644)
			}

			b := newHost(t, opts{store: st})
			b.send(protocol.Command{Type: protocol.CmdOpen, Preset: "xor-momentum", PauseAt: u64(4000),
				Marks: []protocol.Mark{{Run: run, Step: 2600, Running: true, Time: time.Now().UnixMilli()}}})
			r, _ := b.wait(0, "resumed", isType(protocol.EvResumed))
			if r.Resumed.Run != run || r.Resumed.From != 2000 || r.Resumed.Step != 2600 || r.Resumed.Replayed != 600 {
				t.Fatalf("resumed %+v", r.Resumed)
			}
			warnings := b.of(protocol.EvWarning)
			if damage == "corrupt" && (len(warnings) != 1 || !strings.Contains(warnings[0].Message, "step 2,600 was damaged (checkpoint corrupt: checksum mismatch) and skipped; resumed from the one at step 2,000")) {
				t.Errorf("warnings %v", warnings)
			}
			if damage == "lost" && len(warnings) != 0 {
				t.Errorf("warnings %v", warnings)
			}
			ev, _ := b.wait(0, "pause at 4000", pausedAt(4000))
			if want := nativeFingerprint(t, "xor-momentum", 4000); ev.Status.Fingerprint != want {
				t.Fatalf("fingerprint after resume %s, want %s", ev.Status.Fingerprint, want)
			}
		})
	}
}

// fakeLocks is Web Locks for several hosts sharing a store.
type fakeLocks struct {
	mu     sync.Mutex
	holder map[string]*host
}

type hostLocks struct {
	f *fakeLocks
	h *host
}

func (f *fakeLocks) forHost(h *host) Locker { return &hostLocks{f, h} }

func (l *hostLocks) Acquire(_ context.Context, run string, steal bool) (bool, error) {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	if l.f.holder == nil {
		l.f.holder = map[string]*host{}
	}
	old := l.f.holder[run]
	if old != nil && old != l.h {
		if !steal {
			return false, nil
		}
		old.inbox.Push(Input{Lost: run})
	}
	l.f.holder[run] = l.h
	return true, nil
}

func (l *hostLocks) Release(run string) {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	if l.f.holder[run] == l.h {
		delete(l.f.holder, run)
	}
}

// Two sessions on one run: the second is locked out until it takes over;
// then the first stops training and writing.
func TestOneWriterPerRun(t *testing.T) {
	st, _ := disk.New(t.TempDir(), disk.NewOptions())
	locks := &fakeLocks{}
	o := opts{store: st, locks: locks, opt: Options{Autosave: protocol.Autosave{EverySteps: 200, EveryMillis: 1 << 40}}}
	a := newHost(t, o)
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "gauss-nesterov", Autostart: true})
	a.wait(0, "a saved", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step >= 400 })

	b := newHost(t, o)
	b.send(protocol.Command{Type: protocol.CmdOpen, Preset: "gauss-nesterov", Autostart: true})
	ev, _ := b.wait(0, "locked", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Phase == protocol.PhaseLocked
	})
	if ev.Status.Owner || ev.Status.Step == 0 || ev.Status.Name != "gauss-nesterov" {
		t.Errorf("locked status %+v", ev.Status)
	}
	b.send(protocol.Command{Type: protocol.CmdResume})
	b.wait(0, "resume refused", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvError && strings.Contains(ev.Message, "another tab")
	})
	if n := len(b.of(protocol.EvSaved)); n != 0 {
		t.Fatalf("locked session saved %d checkpoints", n)
	}

	b.send(protocol.Command{Type: protocol.CmdTakeover, Autostart: true, PauseAt: u64(5000)})
	lost, _ := a.wait(0, "a lost", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Phase == protocol.PhaseLost
	})
	ev, _ = b.wait(0, "b paused at 5000", pausedAt(5000))
	if want := nativeFingerprint(t, "gauss-nesterov", 5000); ev.Status.Fingerprint != want {
		t.Fatalf("fingerprint %s, want %s", ev.Status.Fingerprint, want)
	}
	// A stopped at once; only a write already in flight may have landed.
	for _, ev := range a.of(protocol.EvSaved) {
		if ev.Saved.Step > lost.Status.Step {
			t.Errorf("a saved step %d after losing the run at step %d", ev.Saved.Step, lost.Status.Step)
		}
	}
	a.send(protocol.Command{Type: protocol.CmdResume})
	a.wait(0, "a refused", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvError && strings.Contains(ev.Message, "another tab")
	})
}

var errFull = errors.New("quota exceeded (test)")

// fullStore refuses a new checkpoint while the run holds max of them.
type fullStore struct {
	persist.Store
	max int
}

func (f *fullStore) Put(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) error {
	objs, err := f.List(ctx, run)
	if err != nil {
		return err
	}
	if len(objs) >= f.max {
		io.Copy(io.Discard, r)
		return errFull
	}
	return f.Store.Put(ctx, run, id, r, opt)
}

func TestQuotaPrunesAndRetries(t *testing.T) {
	st, _ := disk.New(t.TempDir(), disk.NewOptions())
	h := newHost(t, opts{
		store: &fullStore{Store: st, max: 3},
		quota: func(err error) bool { return errors.Is(err, errFull) },
		opt:   Options{Autosave: protocol.Autosave{EverySteps: 100, EveryMillis: 1 << 40, Keep: 5}},
	})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(1000)})
	h.wait(0, "paused", pausedAt(1000))
	w, _ := h.wait(0, "quota warning", isType(protocol.EvWarning))
	if !strings.Contains(w.Message, "storage was full") || !strings.Contains(w.Message, "deleted") {
		t.Errorf("warning %q", w.Message)
	}
	h.wait(0, "saved at 1000", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 1000 })
}

// A checkpoint exported from one session continues in another (a fresh
// profile) with the same fingerprint; a fork is listed with its lineage.
func TestExportImportFork(t *testing.T) {
	a := newHost(t, opts{})
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "spiral-adam", Autostart: true, PauseAt: u64(700)})
	ev, _ := a.wait(0, "paused", pausedAt(700))
	fp := ev.Status.Fingerprint
	a.send(protocol.Command{Type: protocol.CmdExport})
	_, i := a.wait(0, "export", isType(protocol.EvExport))
	file := a.files[i]
	c, err := persist.Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	if persist.Fingerprint(c.State) != fp {
		t.Fatal("exported state differs from the paused one")
	}

	b := newHost(t, opts{})
	b.send(protocol.Command{Type: protocol.CmdImport}, file...)
	ev, _ = b.wait(0, "imported", pausedAt(700))
	if ev.Status.Fingerprint != fp || ev.Status.Run != c.RunID {
		t.Fatalf("imported status %+v", ev.Status)
	}
	b.send(protocol.Command{Type: protocol.CmdImport}, []byte("not a checkpoint")...)
	b.wait(0, "import error", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvError && strings.Contains(ev.Message, "import")
	})

	spec := c.State.Spec
	spec.Optimizer.LR = 0.02
	n := b.count()
	b.send(protocol.Command{Type: protocol.CmdFork, Run: c.RunID, ID: c.ID, Spec: spec.JSON()})
	ev, _ = b.wait(n, "forked", func(ev protocol.Event) bool { return ev.Type == protocol.EvStatus && ev.Status.Run != c.RunID })
	child := ev.Status.Run
	b.wait(n, "fork saved", isType(protocol.EvSaved))
	n = b.count()
	b.send(protocol.Command{Type: protocol.CmdList})
	ev, _ = b.wait(n, "runs", isType(protocol.EvRuns))
	var found bool
	for _, r := range ev.Runs {
		if r.Run == child {
			found = true
			if r.ParentRun != c.RunID || r.Parent != c.ID || len(r.Checkpoints) != 1 || r.Checkpoints[0].Step != 700 {
				t.Errorf("fork listed as %+v", r)
			}
		}
	}
	if !found || len(ev.Runs) != 2 {
		t.Errorf("runs %+v", ev.Runs)
	}

	// Step once, then two more.
	n = b.count()
	b.send(protocol.Command{Type: protocol.CmdStep})
	b.wait(n, "step 701", pausedAt(701))
	b.send(protocol.Command{Type: protocol.CmdStep, Steps: 2})
	b.wait(n, "step 703", pausedAt(703))
}

func TestHiddenSavesNow(t *testing.T) {
	h := newHost(t, opts{opt: Options{Autosave: protocol.Autosave{EveryMillis: 1 << 40}}})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true})
	h.wait(0, "running", func(ev protocol.Event) bool { return ev.Type == protocol.EvProgress && ev.Progress.Step > 100 })
	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdHidden})
	// The run's first save, the milestone at step 0, may commit after the
	// command on a busy machine: the hidden page's save is an autosave (the
	// only one: no other is due).
	ev, _ := h.wait(n, "saved", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvSaved && ev.Saved.Kind == persist.KindAutosave
	})
	if ev.Saved.Step <= 100 {
		t.Errorf("saved %+v, want the step the page was hidden at (past 100)", ev.Saved)
	}
}

// Restoring the newest checkpoint continues its run; an older one forks
// (runs never rewind). Pin survives retention; delete removes.
func TestRestorePinDelete(t *testing.T) {
	h := newHost(t, opts{opt: Options{Autosave: protocol.Autosave{EverySteps: 100, EveryMillis: 1 << 40, Keep: 2}}})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "gauss-nesterov", Autostart: true, PauseAt: u64(500)})
	ev, _ := h.wait(0, "paused", pausedAt(500))
	run := ev.Status.Run
	h.wait(0, "saved 500", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 500 })
	objs, _ := h.store.List(t.Context(), run)
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	// Keep 2: the origin milestone, then autosaves 400 and 500.
	if len(ids) != 3 || !strings.HasPrefix(ids[1], "000000000400") {
		t.Fatalf("checkpoints %v", ids)
	}

	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdPin, Run: run, ID: ids[1]})
	h.wait(n, "list after pin", isType(protocol.EvRuns))
	h.send(protocol.Command{Type: protocol.CmdStep, Steps: 200})
	h.wait(n, "paused at 700", pausedAt(700))
	h.wait(n, "saved 700", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 700 })
	objs, _ = h.store.List(t.Context(), run)
	found := false
	for _, o := range objs {
		found = found || o.ID == ids[1]
	}
	if !found {
		t.Fatalf("pinned checkpoint %s was deleted by retention: %v", ids[1], objs)
	}

	n = h.count()
	h.send(protocol.Command{Type: protocol.CmdRestore, Run: run, ID: ids[1]})
	ev, _ = h.wait(n, "fork from 400", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Run != run && ev.Status.Phase == protocol.PhasePaused
	})
	if ev.Status.Step != 400 || ev.Status.Fingerprint != nativeFingerprint(t, "gauss-nesterov", 400) {
		t.Fatalf("restore of an older checkpoint: %+v", ev.Status)
	}
	child := ev.Status.Run

	n = h.count()
	h.send(protocol.Command{Type: protocol.CmdDelete, Run: run, ID: ids[1]})
	ev, _ = h.wait(n, "list after delete", isType(protocol.EvRuns))
	for _, r := range ev.Runs {
		for _, c := range r.Checkpoints {
			if c.ID == ids[1] && r.Run == run {
				t.Fatalf("deleted checkpoint still listed")
			}
		}
		if r.Run == child && (r.ParentRun != run || r.Parent != ids[1]) {
			t.Errorf("child lineage %+v", r)
		}
	}

	// The newest checkpoint of a run restores in place.
	objs, _ = h.store.List(t.Context(), run)
	newest := objs[len(objs)-1].ID
	n = h.count()
	h.send(protocol.Command{Type: protocol.CmdRestore, Run: run, ID: newest})
	ev, _ = h.wait(n, "restored in place", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Run == run && ev.Status.Phase == protocol.PhasePaused
	})
	if ev.Status.Step != 700 {
		t.Errorf("restored at %d, want 700", ev.Status.Step)
	}
}

// ?pauseAt=N behind where the run was: it goes back to N (from the newest
// checkpoint at or below N) and pauses there exactly.
func TestPauseAtBehindMark(t *testing.T) {
	st, _ := disk.New(t.TempDir(), disk.NewOptions())
	a := newHost(t, opts{store: st})
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(2600)})
	ev, _ := a.wait(0, "pause", pausedAt(2600))
	a.wait(0, "saved", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 2600 })

	b := newHost(t, opts{store: st})
	b.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(1500),
		Marks: []protocol.Mark{{Run: ev.Status.Run, Step: 2600, Running: true, Time: time.Now().UnixMilli()}}})
	r, _ := b.wait(0, "resumed", isType(protocol.EvResumed))
	if r.Resumed.From != 1000 || r.Resumed.Step != 1500 {
		t.Fatalf("resumed %+v", r.Resumed)
	}
	ev, _ = b.wait(0, "paused at 1500", pausedAt(1500))
	if ev.Status.Fingerprint != nativeFingerprint(t, "circle-sgd", 1500) {
		t.Fatal("fingerprint at 1500 differs")
	}
}
