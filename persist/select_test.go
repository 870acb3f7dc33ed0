package persist_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/persist/disk"
	"playground/persist/storetest"
)

// saver writes real checkpoints of one small run into a disk store.
type saver struct {
	t   *testing.T
	s   *disk.Store
	run string
	tr  *engine.Trainer
}

func newSaver(t *testing.T) *saver {
	t.Helper()
	s := storetest.Disk(t)
	tr := storetest.NewTrainer(t, "gauss-nesterov")
	return &saver{t: t, s: s, run: persist.NewRunID("select"), tr: tr}
}

// next trains one step and returns the encoded checkpoint and its id.
func (sv *saver) next(kind string) (string, []byte) {
	sv.t.Helper()
	sv.tr.TrainStep()
	id := persist.NewID(sv.tr.Step)
	b, err := persist.Encode(&persist.Checkpoint{
		Meta: persist.Meta{
			RunID:         sv.run,
			ID:            id,
			Created:       time.Date(2025, 1, 1, 0, 0, int(sv.tr.Step), 0, time.UTC),
			EngineVersion: engine.Version,
			Kind:          kind,
		},
		State: sv.tr.State(),
	})
	if err != nil {
		sv.t.Fatal(err)
	}
	return id, b
}

func (sv *saver) put(id string, b []byte, head bool) {
	sv.t.Helper()
	if err := sv.s.Put(sv.t.Context(), sv.run, id, bytes.NewReader(b), persist.PutOptions{SetHead: head}); err != nil {
		sv.t.Fatal(err)
	}
}

// autosaves trains and stores n autosaves, each made the head when head
// is set, and returns their ids and bytes.
func (sv *saver) autosaves(n int, head bool) (ids []string, blobs [][]byte) {
	sv.t.Helper()
	for range n {
		id, b := sv.next(persist.KindAutosave)
		sv.put(id, b, head)
		ids, blobs = append(ids, id), append(blobs, b)
	}
	return ids, blobs
}

func (sv *saver) ids() []string {
	sv.t.Helper()
	objs, err := sv.s.List(sv.t.Context(), sv.run)
	if err != nil {
		sv.t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	return ids
}

func flipLast(b []byte) []byte {
	b = slices.Clone(b)
	b[len(b)-1] ^= 0xff
	return b
}

func TestNewest(t *testing.T) {
	ctx := t.Context()
	sv := newSaver(t)
	if _, _, err := persist.Newest(ctx, sv.s, sv.run); !errors.Is(err, persist.ErrNotExist) {
		t.Errorf("Newest of an empty run = %v, want ErrNotExist", err)
	}

	ids, blobs := sv.autosaves(5, true)
	c, skipped, err := persist.Newest(ctx, sv.s, sv.run)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("Newest = %v, %v", skipped, err)
	}
	if c.ID != ids[4] || c.State.Step != 5 {
		t.Errorf("Newest = %s at step %d, want %s at step 5", c.ID, c.State.Step, ids[4])
	}

	// The newest is corrupt, the next truncated, the head moved back: the
	// newest valid one by id wins anyway.
	sv.put(ids[4], flipLast(blobs[4]), false)
	sv.put(ids[3], blobs[3][:len(blobs[3])/2], false)
	sv.put(ids[1], blobs[1], true)
	c, skipped, err = persist.Newest(ctx, sv.s, sv.run)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != ids[2] || c.State.Step != 3 {
		t.Errorf("Newest = %s at step %d, want %s at step 3", c.ID, c.State.Step, ids[2])
	}
	want, err := persist.Decode(blobs[2])
	if err != nil {
		t.Fatal(err)
	}
	b1, err := persist.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := persist.Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Errorf("Newest's checkpoint differs from the stored one")
	}
	if len(skipped) != 2 || skipped[0].ID != ids[4] || skipped[1].ID != ids[3] ||
		!errors.Is(skipped[0].Err, persist.ErrCorrupt) || !errors.Is(skipped[1].Err, persist.ErrTruncated) {
		t.Errorf("skipped = %v, want [%s corrupt, %s truncated]", skipped, ids[4], ids[3])
	}

	// Nothing valid left.
	for i := range 3 {
		sv.put(ids[i], []byte("junk"), false)
	}
	_, skipped, err = persist.Newest(ctx, sv.s, sv.run)
	if !errors.Is(err, persist.ErrNotExist) || len(skipped) != 5 {
		t.Errorf("Newest = %d skipped, %v; want 5 skipped, ErrNotExist", len(skipped), err)
	}
}

// failStore fails Get of one id with a store error, not a format one.
type failStore struct {
	persist.Store
	id string
}

var errStore = errors.New("store unavailable")

func (f failStore) Get(ctx context.Context, run, id string) (io.ReadCloser, error) {
	if id == f.id {
		return nil, errStore
	}
	return f.Store.Get(ctx, run, id)
}

func (f failStore) Head(ctx context.Context, run string) (string, error) {
	if f.id == "HEAD" {
		return "", errStore
	}
	return f.Store.Head(ctx, run)
}

func TestNewestStoreError(t *testing.T) {
	sv := newSaver(t)
	ids, _ := sv.autosaves(3, false)
	// A store error on the newest does not fall back to an older step.
	_, _, err := persist.Newest(t.Context(), failStore{sv.s, ids[2]}, sv.run)
	if !errors.Is(err, errStore) {
		t.Errorf("Newest = %v, want the store's error", err)
	}
}

func TestListInfo(t *testing.T) {
	ctx := t.Context()
	sv := newSaver(t)
	if ls, err := persist.ListInfo(ctx, sv.s, sv.run); err != nil || len(ls) != 0 {
		t.Errorf("ListInfo of an empty run = %v, %v", ls, err)
	}
	kinds := []string{persist.KindAutosave, persist.KindPinned, "", persist.KindMilestone}
	var ids []string
	var blobs [][]byte
	for _, k := range kinds {
		id, b := sv.next(k)
		if k == "" {
			b = []byte("not a checkpoint")
		}
		sv.put(id, b, false)
		ids, blobs = append(ids, id), append(blobs, b)
	}
	ls, err := persist.ListInfo(ctx, sv.s, sv.run)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != len(kinds) {
		t.Fatalf("ListInfo returned %d, want %d", len(ls), len(kinds))
	}
	for i, l := range ls {
		if l.ID != ids[i] || l.Size != int64(len(blobs[i])) {
			t.Errorf("[%d] = %s %d bytes, want %s %d bytes", i, l.ID, l.Size, ids[i], len(blobs[i]))
		}
		if kinds[i] == "" {
			if l.Err == nil {
				t.Errorf("[%d] junk: no error", i)
			}
			continue
		}
		if l.Err != nil {
			t.Errorf("[%d]: %v", i, l.Err)
			continue
		}
		if l.Info.ID != ids[i] || l.Info.Kind != kinds[i] || l.Info.Step != uint64(i+1) || l.Info.RunID != sv.run {
			t.Errorf("[%d] Info = id %s kind %s step %d run %s, want %s %s %d %s",
				i, l.Info.ID, l.Info.Kind, l.Info.Step, l.Info.RunID, ids[i], kinds[i], i+1, sv.run)
		}
	}
	if _, err := persist.ListInfo(ctx, sv.s, "Bad"); !errors.Is(err, persist.ErrBadID) {
		t.Errorf("ListInfo(Bad) = %v, want ErrBadID", err)
	}
}

func TestRetain(t *testing.T) {
	// Each letter is one checkpoint, oldest first: a autosave, p pinned,
	// m milestone, f final, i imported, x a damaged header, t a header
	// cut short. kept marks the survivors with K.
	tests := []struct {
		name  string
		ckpts string
		head  int // index of the head, -1 for none
		keep  int
		kept  string
	}{
		{"autosaves", "aaaaa", -1, 2, "...KK"},
		{"head newest", "aaaaa", 4, 2, "...KK"},
		{"keep more than there are", "aaa", 2, 5, "KKK"},
		{"other kinds", "apaamfai", -1, 1, ".K..KKKK"},
		{"head restored to an old one", "aaaa", 0, 2, "K.KK"},
		{"damaged among the kept", "aaxa", -1, 2, ".KKK"},
		{"damaged below the kept", "xaat", -1, 2, ".KKK"},
		{"damaged old, room left", "xxpa", -1, 2, ".KKK"},
		{"damaged old, no room", "xxaa", -1, 2, "..KK"},
		{"damaged newest", "aaxt", 1, 1, ".KKK"},
		{"all damaged", "xtx", -1, 1, "KKK"},
		{"damaged head", "xaa", 0, 1, "K.K"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			sv := newSaver(t)
			kinds := map[byte]string{'a': persist.KindAutosave, 'p': persist.KindPinned, 'm': persist.KindMilestone,
				'f': persist.KindFinal, 'i': persist.KindImported, 'x': persist.KindAutosave, 't': persist.KindAutosave}
			var ids, wantDeleted, wantKept []string
			for i, c := range []byte(tt.ckpts) {
				id, b := sv.next(kinds[c])
				switch c {
				case 'x':
					b = bytes.Repeat([]byte{0xee}, len(b))
				case 't':
					b = b[:5]
				}
				sv.put(id, b, i == tt.head)
				ids = append(ids, id)
				if tt.kept[i] == 'K' {
					wantKept = append(wantKept, id)
				} else {
					wantDeleted = append(wantDeleted, id)
				}
			}
			deleted, err := persist.Retain(ctx, sv.s, sv.run, persist.Retention{KeepLast: tt.keep})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(deleted, wantDeleted) {
				t.Errorf("deleted %q, want %q", deleted, wantDeleted)
			}
			if got := sv.ids(); !slices.Equal(got, wantKept) {
				t.Errorf("kept %q, want %q", got, wantKept)
			}
			if tt.head >= 0 {
				if h, err := sv.s.Head(ctx, sv.run); err != nil || h != ids[tt.head] {
					t.Errorf("Head = %q, %v; want %q", h, err, ids[tt.head])
				}
			}
			// Retain is idempotent.
			if again, err := persist.Retain(ctx, sv.s, sv.run, persist.Retention{KeepLast: tt.keep}); err != nil || len(again) != 0 {
				t.Errorf("second Retain deleted %q, %v", again, err)
			}
		})
	}
}

func TestRetainErrors(t *testing.T) {
	ctx := t.Context()
	sv := newSaver(t)
	ids, _ := sv.autosaves(4, false)
	for _, k := range []int{0, -1} {
		if _, err := persist.Retain(ctx, sv.s, sv.run, persist.Retention{KeepLast: k}); err == nil {
			t.Errorf("Retain(KeepLast %d) succeeded", k)
		}
	}
	// A store error reading any header, or the head, deletes nothing: an
	// unreadable pinned checkpoint must not pass for a damaged autosave.
	for _, fail := range []string{ids[0], ids[3], "HEAD"} {
		deleted, err := persist.Retain(ctx, failStore{sv.s, fail}, sv.run, persist.Retention{KeepLast: 1})
		if !errors.Is(err, errStore) || len(deleted) != 0 {
			t.Errorf("Retain failing on %s = %q, %v; want nothing deleted, the store's error", fail, deleted, err)
		}
	}
	if got := sv.ids(); !slices.Equal(got, ids) {
		t.Errorf("after failed Retains %q, want %q", got, ids)
	}
	if _, err := persist.Retain(ctx, sv.s, "Bad", persist.Retention{KeepLast: 1}); !errors.Is(err, persist.ErrBadID) {
		t.Errorf("Retain(Bad) = %v, want ErrBadID", err)
	}
}

// NewestWith passes over the checkpoints after AtMost and those Accept
// refuses (reported as skipped).
func TestNewestWith(t *testing.T) {
	ctx := t.Context()
	sv := newSaver(t)
	ids, _ := sv.autosaves(5, true)
	three := uint64(3)
	c, skipped, err := persist.NewestWith(ctx, sv.s, sv.run, persist.NewestOptions{AtMost: &three})
	if err != nil || len(skipped) != 0 || c.ID != ids[2] {
		t.Fatalf("NewestWith(AtMost 3) = %v, %v, %v; want %s", c, skipped, err, ids[2])
	}
	refuse := errors.New("refused")
	accept := func(c *persist.Checkpoint) error {
		if c.State.Step == 3 {
			return refuse
		}
		return nil
	}
	c, skipped, err = persist.NewestWith(ctx, sv.s, sv.run, persist.NewestOptions{AtMost: &three, Accept: accept})
	if err != nil || c.ID != ids[1] || len(skipped) != 1 || skipped[0].ID != ids[2] || !errors.Is(skipped[0].Err, refuse) {
		t.Fatalf("NewestWith(AtMost 3, refusing step 3) = %v, %v, %v; want %s, skipping %s", c, skipped, err, ids[1], ids[2])
	}
	zero := uint64(0)
	if _, _, err := persist.NewestWith(ctx, sv.s, sv.run, persist.NewestOptions{AtMost: &zero}); !errors.Is(err, persist.ErrNotExist) {
		t.Errorf("NewestWith(AtMost 0) = %v, want ErrNotExist", err)
	}
}
