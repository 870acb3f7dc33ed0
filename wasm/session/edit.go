package session

import (
	"context"
	"fmt"
	"strconv"

	"playground/engine"
	"playground/persist"
	"playground/wasm/protocol"
)

// cmdEdit sets one weight or bias of the paused active run as a fork: a
// new run whose first checkpoint is the edited state, its parent the
// checkpoint of the state edited, the edit in its metadata. Training,
// resume and time travel then continue it like any fork.
func (l *loop) cmdEdit(ctx context.Context, c protocol.Command, _ []byte) {
	if !l.ownsRun(c.Seq, "edit") {
		return
	}
	if l.running || l.phase != protocol.PhasePaused {
		l.fail(c.Seq, "edit: pause first (an edit forks the paused state)")
		return
	}
	st, what, err := editState(l.rn.tr, *c.Edit)
	if err != nil {
		l.fail(c.Seq, "edit: %v", err)
		return
	}
	if err := l.forkHere(ctx, c.Seq, st, what, false); err != nil {
		l.fail(c.Seq, "edit: %v", err)
	}
}

// forkHere makes the active run's state st (edited, or under other
// settings) a new run forked at the current step, with the active run's
// data: the state is checkpointed first when no checkpoint holds it yet,
// so the new run's lineage names it.
func (l *loop) forkHere(ctx context.Context, seq int64, st engine.State, edit string, running bool) error {
	tr, err := l.data.tables.restore(ctx, st)
	if err != nil {
		return err
	}
	if l.unsaved() {
		l.snapshot(seq, persist.KindAutosave, true, afterSave{})
	}
	l.becomeNew(ctx, seq, tr, persist.NewRunID(tr.Spec.Name), l.run, l.here(), edit, running)
	return nil
}

// editState returns tr's state with e applied, and the edit as the new
// checkpoint's metadata records it.
func editState(tr *engine.Trainer, e protocol.Edit) (engine.State, string, error) {
	m := tr.Model
	if e.Layer < 1 || e.Layer > len(m.Layers) {
		return engine.State{}, "", fmt.Errorf("layer %d does not exist (1 to %d)", e.Layer, len(m.Layers))
	}
	ml := m.Layers[e.Layer-1]
	if e.Unit < 0 || e.Unit >= ml.Out || e.From < -1 || e.From >= ml.In {
		return engine.State{}, "", fmt.Errorf("layer %d has units 0 to %d with inputs 0 to %d: no unit %d from %d", e.Layer, ml.Out-1, ml.In-1, e.Unit, e.From)
	}
	if e.Value != e.Value || e.Value > 3.4e38 || e.Value < -3.4e38 {
		return engine.State{}, "", fmt.Errorf("value %v is not a finite number", e.Value)
	}
	name, i, at := ml.B.Name, e.Unit, fmt.Sprint(e.Unit)
	if e.From >= 0 {
		name, i, at = ml.W.Name, e.Unit*ml.In+e.From, fmt.Sprintf("%d,%d", e.Unit, e.From)
	}
	st := tr.State() // a copy
	for _, t := range st.Tensors {
		if t.Name == name {
			old := t.F32[i]
			t.F32[i] = e.Value
			return st, fmt.Sprintf("%s[%s] = %s (was %s)", name, at, f32(e.Value), f32(old)), nil
		}
	}
	return engine.State{}, "", fmt.Errorf("no tensor %s", name)
}

func f32(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
