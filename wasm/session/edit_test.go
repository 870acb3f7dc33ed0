package session

import (
	"encoding/json"
	"strings"
	"testing"

	"playground/engine"
	"playground/persist"
	"playground/spec"
	"playground/wasm/protocol"
)

// Editing a weight of the paused run forks it: the new run's first
// checkpoint holds the edited value, names its parent and the edit, and
// training it on is what the native trainer computes from that file.
func TestEditForks(t *testing.T) {
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Spec: json.RawMessage(neuron), Autostart: true, PauseAt: u64(200)})
	st, _ := h.wait(0, "paused at 200", pausedAt(200))
	parent := st.Status.Run
	h.wait(0, "saved at 200", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 200 })
	head, _, err := persist.Newest(t.Context(), h.store, parent)
	if err != nil {
		t.Fatal(err)
	}

	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdEdit, Edit: &protocol.Edit{Layer: 1, Unit: 2, From: 1, Value: 0.75}})
	ev, _ := h.wait(n, "forked", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Run != parent && ev.Status.Phase == protocol.PhasePaused
	})
	child := ev.Status.Run
	h.wait(n, "fork saved", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Run == child })
	first, _, err := persist.Newest(t.Context(), h.store, child)
	if err != nil {
		t.Fatal(err)
	}
	if first.ParentRun != parent || first.Parent != head.ID || first.State.Step != 200 {
		t.Errorf("fork's first checkpoint: parent %s/%s at step %d, want %s/%s at 200", first.ParentRun, first.Parent, first.State.Step, parent, head.ID)
	}
	if w := first.State.Tensors[0].F32; w[2*2+1] != 0.75 || first.State.Tensors[0].Name != "layers.0.weight" {
		t.Errorf("edited weight %v", w[5])
	}
	if !strings.HasPrefix(first.Edit, "layers.0.weight[2,1] = 0.75 (was ") {
		t.Errorf("edit recorded as %q", first.Edit)
	}
	if head.Edit != "" {
		t.Errorf("the parent's checkpoint has an edit %q", head.Edit)
	}
	// The view follows the edit.
	v, _ := h.wait(n, "the fork's view", func(ev protocol.Event) bool { return ev.Type == protocol.EvView && ev.View.Run == child })
	if got := v.View.Net.Layers[1].Weights[2*2+1]; got != 0.75 || v.View.Net.Maps != nil {
		t.Errorf("the fork's view shows weight %v (maps in the view: %v)", got, v.View.Net.Maps != nil)
	}
	// Its unit maps follow, binary.
	u, i := h.wait(n, "the fork's unit maps", func(ev protocol.Event) bool { return ev.Type == protocol.EvUnits && ev.Units.Run == child })
	h.mu.Lock()
	maps := h.files[i]
	h.mu.Unlock()
	if u.Units.Step != 200 || len(maps) != v.View.Net.MapBytes() || len(maps) != 4*7*GridSide*GridSide {
		t.Errorf("units %+v with %d bytes, the view needs %d", u.Units, len(maps), v.View.Net.MapBytes())
	}

	n = h.count()
	h.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(500)})
	h.send(protocol.Command{Type: protocol.CmdResume})
	ev, _ = h.wait(n, "fork paused at 500", pausedAt(500))
	tr, err := engine.Restore(first.State)
	if err != nil {
		t.Fatal(err)
	}
	for tr.Step < 500 {
		tr.TrainStep()
	}
	if want := persist.Fingerprint(tr.State()); ev.Status.Fingerprint != want || ev.Status.Run != child {
		t.Errorf("fork at 500: %s %s, native %s", ev.Status.Run, ev.Status.Fingerprint, want)
	}

	// Refused while running, and out of range.
	for _, e := range []protocol.Edit{{Layer: 3, Unit: 0, From: 0}, {Layer: 1, Unit: 4, From: 0}, {Layer: 2, Unit: 0, From: 4}, {Layer: 1, Unit: 0, From: 2}} {
		n = h.count()
		h.send(protocol.Command{Type: protocol.CmdEdit, Edit: &e})
		h.wait(n, "refused", isType(protocol.EvError))
	}
	n = h.count()
	h.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(0)})
	h.send(protocol.Command{Type: protocol.CmdResume})
	h.wait(n, "running", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Phase == protocol.PhaseRunning
	})
	h.send(protocol.Command{Type: protocol.CmdEdit, Edit: &protocol.Edit{Layer: 1, Unit: 0, From: -1, Value: 1}})
	ev, _ = h.wait(n, "refused while running", isType(protocol.EvError))
	if !strings.Contains(ev.Message, "pause first") {
		t.Errorf("error %q", ev.Message)
	}
}

// A run on custom data forks by an edit and by other settings as any run
// does: the fork trains on the same dataset.
func TestEditAndContinueCSV(t *testing.T) {
	h := newHost(t, opts{data: &memData{}})
	ds, st := trainCSV(t, h, csv4x3(60), 50)
	parent := st.Status.Run

	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdEdit, Edit: &protocol.Edit{Layer: 1, Unit: 0, From: 1, Value: 0.5}})
	ev, _ := h.wait(n, "edited fork", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvError || ev.Type == protocol.EvStatus && ev.Status.Run != parent && ev.Status.Phase == protocol.PhasePaused
	})
	if ev.Type == protocol.EvError {
		t.Fatalf("edit: %s", ev.Message)
	}
	edited := ev.Status.Run

	sp, err := spec.ParseSpec(ds.Spec)
	if err != nil {
		t.Fatal(err)
	}
	sp.Optimizer.LR *= 2
	n = h.count()
	h.send(protocol.Command{Type: protocol.CmdContinue, Spec: json.RawMessage(sp.JSON())})
	ev, _ = h.wait(n, "continued fork", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvError || ev.Type == protocol.EvStatus && ev.Status.Run != edited && ev.Status.Phase == protocol.PhasePaused
	})
	if ev.Type == protocol.EvError {
		t.Fatalf("continue: %s", ev.Message)
	}
	if ev.Status.Step != 50 {
		t.Errorf("continued at step %d, want 50", ev.Status.Step)
	}
}
