package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"playground/persist"
	"playground/wasm/protocol"
)

// errNotOwner drops a write for a run whose lock this session lost.
var errNotOwner = errors.New("this tab no longer holds the run's writer lock")

// The writer's operations, one type per kind. The writer runs them one at
// a time, in order, so the head it believes in (for CheckHead) is always
// its own last write.
type (
	// ownOp starts accepting writes for run, whose stored head is head
	// ("" for none), and applies retention to what earlier sessions left
	// (off the resume's critical path, before any save of the run):
	// reported as retained.
	ownOp struct {
		isWrite
		run, head string
		stolen    bool // run taken over: adopt one late write of the previous owner
		keep      int
	}
	// releaseOp stops writing run and, with unlock, gives its lock up.
	// Writes queued before it still go out.
	releaseOp struct {
		isWrite
		run    string
		unlock bool
	}
	// saveOp encodes, puts as the new head and applies retention:
	// reported as saved.
	saveOp struct {
		isWrite
		seq    int64
		run    string
		keep   int
		ckpt   *persist.Checkpoint
		taken  time.Time
		forced bool // not an autosave: its pause says nothing about the interval
		then   afterSave
	}
	// putOp puts file as run/id (import, pull); the answer goes to reply.
	putOp struct {
		isWrite
		run, id string
		file    []byte
		setHead bool
		reply   chan error
	}
	// pinOp re-saves a checkpoint as pinned; deleteOp deletes one. With
	// claim (not the active run) the writer takes the run's lock for the
	// operation only. Both are reported as edited.
	pinOp struct {
		isWrite
		edit
	}
	deleteOp struct {
		isWrite
		edit
	}
	// flushOp is answered once every write queued before it is done.
	flushOp struct {
		isWrite
		reply chan struct{}
	}
	// forwardOp hands op back to the loop (forwarded) once every write
	// queued before it is done, so a push sends the newest save too.
	forwardOp struct {
		isWrite
		op syncOp
	}
)

// writeOp is one of the writer's operations: a struct embedding isWrite.
type writeOp interface{ writeOp() }

// isWrite marks the writer's operations.
type isWrite struct{}

func (isWrite) writeOp() {}

// edit is a pin or delete of checkpoint run/id asked by command seq.
type edit struct {
	seq     int64
	run, id string
	claim   bool
}

// afterSave is what the loop does with a committed checkpoint besides
// reporting it: post it as an export, or push its run.
type afterSave struct {
	export bool
	push   *pushOp
}

// The writer's reports to the loop.
type (
	saved struct {
		op      saveOp
		err     error
		size    int
		file    []byte
		deleted []string
		note    string
		at      time.Time
	}
	retained struct {
		run     string
		deleted []string
		err     error
	}
	edited struct {
		verb string // protocol.CmdPin or CmdDelete
		edit
		err error
	}
	forwarded struct{ op syncOp }
)

// writer owns the store's writes: the heads it wrote and the runs it
// may write, in its own goroutine. It takes writeOps from ops and reports
// to the loop's inbox.
type writer struct {
	store persist.Store
	locks Locker
	ops   *queue[writeOp]
	out   *Inbox
	env   writerEnv
	// wakes counts the writer's resumptions, so the loop charges a save
	// only with the yields in which the writer actually ran: the one thing
	// of the writer's the loop reads (atomically).
	wakes *atomic.Int64

	heads     map[string]string // the head each owned run has, as far as we wrote it
	owned     map[string]bool
	adopt     map[string]bool // run taken over: adopt one late write of the previous owner
	autosaves map[string]*persist.Autosaves
}

// writerEnv is what the writer needs of Env besides the store and locks.
type writerEnv struct {
	sum     func(header, data []byte) ([]byte, error)
	isQuota func(error) bool
	now     func() time.Time
}

func newWriter(env Env, out *Inbox) *writer {
	return &writer{
		store: env.Store, locks: env.Locks, ops: newQueue[writeOp](), out: out, wakes: new(atomic.Int64),
		env:   writerEnv{sum: env.Sum, isQuota: env.IsQuota, now: env.Now},
		heads: map[string]string{}, owned: map[string]bool{}, adopt: map[string]bool{},
		autosaves: map[string]*persist.Autosaves{},
	}
}

func (w *writer) loop(ctx context.Context) {
	for {
		for _, op := range w.ops.take() {
			w.do(ctx, op)
		}
		select {
		case <-w.ops.notify:
		case <-ctx.Done():
			return
		}
	}
}

func (w *writer) report(v any) { w.out.q.push(Input{res: v}) }

func (w *writer) do(ctx context.Context, op writeOp) {
	w.wakes.Add(1)
	switch op := op.(type) {
	case ownOp:
		w.owned[op.run], w.heads[op.run], w.adopt[op.run] = true, op.head, op.stolen
		deleted, err := w.retainAll(ctx, op.run, op.keep)
		w.report(retained{run: op.run, deleted: deleted, err: err})
	case releaseOp:
		w.release(op.run, op.unlock)
	case saveOp:
		d := saved{op: op}
		if !w.owned[op.run] {
			d.err = errNotOwner
		} else {
			d.err = w.save(ctx, op, &d)
		}
		d.at = w.env.now()
		w.report(d)
	case putOp:
		err := errNotOwner
		if w.owned[op.run] {
			err = w.put(ctx, op.run, op.id, op.file, op.setHead)
		}
		op.reply <- err
	case pinOp:
		w.report(edited{verb: protocol.CmdPin, edit: op.edit, err: w.edit(ctx, op.edit, w.pin)})
	case deleteOp:
		w.report(edited{verb: protocol.CmdDelete, edit: op.edit, err: w.edit(ctx, op.edit, w.delete)})
	case flushOp:
		close(op.reply)
	case forwardOp:
		w.report(forwarded{op.op})
	default:
		panic(fmt.Sprintf("writer: unknown operation %T", op))
	}
}

func (w *writer) release(run string, unlock bool) {
	delete(w.owned, run)
	delete(w.heads, run)
	delete(w.adopt, run)
	delete(w.autosaves, run)
	if unlock && w.locks != nil {
		w.locks.Release(run)
	}
}

// edit runs f on e's checkpoint, taking its run's lock first with claim
// (and giving it back after).
func (w *writer) edit(ctx context.Context, e edit, f func(ctx context.Context, run, id string) error) error {
	if e.claim {
		head, ok, err := lockAtHead(ctx, w.store, w.locks, e.run, false)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("run %s is trained in another tab", e.run)
		}
		w.owned[e.run], w.heads[e.run], w.adopt[e.run] = true, head, false
		defer w.release(e.run, true)
	}
	if !w.owned[e.run] {
		return errNotOwner
	}
	err := f(ctx, e.run, e.id)
	if a := w.autosaves[e.run]; a != nil {
		a.Forget(e.id)
	}
	return err
}

func (w *writer) delete(ctx context.Context, run, id string) error {
	if err := w.store.Delete(ctx, run, id); err != nil {
		return err
	}
	if w.heads[run] == id {
		w.heads[run] = ""
	}
	return nil
}

// retainAll applies persist.Retain to run and relists its autosaves. It
// reads every header, so it runs once when a run is taken (before
// training) and after a quota error, not after every save.
func (w *writer) retainAll(ctx context.Context, run string, keep int) ([]string, error) {
	deleted, err := persist.Retain(ctx, w.store, run, persist.Retention{KeepLast: max(keep, 1)})
	if err != nil {
		return deleted, err
	}
	ls, err := persist.ListInfo(ctx, w.store, run)
	if err != nil {
		return deleted, err
	}
	a := persist.AutosavesOf(ls)
	w.autosaves[run] = &a
	return deleted, nil
}

// retainAfter records a new checkpoint of run and deletes the oldest
// autosaves beyond keep (never the head): persist.Retain, incrementally.
func (w *writer) retainAfter(ctx context.Context, run, id, kind string, keep int) ([]string, error) {
	a := w.autosaves[run]
	if a == nil {
		a = &persist.Autosaves{}
		w.autosaves[run] = a
	}
	a.Add(id, kind)
	var deleted []string
	for _, v := range a.Trim(persist.Retention{KeepLast: keep}, w.heads[run]) {
		if err := w.store.Delete(ctx, run, v); err != nil && !errors.Is(err, persist.ErrNotExist) {
			return deleted, err
		}
		deleted = append(deleted, v)
	}
	return deleted, nil
}

// lockAtHead takes run's writer lock (stealing it with steal) and reads
// the run's stored head ("" for none); false if another holder has the
// lock. The lock is given back if the head cannot be read.
func lockAtHead(ctx context.Context, st persist.Store, l Locker, run string, steal bool) (head string, ok bool, err error) {
	if l != nil {
		if ok, err := l.Acquire(ctx, run, steal); err != nil || !ok {
			return "", false, err
		}
	}
	if head, err = storedHead(ctx, st, run); err != nil {
		if l != nil {
			l.Release(run)
		}
		return "", false, err
	}
	return head, true, nil
}

// storedHead is run's head in st, "" when it has none.
func storedHead(ctx context.Context, st persist.Store, run string) (string, error) {
	head, err := st.Head(ctx, run)
	if errors.Is(err, persist.ErrNotExist) {
		return "", nil
	}
	return head, err
}

// save encodes (hashing with env.sum), commits as the run's head, and
// applies retention. On a quota error it prunes the run's autosaves to the
// newest one and retries once.
func (w *writer) save(ctx context.Context, op saveOp, d *saved) error {
	b, err := persist.EncodeWith(op.ckpt, w.env.sum)
	w.wakes.Add(1)
	if err != nil {
		return err
	}
	d.size = len(b)
	err = w.put(ctx, op.run, op.ckpt.ID, b, true)
	w.wakes.Add(1)
	if err != nil && w.env.isQuota(err) {
		pruned, perr := w.retainAll(ctx, op.run, 1)
		if perr != nil {
			return fmt.Errorf("storage is full, and pruning old autosaves failed: %v (%w)", perr, err)
		}
		d.deleted = pruned
		if err = w.put(ctx, op.run, op.ckpt.ID, b, true); err != nil {
			return fmt.Errorf("storage is full even after deleting %d old autosaves of this run; delete other runs or pinned checkpoints to free space (%w)", len(pruned), err)
		}
		d.note = fmt.Sprintf("storage was full: deleted %d old autosaves of this run, then saved step %s", len(pruned), commas(op.ckpt.State.Step))
	}
	if err != nil {
		return err
	}
	d.file = b
	deleted, err := w.retainAfter(ctx, op.run, op.ckpt.ID, op.ckpt.Kind, op.keep)
	w.wakes.Add(1)
	d.deleted = append(d.deleted, deleted...)
	if err != nil {
		d.note = fmt.Sprintf("retention after saving step %s: %v", commas(op.ckpt.State.Step), err)
	}
	return nil
}

// put writes b as run/id only if the run's head is still the one this
// writer last wrote: a tab that lost the lock cannot overwrite the new
// owner's progress.
func (w *writer) put(ctx context.Context, run, id string, b []byte, setHead bool) error {
	opt := persist.PutOptions{SetHead: setHead, CheckHead: true, IfHead: w.heads[run]}
	err := w.store.Put(ctx, run, id, bytes.NewBuffer(b), opt)
	if errors.Is(err, persist.ErrHeadMoved) {
		if !w.adopt[run] {
			return fmt.Errorf("%w: %w", errNotOwner, err)
		}
		// We stole the lock: the previous owner's last write landed after
		// we read the head. It is a state of the same run (training is
		// deterministic), so continue on top of it.
		cur, herr := storedHead(ctx, w.store, run)
		if herr != nil {
			return herr
		}
		opt.IfHead = cur
		err = w.store.Put(ctx, run, id, bytes.NewBuffer(b), opt)
	}
	if err != nil {
		return err
	}
	if setHead {
		w.heads[run] = id
	}
	w.adopt[run] = false
	return nil
}

func (w *writer) pin(ctx context.Context, run, id string) error {
	b, err := persist.ReadAll(ctx, w.store, run, id)
	if err != nil {
		return err
	}
	c, err := persist.Decode(b)
	if err != nil {
		return err
	}
	if c.Kind == persist.KindPinned {
		return nil
	}
	c.Kind = persist.KindPinned
	if b, err = persist.EncodeWith(c, w.env.sum); err != nil {
		return err
	}
	return w.put(ctx, run, id, b, false)
}
