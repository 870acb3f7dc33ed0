package session

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"playground/dataset"
	"playground/engine"
	"playground/persist"
	"playground/spec"
	"playground/wasm/protocol"
)

// memData is a DataStore in memory.
type memData struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (d *memData) PutData(_ context.Context, name string, b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string][]byte{}
	}
	d.m[name] = slices.Clone(b)
	return nil
}

func (d *memData) GetData(_ context.Context, name string) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.m[name]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("dataset %s: %w", name, persist.ErrNotExist)
}

func (d *memData) HasData(_ context.Context, name string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.m[name]
	return ok, nil
}

func (d *memData) names() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Sorted(maps.Keys(d.m))
}

// trainCSV uploads csv to a fresh host h and trains a new run on it to
// step pause: the dataset as the worker answered, and the paused status.
func trainCSV(t *testing.T, h *host, csv string, pause uint64) (*protocol.Dataset, protocol.Event) {
	t.Helper()
	seq := h.send(protocol.Command{Type: protocol.CmdDataset}, []byte(csv)...)
	ev, _ := h.wait(0, "dataset", func(ev protocol.Event) bool { return ev.Seq == seq })
	if ev.Dataset == nil {
		t.Fatalf("upload: %s", protocol.Encode(ev))
	}
	h.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(pause)})
	h.send(protocol.Command{Type: protocol.CmdStart, Spec: ev.Dataset.Spec})
	h.send(protocol.Command{Type: protocol.CmdResume})
	st, _ := h.wait(0, "paused", pausedAt(pause))
	return ev.Dataset, st
}

// csv4x3 is a CSV of 4 features and 3 classes.
func csv4x3(rows int) string {
	var b strings.Builder
	b.WriteString("a,b,c,d,class:3\n")
	for i := range rows {
		k := i % 3
		fmt.Fprintf(&b, "%g,%g,%g,%g,%d\n", float64(k)+float64(i%7)/10, float64(i%5)/4-float64(k), float64(i%11)/3, float64(k*k)/2+float64(i%3)/5, k)
	}
	return b.String()
}

// A CSV uploaded to the worker is stored once under its SHA-256 and
// trains, bit for bit as the engine trains on the same table natively; a
// reload resumes it from the stored data; a malformed CSV stores nothing
// and names its defect; a run whose data is missing says which.
func TestUploadedCSVTrains(t *testing.T) {
	data := &memData{}
	h := newHost(t, opts{data: data})
	for _, c := range []struct{ csv, want string }{
		{"a,b,class\n1,2,0\n1,x,1\n", "line 3, column 2"},
		{"", "empty"},
	} {
		seq := h.send(protocol.Command{Type: protocol.CmdDataset}, []byte(c.csv)...)
		ev, _ := h.wait(0, "csv error", func(ev protocol.Event) bool { return ev.Seq == seq })
		if ev.Type != protocol.EvError || !strings.Contains(ev.Message, c.want) {
			t.Errorf("%q: %s, want an error with %q", c.csv, protocol.Encode(ev), c.want)
		}
	}
	if n := data.names(); len(n) != 0 {
		t.Fatalf("malformed CSVs stored %v", n)
	}

	csv := csv4x3(90)
	seq := h.send(protocol.Command{Type: protocol.CmdDataset}, []byte(csv)...)
	ev, _ := h.wait(0, "dataset", func(ev protocol.Event) bool { return ev.Seq == seq })
	tb, err := dataset.Parse([]byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	d := ev.Dataset
	if ev.Type != protocol.EvDataset || d.SHA256 != tb.Name() || d.Rows != 90 || d.Classes != 3 || len(d.Names) != 4 {
		t.Fatalf("answer %s", protocol.Encode(ev))
	}
	if n := data.names(); !slices.Equal(n, []string{tb.Name()}) {
		t.Fatalf("stored %v", n)
	}
	sp, err := spec.ParseSpec(d.Spec)
	if err != nil {
		t.Fatal(err)
	}
	h.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(300)})
	h.send(protocol.Command{Type: protocol.CmdStart, Spec: d.Spec})
	h.send(protocol.Command{Type: protocol.CmdResume})
	st, _ := h.wait(0, "paused at 300", pausedAt(300))
	tr, err := engine.NewTrainerWith(sp, tb)
	if err != nil {
		t.Fatal(err)
	}
	for tr.Step < 300 {
		tr.TrainStep()
	}
	want := persist.Fingerprint(tr.State())
	if st.Status.Fingerprint != want {
		t.Fatalf("fingerprint %s, native %s", st.Status.Fingerprint, want)
	}
	if v := h.of(protocol.EvView); len(v) == 0 || v[len(v)-1].View.Kind != protocol.ViewNone {
		t.Errorf("4 features have no picture: %+v", v)
	}
	h.wait(0, "saved at 300", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 300 })
	h.stop()

	// A reload: a new session over the same stores.
	h2 := newHost(t, opts{store: h.store, data: data})
	h2.send(protocol.Command{Type: protocol.CmdOpen, Marks: []protocol.Mark{{Run: st.Status.Run, Step: 300}}})
	st2, _ := h2.wait(0, "resumed at 300", pausedAt(300))
	if st2.Status.Fingerprint != want || st2.Status.Run != st.Status.Run {
		t.Fatalf("resumed %+v", st2.Status)
	}
	h2.stop()

	// Without its data the run cannot resume, and says which data it needs.
	h3 := newHost(t, opts{store: h.store, data: &memData{}})
	h3.send(protocol.Command{Type: protocol.CmdOpen, Marks: []protocol.Mark{{Run: st.Status.Run, Step: 300}}})
	e, _ := h3.wait(0, "an error", isType(protocol.EvError))
	if !strings.Contains(e.Message, tb.Name()) {
		t.Errorf("missing data: %q", e.Message)
	}
	// Given the file, the held-up open goes on.
	h3.send(protocol.Command{Type: protocol.CmdDataset}, []byte(csv)...)
	st3, _ := h3.wait(0, "resumed once the data came", pausedAt(300))
	if st3.Status.Fingerprint != want {
		t.Errorf("resumed %+v", st3.Status)
	}
}

// Two-feature custom data gets the decision map: its points and grid are
// mapped into the page's square, the grid colored by class for more than
// two classes.
func TestTwoFeatureCSVMap(t *testing.T) {
	h := newHost(t, opts{data: &memData{}})
	var b strings.Builder
	b.WriteString("u,v,class\n")
	for i := range 40 {
		k := i % 3
		fmt.Fprintf(&b, "%d,%g,%d\n", 100+10*k+i%4, 0.5*float64(k)+float64(i%5)/20, k)
	}
	seq := h.send(protocol.Command{Type: protocol.CmdDataset}, []byte(b.String())...)
	ev, _ := h.wait(0, "dataset", func(ev protocol.Event) bool { return ev.Seq == seq })
	if ev.Dataset == nil || ev.Dataset.Classes != 3 {
		t.Fatalf("upload: %s", protocol.Encode(ev))
	}
	// u (100 to 123) is too wide for tanh units to learn fast; v is not.
	if !slices.Equal(ev.Dataset.Wide, []string{"u"}) {
		t.Errorf("wide features %q, want [u]", ev.Dataset.Wide)
	}
	seq = h.send(protocol.Command{Type: protocol.CmdData, Spec: ev.Dataset.Spec})
	dv, i := h.wait(0, "points", func(ev protocol.Event) bool { return ev.Seq == seq })
	h.mu.Lock()
	pts := h.files[i]
	h.mu.Unlock()
	if dv.Data == nil || dv.Data.Train+dv.Data.Test != 40 || len(pts) != 40*protocol.PointBytes {
		t.Fatalf("points: %s, %d bytes", protocol.Encode(dv), len(pts))
	}
	// The square's sides in the data's units: u from 100 to 123, v from 0
	// to 1.15, centred, the wider range with a margin, for the axes.
	if a := dv.Data.Axes; a == nil || a.X != "u" || a.Y != "v" || a.XLo >= 100 || a.XHi <= 123 || a.YLo >= 0 || a.YHi <= 1.15 ||
		math.Abs((a.XHi-a.XLo)-(a.YHi-a.YLo)) > 1e-3 || a.XHi-a.XLo > 23*1.2 {
		t.Errorf("axes %+v", dv.Data.Axes)
	}
	for j := range 40 {
		if x, y, _ := protocol.Point(pts, j); x < -spec.Domain || x > spec.Domain || y < -spec.Domain || y > spec.Domain {
			t.Fatalf("point %d at (%v, %v), outside the square", j, x, y)
		}
	}
	h.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(50)})
	h.send(protocol.Command{Type: protocol.CmdStart, Spec: ev.Dataset.Spec})
	h.send(protocol.Command{Type: protocol.CmdResume})
	h.wait(0, "paused", pausedAt(50))
	v, k := h.wait(0, "a grid view", func(ev protocol.Event) bool { return ev.Type == protocol.EvView && ev.View.Step == 50 })
	h.mu.Lock()
	grid := h.files[k]
	h.mu.Unlock()
	if v.View.Kind != protocol.ViewGrid || v.View.Classes != 3 || len(grid) != GridSide*GridSide {
		t.Fatalf("view %+v with %d bytes", v.View, len(grid))
	}
	for _, c := range grid {
		if c > 2 {
			t.Fatalf("grid cell of class %d", c)
		}
	}
	// Two features get the units' maps of the 2-D sets, from the same
	// forward pass: the inputs' (each feature over the map's square) and
	// every drawn unit's.
	_, u := h.wait(0, "the view's unit maps", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvUnits && ev.Units.Run == v.View.Run && ev.Units.Step == 50
	})
	h.mu.Lock()
	v.View.Net.Maps = h.files[u]
	h.mu.Unlock()
	for l, want := range []int{2, 8, 3} {
		for u := range want {
			if _, w, h, ok := v.View.Net.Map(l, u); !ok || w != GridSide || h != GridSide {
				t.Fatalf("unit %d:%d of a two-feature CSV: map %v, %d×%d", l, u, ok, w, h)
			}
		}
	}
	for u := range 2 {
		if vals, _, _, _ := v.View.Net.Map(0, u); slices.Max(vals) == slices.Min(vals) {
			t.Fatalf("input %d's map is flat at %v", u, vals[0])
		}
	}
}

// Only the loop's lookups note a dataset found nowhere: the syncer checks
// a pulled checkpoint with restorable, which must not hold up whatever
// command the loop is running at that moment for that dataset.
func TestOnlyTheLoopNotesMissingData(t *testing.T) {
	ctx := context.Background()
	tb, err := dataset.Parse([]byte(csv4x3(90)))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := engine.NewTrainerWith(tb.Apply(spec.Spec{}), tb)
	if err != nil {
		t.Fatal(err)
	}
	st := tr.State()
	tabs := &tables{store: &memData{}}
	if err := tabs.restorable(ctx, st); !errors.Is(err, errNoData) {
		t.Fatalf("restorable without the data: %v", err)
	}
	if name := tabs.takeMissed(); name != "" {
		t.Fatalf("the syncer's check noted %s for the loop", name)
	}
	if _, err := tabs.restore(ctx, st); !errors.Is(err, errNoData) {
		t.Fatalf("restore without the data: %v", err)
	}
	if name := tabs.takeMissed(); name != tb.Name() {
		t.Fatalf("the loop's restore noted %q, want %s", name, tb.Name())
	}
	if err := tabs.store.PutData(ctx, tb.Name(), tb.Canonical()); err != nil {
		t.Fatal(err)
	}
	if err := tabs.restorable(ctx, st); err != nil {
		t.Fatalf("restorable with the data stored: %v", err)
	}
}
