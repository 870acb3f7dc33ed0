package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"playground/persist"
)

// errNotOwner drops a write for a run whose lock this session lost.
var errNotOwner = errors.New("this tab no longer holds the run's writer lock")

// job is one write. The writer runs them one at a time, in order, so the
// head it believes in (for CheckHead) is always its own last write.
type job struct {
	seq  int64
	run  string
	keep int

	ckpt   *persist.Checkpoint // encode, put as the new head, apply retention
	taken  time.Time
	forced bool
	then   func(id string, file []byte) // after the commit (export of the current state)

	file    []byte // put these bytes as id (import: as the new head)
	id      string
	setHead bool
	pin     string // re-save this checkpoint as pinned
	del     string // delete this checkpoint

	retainAll bool // apply retention to the whole run (first of a run taken)

	claim   bool       // take the run's lock (not the active run's) for this job, then release it
	release bool       // release the run's lock afterwards
	reply   chan error // for callers that wait
	after   func()     // called once the job is done, whatever happened
}

// writeDone reports a finished checkpoint write to the loop.
type writeDone struct {
	job     job
	err     error
	size    int
	deleted []string
	note    string
	at      time.Time
}

type writer struct {
	s *Session
	q *queue[job]
	// wakes counts the writer's resumptions, so the loop charges a save
	// only with the yields in which the writer actually ran.
	wakes atomic.Int64

	mu    sync.Mutex
	heads map[string]string // the head each owned run has, as far as we wrote it
	owned map[string]bool
	adopt map[string]bool // run taken over: adopt one late write of the previous owner
	// autosaves lists each owned run's autosaves, oldest first, so retention
	// after a save deletes without reading every header again.
	autosaves map[string][]string
}

func newWriter(s *Session) *writer {
	return &writer{
		s: s, q: newQueue[job](),
		heads: map[string]string{}, owned: map[string]bool{}, adopt: map[string]bool{},
		autosaves: map[string][]string{},
	}
}

// retainAll applies persist.Retain to run and relists its autosaves. It
// reads every header, so it runs once when a run is taken (before
// training) and after a quota error, not after every save.
func (w *writer) retainAll(ctx context.Context, run string, keep int) ([]string, error) {
	st := w.s.env.Store
	deleted, err := persist.Retain(ctx, st, run, persist.Retention{KeepLast: max(keep, 1)})
	if err != nil {
		return deleted, err
	}
	ls, err := persist.ListInfo(ctx, st, run)
	if err != nil {
		return deleted, err
	}
	var auto []string
	for _, l := range ls {
		if l.Err == nil && l.Info.Kind == persist.KindAutosave {
			auto = append(auto, l.ID)
		}
	}
	w.mu.Lock()
	w.autosaves[run] = auto
	w.mu.Unlock()
	return deleted, nil
}

// retainAfter records a new checkpoint of run and deletes the oldest
// autosaves beyond keep (never the head): what persist.Retain would do,
// incrementally.
func (w *writer) retainAfter(ctx context.Context, run, id, kind string, keep int) ([]string, error) {
	w.mu.Lock()
	auto := w.autosaves[run]
	if kind == persist.KindAutosave {
		auto = append(auto, id)
	}
	auto, victims := trimOldest(auto, keep, w.heads[run])
	w.autosaves[run] = auto
	w.mu.Unlock()
	var deleted []string
	for _, v := range victims {
		if err := w.s.env.Store.Delete(ctx, run, v); err != nil && !errors.Is(err, persist.ErrNotExist) {
			return deleted, err
		}
		deleted = append(deleted, v)
	}
	return deleted, nil
}

// trimOldest splits ids (oldest first) into the newest keep (at least 1)
// and the older ones to delete, stopping at head, which is never deleted.
func trimOldest(ids []string, keep int, head string) (kept, victims []string) {
	for len(ids) > max(keep, 1) && ids[0] != head {
		victims = append(victims, ids[0])
		ids = ids[1:]
	}
	return ids, victims
}

// forget drops id from run's autosaves (deleted or pinned).
func (w *writer) forget(run, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.autosaves[run] = slices.DeleteFunc(w.autosaves[run], func(a string) bool { return a == id })
}

// own starts accepting writes for run, whose head is head ("" for none).
func (w *writer) own(run, head string, stolen bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.owned[run], w.heads[run], w.adopt[run] = true, head, stolen
}

func (w *writer) disown(run string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.owned, run)
	delete(w.heads, run)
	delete(w.adopt, run)
	delete(w.autosaves, run)
}

func (w *writer) owns(run string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.owned[run]
}

func (w *writer) loop(ctx context.Context) {
	for {
		for _, j := range w.q.take() {
			w.do(ctx, j)
		}
		select {
		case <-w.q.notify:
		case <-ctx.Done():
			return
		}
	}
}

func (w *writer) do(ctx context.Context, j job) {
	w.wakes.Add(1)
	d := &writeDone{job: j}
	if j.claim {
		if err := w.claim(ctx, j.run); err != nil {
			d.err = err
			if j.reply != nil {
				j.reply <- err
			}
			return
		}
		j.release = true
	}
	if !w.owns(j.run) {
		d.err = errNotOwner
	} else {
		switch {
		case j.ckpt != nil:
			d.err = w.save(ctx, j, d)
		case j.file != nil:
			d.err = w.put(ctx, j.run, j.id, j.file, j.setHead)
		case j.retainAll:
			deleted, err := w.retainAll(ctx, j.run, j.keep)
			if err != nil {
				w.s.warn(0, "retention of run %s: %v", j.run, err)
			}
			if len(deleted) > 0 {
				w.s.list(ctx, 0) // the page's listing may predate the deletions
			}
		case j.pin != "":
			d.err = w.pinCheckpoint(ctx, j.run, j.pin)
			w.forget(j.run, j.pin)
		case j.del != "":
			d.err = w.s.env.Store.Delete(ctx, j.run, j.del)
			w.forget(j.run, j.del)
			if d.err == nil {
				w.mu.Lock()
				if w.heads[j.run] == j.del {
					w.heads[j.run] = ""
				}
				w.mu.Unlock()
			}
		}
	}
	d.at = w.s.env.Now()
	if j.release {
		w.disown(j.run)
		if w.s.env.Locks != nil {
			w.s.env.Locks.Release(j.run)
		}
	}
	if j.reply != nil {
		j.reply <- d.err
	}
	if j.after != nil {
		j.after()
	}
	if j.ckpt != nil {
		w.s.inbox.Push(Input{fn: func(context.Context) { w.s.writeDone(d) }})
	}
}

// claim takes run's writer lock and owns the run at its stored head.
func (w *writer) claim(ctx context.Context, run string) error {
	head, ok, err := w.s.lockAtHead(ctx, run, false)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("run %s is trained in another tab", run)
	}
	w.own(run, head, false)
	return nil
}

// lockAtHead takes run's writer lock (stealing it with steal) and reads
// the run's stored head ("" for none); false if another holder has the
// lock. The lock is given back if the head cannot be read.
func (s *Session) lockAtHead(ctx context.Context, run string, steal bool) (head string, ok bool, err error) {
	if l := s.env.Locks; l != nil {
		if ok, err := l.Acquire(ctx, run, steal); err != nil || !ok {
			return "", false, err
		}
	}
	if head, err = storedHead(ctx, s.env.Store, run); err != nil {
		if l := s.env.Locks; l != nil {
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

// save encodes (hashing with env.Sum), commits as the run's head, and
// applies retention. On a quota error it prunes the run's autosaves to the
// newest one and retries once.
func (w *writer) save(ctx context.Context, j job, d *writeDone) error {
	b, err := persist.EncodeWith(j.ckpt, w.s.env.Sum)
	w.wakes.Add(1)
	if err != nil {
		return err
	}
	d.size = len(b)
	if !w.owns(j.run) { // lost while hashing
		return errNotOwner
	}
	err = w.put(ctx, j.run, j.ckpt.ID, b, true)
	w.wakes.Add(1)
	if err != nil && w.s.env.IsQuota(err) {
		pruned, perr := w.retainAll(ctx, j.run, 1)
		if perr != nil {
			return fmt.Errorf("storage is full, and pruning old autosaves failed: %v (%w)", perr, err)
		}
		d.deleted = pruned
		if err = w.put(ctx, j.run, j.ckpt.ID, b, true); err != nil {
			return fmt.Errorf("storage is full even after deleting %d old autosaves of this run; delete other runs or pinned checkpoints to free space (%w)", len(pruned), err)
		}
		d.note = fmt.Sprintf("storage was full: deleted %d old autosaves of this run, then saved step %s", len(pruned), commas(j.ckpt.State.Step))
	}
	if err != nil {
		return err
	}
	if j.then != nil {
		j.then(j.ckpt.ID, b)
	}
	w.s.autoPushSaved(j, b)
	deleted, err := w.retainAfter(ctx, j.run, j.ckpt.ID, j.ckpt.Kind, j.keep)
	w.wakes.Add(1)
	d.deleted = append(d.deleted, deleted...)
	if err != nil {
		d.note = fmt.Sprintf("retention after saving step %s: %v", commas(j.ckpt.State.Step), err)
	}
	return nil
}

// put writes b as run/id only if the run's head is still the one this
// writer last wrote: a tab that lost the lock cannot overwrite the new
// owner's progress.
func (w *writer) put(ctx context.Context, run, id string, b []byte, setHead bool) error {
	st := w.s.env.Store
	w.mu.Lock()
	head := w.heads[run]
	w.mu.Unlock()
	opt := persist.PutOptions{SetHead: setHead, CheckHead: true, IfHead: head}
	err := st.Put(ctx, run, id, bytes.NewBuffer(b), opt)
	if errors.Is(err, persist.ErrHeadMoved) {
		w.mu.Lock()
		adopt := w.adopt[run]
		w.mu.Unlock()
		if !adopt {
			return fmt.Errorf("%w: %w", errNotOwner, err)
		}
		// We stole the lock: the previous owner's last write landed after
		// we read the head. It is a state of the same run (training is
		// deterministic), so continue on top of it.
		cur, herr := storedHead(ctx, st, run)
		if herr != nil {
			return herr
		}
		opt.IfHead = cur
		err = st.Put(ctx, run, id, bytes.NewBuffer(b), opt)
	}
	if err != nil {
		return err
	}
	w.mu.Lock()
	if setHead {
		w.heads[run] = id
	}
	w.adopt[run] = false
	w.mu.Unlock()
	return nil
}

func (w *writer) pinCheckpoint(ctx context.Context, run, id string) error {
	b, err := persist.ReadAll(ctx, w.s.env.Store, run, id)
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
	if b, err = persist.EncodeWith(c, w.s.env.Sum); err != nil {
		return err
	}
	return w.put(ctx, run, id, b, false)
}
