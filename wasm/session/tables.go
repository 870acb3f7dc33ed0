package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"playground/dataset"
	"playground/engine"
	"playground/persist"
	"playground/persist/remote"
	"playground/spec"
	"playground/wasm/protocol"
)

// Custom data: a CSV the page uploads is parsed, stored once under its
// SHA-256 (Env.Data) and named by the spec of the runs that train on it;
// checkpoints never hold it, so every trainer the session makes from a
// spec or a state gets its table from here.

// errNoData marks a run whose dataset is not in the store.
var errNoData = errors.New("dataset missing")

// tables are the datasets the session has read, by name. The loop, time
// travel and the syncer share them: a mutex guards the map.
type tables struct {
	store  persist.DataStore
	server string // the server asked for a dataset the store lacks ("" for none)
	token  string // its token
	mu     sync.Mutex
	m      map[string]*dataset.Table
	missed string // the last dataset found nowhere
}

// of returns the table spec s trains on: nil for a generated dataset. A
// dataset found nowhere is noted for the loop (takeMissed): of is the
// loop's; the syncer asks lookup.
func (t *tables) of(ctx context.Context, s spec.Spec) (*dataset.Table, error) {
	tb, err := t.lookup(ctx, s)
	if errors.Is(err, errNoData) {
		t.mu.Lock()
		t.missed = s.Dataset.SHA256
		t.mu.Unlock()
	}
	return tb, err
}

// lookup is of without the note: the table from memory, the store or the
// server.
func (t *tables) lookup(ctx context.Context, s spec.Spec) (*dataset.Table, error) {
	if s.Dataset.Kind != spec.CustomKind {
		return nil, nil
	}
	name := s.Dataset.SHA256
	t.mu.Lock()
	defer t.mu.Unlock()
	if tb := t.m[name]; tb != nil {
		return tb, nil
	}
	if t.store == nil {
		return nil, fmt.Errorf("the run trains on dataset %s and this session keeps no datasets", name)
	}
	tb, err := persist.LoadData(ctx, t.store, s)
	if err == nil {
		t.add(tb)
		return tb, nil
	}
	if !errors.Is(err, persist.ErrMissingData) {
		return nil, err
	}
	tb, ferr := t.fetch(ctx, s)
	if ferr != nil {
		return nil, fmt.Errorf("%w: the run trains on dataset %s, which is not here (%s): %v; %v", errNoData, name, protocol.MissingData, err, ferr)
	}
	return tb, nil
}

// fetch downloads s's dataset from the server (GET /api/datasets/{sha256},
// checked against its name and the spec's shape) and stores it.
func (t *tables) fetch(ctx context.Context, s spec.Spec) (*dataset.Table, error) {
	if t.server == "" {
		return nil, errors.New("no server to ask")
	}
	rs, err := remote.New(t.server, remote.Options{Token: t.token})
	if err != nil {
		return nil, err
	}
	tb, err := persist.LoadData(ctx, rs, s)
	if err != nil {
		return nil, fmt.Errorf("the server: %v", err)
	}
	if err := t.store.PutData(ctx, tb.Name(), tb.Canonical()); err != nil {
		return nil, fmt.Errorf("storing the server's copy: %v", err)
	}
	t.add(tb)
	return tb, nil
}

// setToken is the server's token, as the page set it.
func (t *tables) setToken(token string) {
	t.mu.Lock()
	t.token = token
	t.mu.Unlock()
}

// takeMissed returns (and forgets) the dataset last found nowhere.
func (t *tables) takeMissed() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	name := t.missed
	t.missed = ""
	return name
}

// add keeps tb (t.mu held).
func (t *tables) add(tb *dataset.Table) {
	if t.m == nil {
		t.m = map[string]*dataset.Table{}
	}
	t.m[tb.Name()] = tb
}

// trainer is engine.NewTrainer with the spec's table.
func (t *tables) trainer(ctx context.Context, s spec.Spec) (*engine.Trainer, error) {
	tb, err := t.of(ctx, s)
	if err != nil {
		return nil, err
	}
	return engine.NewTrainerWith(s, tb)
}

// restore is engine.Restore with the state's table.
func (t *tables) restore(ctx context.Context, st engine.State) (*engine.Trainer, error) {
	tb, err := t.of(ctx, st.Spec)
	if err != nil {
		return nil, err
	}
	return engine.RestoreWith(st, tb)
}

// restorable says whether st restores here (its table at hand), noting
// nothing for the loop: the syncer's check of a pulled checkpoint.
func (t *tables) restorable(ctx context.Context, st engine.State) error {
	tb, err := t.lookup(ctx, st.Spec)
	if err == nil {
		_, err = engine.RestoreWith(st, tb)
	}
	return err
}

// cmdDataset parses the page's CSV, stores it (only when it has no
// defect) and answers with the page's draft applied to it.
func (l *loop) cmdDataset(ctx context.Context, c protocol.Command, data []byte) {
	tb, err := dataset.Read(bytes.NewReader(data))
	if err != nil {
		l.fail(c.Seq, "CSV: %v", err)
		return
	}
	var draft spec.Spec
	if len(c.Spec) > 0 {
		if draft, err = spec.ParseSpec(c.Spec); err != nil {
			draft = spec.Spec{}
		}
	}
	s := tb.Apply(draft)
	s.Name = "csv-" + tb.Name()[:8]
	if s, err = s.Normalize(); err != nil {
		l.fail(c.Seq, "CSV: the settings cannot train on it: %v", err)
		return
	}
	if l.data.tables.store == nil {
		l.fail(c.Seq, "CSV: this session keeps no datasets")
		return
	}
	if err := l.data.tables.store.PutData(ctx, tb.Name(), tb.Canonical()); err != nil {
		l.fail(c.Seq, "CSV: storing dataset %s: %v", tb.Name(), err)
		return
	}
	l.data.tables.mu.Lock()
	l.data.tables.add(tb)
	l.data.tables.mu.Unlock()
	defer l.retryData(tb.Name())
	l.emit(protocol.Event{Type: protocol.EvDataset, Seq: c.Seq, Dataset: &protocol.Dataset{
		SHA256: tb.Name(), Rows: tb.Rows(), Names: tb.Names, Classes: tb.Classes, Test: tb.TestRows(),
		Split: tb.Test != nil, Bytes: len(tb.Canonical()), Spec: s.JSON(), Wide: wide(tb),
	}})
}

// wide names the features of tb with values beyond ±protocol.WideFeature.
func wide(tb *dataset.Table) []string {
	var out []string
	n := tb.Inputs()
	for j, name := range tb.Names {
		for i := j; i < len(tb.X); i += n {
			if math.Abs(float64(tb.X[i])) > protocol.WideFeature {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// waitData is a command that failed for want of dataset name: storing
// that dataset (CmdDataset, the page asked for the file) runs it again.
type waitData struct {
	name string
	cmd  protocol.Command
}

// dataCommands are the commands that open a run, which a missing dataset
// holds up.
var dataCommands = []string{protocol.CmdOpen, protocol.CmdStart, protocol.CmdTakeover, protocol.CmdRestore, protocol.CmdFork}

// noteMissed remembers command c when it failed for want of a dataset.
func (l *loop) noteMissed(c protocol.Command) {
	if name := l.data.tables.takeMissed(); name != "" && slices.Contains(dataCommands, c.Type) {
		l.data.waiting = &waitData{name: name, cmd: c}
	}
}

// retryData queues the command held up by dataset name again.
func (l *loop) retryData(name string) {
	w := l.data.waiting
	if w == nil || w.name != name {
		return
	}
	l.data.waiting = nil
	l.inbox.Push(Input{Cmd: w.cmd})
}
