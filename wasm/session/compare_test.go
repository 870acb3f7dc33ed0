package session

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"playground/engine"
	"playground/persist"
	"playground/persist/disk"
	"playground/spec"
	"playground/spec/spectest"
	"playground/wasm/protocol"
)

// memMemo is Env.Memo in memory, shared by the sessions of one test as
// the worker's IndexedDB record is by the page's reloads.
type memMemo struct {
	mu sync.Mutex
	b  []byte
}

func (m *memMemo) Load(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.b), nil
}

func (m *memMemo) Save(_ context.Context, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.b = slices.Clone(b)
	return nil
}

// comparePlan is a plan of children of base, one per learning rate.
func comparePlan(t *testing.T, base protocol.Checkpoint, steps uint64, lrs ...float64) *protocol.Compare {
	t.Helper()
	spec := spectest.Preset(t, "circle-sgd")
	p := &protocol.Compare{Base: base, Param: "lr", Steps: steps}
	for _, lr := range lrs {
		s := spec
		s.Optimizer.LR = lr
		s.Name = fmt.Sprintf("circle-sgd lr=%g", lr)
		p.Children = append(p.Children, protocol.CompareChild{Value: fmt.Sprint(lr), Spec: json.RawMessage(s.JSON())})
	}
	return p
}

// childFingerprint is the state of child k of p trained in one go.
func childFingerprint(t *testing.T, st persist.Store, p *protocol.Compare, k protocol.CompareChild) string {
	t.Helper()
	b, err := persist.ReadAll(t.Context(), st, p.Base.Run, p.Base.ID)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := persist.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	state := ck.State
	if state.Spec, err = spec.ParseSpec(k.Spec); err != nil {
		t.Fatal(err)
	}
	tr, err := engine.Restore(state)
	if err != nil {
		t.Fatal(err)
	}
	for tr.Step < p.Base.Step+p.Steps {
		tr.TrainStep()
	}
	return persist.Fingerprint(tr.State())
}

func compareDone(ev protocol.Event) bool { return ev.Type == protocol.EvCompare && ev.Compare.Done }

// checkCompared checks a finished comparison: every child trained from
// the base to its target, pausing there (in the session of hosts[i], the
// last one for the rest) with the state of an uninterrupted run.
func checkCompared(t *testing.T, p *protocol.Compare, hosts ...*host) {
	t.Helper()
	if p.Error != "" || len(p.Children) != 3 {
		t.Fatalf("comparison %+v", p)
	}
	runs := map[string]bool{}
	for i, k := range p.Children {
		h := hosts[min(i, len(hosts)-1)]
		runs[k.Run] = true
		if !k.Done || k.From != p.Base.Step || k.Target != p.Base.Step+p.Steps {
			t.Errorf("child %+v", k)
		}
		ev, _ := h.wait(0, "child paused", func(ev protocol.Event) bool {
			return ev.Type == protocol.EvStatus && ev.Status.Run == k.Run && ev.Status.Phase == protocol.PhasePaused && ev.Status.Step == k.Target
		})
		if want := childFingerprint(t, h.store, p, k); ev.Status.Fingerprint != want {
			t.Errorf("child %s: fingerprint %s, want %s", k.Value, ev.Status.Fingerprint, want)
		}
		h.wait(0, "child saved at its target", func(ev protocol.Event) bool {
			return ev.Type == protocol.EvSaved && ev.Saved.Run == k.Run && ev.Saved.Step == k.Target
		})
		if steps := storedSteps(t, h.store, k.Run); steps[0] != p.Base.Step || steps[len(steps)-1] != k.Target {
			t.Errorf("child %s: checkpoints at %v", k.Value, steps)
		}
	}
	if len(runs) != 3 {
		t.Errorf("children's runs %v", runs)
	}
}

// openBase trains circle-sgd to step 600 and returns that checkpoint.
func openBase(h *host) protocol.Checkpoint {
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(600)})
	ev, _ := h.wait(0, "saved at 600", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 600 })
	return ev.Saved.Checkpoint
}

func TestCompare(t *testing.T) {
	h := newHost(t, opts{})
	base := openBase(h)
	seq := h.send(protocol.Command{Type: protocol.CmdCompare, Compare: comparePlan(t, base, 300, 0.01, 0.03, 0.1)})
	ev, _ := h.wait(0, "comparison done", compareDone)
	if ev.Seq != seq {
		t.Errorf("answered seq %d, want %d", ev.Seq, seq)
	}
	checkCompared(t, ev.Compare, h)
	h.send(protocol.Command{Type: protocol.CmdCompare, Compare: &protocol.Compare{Base: base, Steps: 1}})
	h.wait(0, "an empty plan refused", func(ev protocol.Event) bool { return ev.Type == protocol.EvError })
}

// A reload in the middle of a comparison (a new session over the same
// store and memo, opening the child it was on) finishes it; so does one
// before the child's first checkpoint reached the store.
func TestCompareAfterReload(t *testing.T) {
	for _, lost := range []bool{false, true} {
		t.Run(fmt.Sprintf("child's checkpoints lost %v", lost), func(t *testing.T) {
			st, _ := disk.New(t.TempDir(), disk.NewOptions())
			memo := &memMemo{}
			a := newHost(t, opts{store: st, memo: memo})
			base := openBase(a)
			a.send(protocol.Command{Type: protocol.CmdCompare, Compare: comparePlan(t, base, 30_000, 0.01, 0.03, 0.1)})
			ev, _ := a.wait(0, "second child forked", func(ev protocol.Event) bool {
				return ev.Type == protocol.EvCompare && ev.Compare.Children[1].Run != ""
			})
			child, first := ev.Compare.Children[1].Run, ev.Compare.Children[0]
			a.wait(0, "first child saved at its target", func(ev protocol.Event) bool {
				return ev.Type == protocol.EvSaved && ev.Saved.Run == first.Run && ev.Saved.Step == first.Target
			})
			a.wait(0, "second child training", func(ev protocol.Event) bool {
				return ev.Type == protocol.EvProgress && ev.Progress.Run == child && ev.Progress.Step > base.Step
			})
			a.stop()
			if cs := a.of(protocol.EvCompare); compareDone(cs[len(cs)-1]) {
				t.Fatal("the comparison finished before the reload")
			}
			if lost {
				objs, _ := st.List(t.Context(), child)
				for _, o := range objs {
					if err := st.Delete(t.Context(), child, o.ID); err != nil {
						t.Fatal(err)
					}
				}
			}

			b := newHost(t, opts{store: st, memo: memo})
			b.send(protocol.Command{Type: protocol.CmdOpen, Run: child})
			done, _ := b.wait(0, "comparison done after the reload", compareDone)
			if done.Compare.Children[0].Run != ev.Compare.Children[0].Run || done.Compare.Children[1].Run != child {
				t.Errorf("children before %+v, after %+v", ev.Compare.Children, done.Compare.Children)
			}
			checkCompared(t, done.Compare, a, b)
			if errs := b.of(protocol.EvError); len(errs) != 0 {
				t.Errorf("errors after the reload: %v", errs)
			}
			if b, _ := memo.Load(t.Context()); len(b) != 0 {
				t.Errorf("plan still kept after the comparison: %s", b)
			}
		})
	}
}

// A finished comparison leaves the session on the run it started from,
// paused where it was.
func TestCompareReturnsToBase(t *testing.T) {
	h := newHost(t, opts{})
	base := openBase(h)
	h.send(protocol.Command{Type: protocol.CmdCompare, Compare: comparePlan(t, base, 100, 0.01, 0.1)})
	_, i := h.wait(0, "comparison done", compareDone)
	ev, _ := h.wait(i, "back on the base run", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Run == base.Run && ev.Status.Phase == protocol.PhasePaused
	})
	if ev.Status.Step != base.Step || !ev.Status.Owner {
		t.Fatalf("back on %s at step %d (owner %v), want step %d", ev.Status.Run, ev.Status.Step, ev.Status.Owner, base.Step)
	}
	if want := nativeFingerprint(t, "circle-sgd", base.Step); ev.Status.Fingerprint != want {
		t.Fatalf("fingerprint %s, want %s", ev.Status.Fingerprint, want)
	}
}
