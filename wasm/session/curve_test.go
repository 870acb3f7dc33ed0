package session

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"playground/curve"
	"playground/engine"
	"playground/persist"
	"playground/persist/disk"
	"playground/spec"
	"playground/wasm/protocol"
)

// nativeHistory trains preset to step in one go, recording its history,
// and evaluates the test split there.
func nativeHistory(t *testing.T, preset string, step uint64) (curve.History, engine.Metrics) {
	t.Helper()
	s, _ := spec.Preset(preset)
	tr, err := engine.NewTrainer(s)
	if err != nil {
		t.Fatalf("%s: %v", preset, err)
	}
	var h curve.History
	for tr.Step < step {
		h.Observe(tr, tr.TrainStep())
	}
	return h, tr.Evaluate(&tr.Data.Test)
}

// pausedRun trains preset in a fresh session over a disk store (in dir)
// to step, where it pauses, and waits for its checkpoint there.
func pausedRun(t *testing.T, preset string, step uint64) (dir string, st persist.Store, h *host, run string) {
	dir = t.TempDir()
	st, _ = disk.New(dir, disk.NewOptions())
	h = newHost(t, opts{store: st})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: preset, Autostart: true, PauseAt: u64(step)})
	ev, _ := h.wait(0, "pause", pausedAt(step))
	h.wait(0, "saved", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == step })
	return dir, st, h, ev.Status.Run
}

// pageHistory is the history the page has after h's progress events.
func pageHistory(h *host) []protocol.CurvePoint {
	var pts []protocol.CurvePoint
	for _, ev := range h.of(protocol.EvProgress) {
		if ev.Progress.History {
			pts = pts[:0]
		}
		pts = append(pts, ev.Progress.Points...)
	}
	return pts
}

func protocolPoints(h curve.History) []protocol.CurvePoint {
	var out []protocol.CurvePoint
	for _, p := range h.Points {
		out = append(out, curvePoint(p))
	}
	return out
}

// The history is the run's: the page gets the points of the schedule as
// a native run computes them, the checkpoints carry it, a reload (which
// replays) gets it back whole, and a pause reports the test loss at its
// own step.
func TestHistoryFollowsTheRun(t *testing.T) {
	dir, st, a, run := pausedRun(t, "circle-sgd", 2600)
	want, m := nativeHistory(t, "circle-sgd", 2600)
	if got := pageHistory(a); !reflect.DeepEqual(got, protocolPoints(want)) || len(got) < 150 {
		t.Fatalf("the page's history (%d points) differs from the native one (%d)", len(got), len(want.Points))
	}
	ps := a.of(protocol.EvProgress)
	last := ps[len(ps)-1].Progress
	if last.Step != 2600 || last.EvalStep != 2600 || *last.TestLoss != float64(m.Loss) || *last.Accuracy != float64(m.Accuracy) {
		t.Errorf("paused at 2600, the page shows test loss %v accuracy %v of step %d; want %v %v", *last.TestLoss, *last.Accuracy, last.EvalStep, m.Loss, m.Accuracy)
	}
	files, _ := filepath.Glob(filepath.Join(dir, run, "0000000026*"))
	raw, _ := os.ReadFile(files[0])
	ck, err := persist.Decode(raw)
	if err != nil || curve.Encode(ck.Curve) != curve.Encode(want) {
		t.Fatalf("the checkpoint at 2600 carries another history: %v", err)
	}
	os.Remove(files[0]) // the reload replays from 2000

	c := newHost(t, opts{store: st})
	c.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", PauseAt: u64(4000),
		Marks: []protocol.Mark{{Run: run, Step: 2600, Running: true, Time: time.Now().UnixMilli()}}})
	c.wait(0, "pause at 4000", pausedAt(4000))
	want, _ = nativeHistory(t, "circle-sgd", 4000)
	if got := pageHistory(c); !reflect.DeepEqual(got, protocolPoints(want)) {
		t.Fatalf("after a reload the page's history (%d points) differs from the native one (%d)", len(got), len(want.Points))
	}
	c.wait(0, "saved at 4000", func(ev protocol.Event) bool { return ev.Type == protocol.EvSaved && ev.Saved.Step == 4000 })
	c.stop()

	// A paused run reopened shows its history at once.
	d := newHost(t, opts{store: st})
	d.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd"})
	d.wait(0, "paused at 4000", pausedAt(4000))
	d.wait(0, "the history", func(ev protocol.Event) bool { return ev.Type == protocol.EvProgress && ev.Progress.History })
	if got := pageHistory(d); !reflect.DeepEqual(got, protocolPoints(want)) {
		t.Fatalf("a paused run reopened shows %d points, want %d", len(got), len(want.Points))
	}
	// and a training loss, the history's newest, though no step trained.
	ps = d.of(protocol.EvProgress)
	newest := want.Points[len(want.Points)-1].Train
	if l := ps[len(ps)-1].Progress.Loss; l == nil || *l != float64(newest) {
		t.Errorf("reopened, the page shows training loss %v, want the history's newest %v", l, newest)
	}
}
