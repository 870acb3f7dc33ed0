package session

import (
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"playground/engine"
	"playground/engine/enginetest"
	"playground/persist"
	"playground/spec"
	"playground/wasm/protocol"
)

func intp(v int) *int { return &v }

// trainPreset trains preset name for steps from a fresh start and
// returns the trainer.
func trainPreset(t *testing.T, name string, steps uint64) *engine.Trainer {
	t.Helper()
	return enginetest.PresetTrained(t, name, int(steps))
}

// The pace lets rate steps a second through, a frame's worth at most
// after a stall, and full speed lets everything through.
func TestPacer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var p pacer
	p.restart(60, t0)
	if n, _ := p.take(100, t0); n != 1 {
		t.Fatalf("first take %d, want 1 (the first step goes at once)", n)
	}
	if n, wait := p.take(100, t0.Add(time.Millisecond)); n != 0 || wait <= 0 || wait > time.Second/60 {
		t.Fatalf("take right after: %d steps, wait %v", n, wait)
	}
	total := uint64(0)
	for i := 1; i <= 60; i++ {
		n, _ := p.take(100, t0.Add(time.Duration(i)*time.Second/60))
		total += n
	}
	if total < 59 || total > 61 {
		t.Fatalf("one second at 60 steps/s trained %d steps", total)
	}
	if n, _ := p.take(100, t0.Add(time.Hour)); n != 1 {
		t.Fatalf("after a stall: %d steps, want one frame's worth (1)", n)
	}
	p.restart(6000, t0)
	if n, _ := p.take(1000, t0.Add(time.Second)); n != 100 {
		t.Fatalf("6000 steps/s: a slice trains %d, want 100 (one frame's worth)", n)
	}
	p.restart(protocol.PaceFull, t0)
	if n, wait := p.take(12345, t0); n != 12345 || wait != 0 {
		t.Fatalf("full speed: %d, %v", n, wait)
	}
	def := pacer{set: protocol.PaceDefault}
	if got := def.effective("circle", true); got != protocol.PaceWatch {
		t.Errorf("default pace of circle %d", got)
	}
	if got := def.effective("digits", true); got != protocol.PaceFull {
		t.Errorf("default pace of digits %d", got)
	}
	if got := def.effective("circle", false); got != protocol.PaceFull {
		t.Errorf("default pace without WatchPace %d", got)
	}
}

// A paced slice stands for the wall time since the previous one (at most
// a second), so a run at a pace autosaves by the clock; at full speed a
// slice is its own training time.
func TestPacerSpan(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var p pacer
	p.restart(60, t0)
	for _, c := range []struct {
		d, after, want time.Duration
	}{
		{time.Microsecond, time.Second / 60, time.Second / 60},
		{time.Microsecond, time.Minute, time.Second},
		{50 * time.Millisecond, time.Millisecond, 50 * time.Millisecond},
	} {
		t0 = t0.Add(c.after)
		if got := p.span(c.d, t0); got != c.want {
			t.Errorf("slice of %v, %v after the last: %v, want %v", c.d, c.after, got, c.want)
		}
	}
	p.restart(protocol.PaceFull, t0)
	if got := p.span(time.Microsecond, t0.Add(time.Minute)); got != time.Microsecond {
		t.Errorf("full speed: %v", got)
	}
	// At 2 steps a second the half-second wait between steps is training,
	// not a stop: each slice stands for it.
	p.restart(2, t0)
	for range 3 {
		t0 = t0.Add(time.Second / 2)
		if p.stopped(t0) {
			t.Fatal("a slow pace's wait between steps counts as a stop")
		}
		if n, _ := p.take(1, t0); n != 1 {
			t.Fatalf("at 2 steps/s, half a second later: %d steps", n)
		}
		if got := p.span(time.Microsecond, t0); got != time.Second/2 {
			t.Errorf("at 2 steps/s a slice stands for %v, want 0.5 s", got)
		}
	}
	if !p.stopped(t0.Add(2 * time.Second)) {
		t.Error("two seconds without a step at 2 steps/s is no stop")
	}
}

// A paced run pauses at the same step with the same bits as one at full
// speed: pacing only decides how many steps a slice trains.
func TestPaceKeepsBits(t *testing.T) {
	h := newHost(t, opts{opt: Options{WatchPace: true}})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(40), Pace: intp(400)})
	ev, _ := h.wait(0, "pause at 40", pausedAt(40))
	if ev.Status.Pace != 400 || ev.Status.PaceNow != 400 {
		t.Errorf("status pace %d, in force %d; want 400", ev.Status.Pace, ev.Status.PaceNow)
	}
	if want := nativeFingerprint(t, "circle-sgd", 40); ev.Status.Fingerprint != want {
		t.Fatalf("paced fingerprint %s, want %s", ev.Status.Fingerprint, want)
	}
	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdSettings, Pace: intp(protocol.PaceDefault)})
	ev, _ = h.wait(n, "status", isType(protocol.EvStatus))
	if ev.Status.Pace != protocol.PaceDefault || ev.Status.PaceNow != protocol.PaceWatch {
		t.Errorf("default pace: set %d, in force %d", ev.Status.Pace, ev.Status.PaceNow)
	}
}

// regressionLR is the regression preset with learning rate lr.
func regressionLR(t *testing.T, lr float64) spec.Spec {
	t.Helper()
	s, err := spec.Preset("regression-adamw")
	if err != nil {
		t.Fatal(err)
	}
	s.Optimizer = spec.OptimizerSpec{Kind: "sgd", LR: lr}
	s.Name = "custom"
	if s, err = s.Normalize(); err != nil {
		t.Fatal(err)
	}
	return s
}

// A loss that turns NaN or infinite pauses the run at that very step and
// says so, suggesting a lower learning rate.
func TestDivergencePauses(t *testing.T) {
	s := regressionLR(t, 10)
	tr, _ := engine.NewTrainer(s)
	var want uint64
	for want == 0 && tr.Step < 100000 {
		if l := float64(tr.TrainStep()); math.IsNaN(l) || math.IsInf(l, 0) {
			want = tr.Step
		}
	}
	if want == 0 {
		t.Fatal("lr 10 did not diverge natively")
	}
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Spec: json.RawMessage(s.JSON()), Autostart: true})
	ev, _ := h.wait(0, "paused after diverging", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Phase == protocol.PhasePaused && ev.Status.Diverged != 0
	})
	if ev.Status.Step != want || ev.Status.Diverged != want {
		t.Fatalf("paused at step %d (diverged %d), want the diverging step %d", ev.Status.Step, ev.Status.Diverged, want)
	}
	w := h.of(protocol.EvWarning)
	if len(w) != 1 || !strings.Contains(w[0].Message, "diverged at step") || !strings.Contains(w[0].Message, "learning rate (10) is too high") {
		t.Fatalf("warnings %v", w)
	}
	// Reset with a lower rate trains again, and the divergence is gone.
	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdReset, Spec: json.RawMessage(regressionLR(t, 0.01).JSON())})
	ev, _ = h.wait(n, "reset", func(ev protocol.Event) bool { return ev.Type == protocol.EvStatus && ev.Status.Step == 0 })
	if ev.Status.Diverged != 0 || !strings.Contains(string(ev.Status.Spec), `"lr":0.01`) {
		t.Fatalf("after reset: diverged %d, spec %s", ev.Status.Diverged, ev.Status.Spec)
	}
}

// Continue forks the paused state with new settings at the same step: the
// new run's first checkpoint names the old run's checkpoint at that step,
// and its bits are the old spec's to that step, then the new one's.
func TestContinueForksAtStep(t *testing.T) {
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(300)})
	ev, _ := h.wait(0, "pause at 300", pausedAt(300))
	old := ev.Status.Run
	sp, _ := spec.Preset("circle-sgd")
	sp.Optimizer.LR = 0.1
	sp.Name = "custom"
	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(500)})
	h.send(protocol.Command{Type: protocol.CmdContinue, Spec: json.RawMessage(sp.JSON()), Autostart: true})
	ev, _ = h.wait(n, "pause at 500", pausedAt(500))
	if ev.Status.Run == old {
		t.Fatal("continue trained on in the same run")
	}
	saved, _ := h.wait(n, "the fork's first checkpoint", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvSaved && ev.Saved.Run != old && ev.Saved.Step == 300
	})
	if saved.Saved.ParentRun != old || !strings.HasPrefix(saved.Saved.Parent, "000000000300-") {
		t.Fatalf("fork's lineage: parent %s/%s", saved.Saved.ParentRun, saved.Saved.Parent)
	}
	tr := trainPreset(t, "circle-sgd", 300)
	st := tr.State()
	st.Spec, _ = sp.Normalize()
	tr, err := engine.Restore(st)
	if err != nil {
		t.Fatal(err)
	}
	for tr.Step < 500 {
		tr.TrainStep()
	}
	if want := persist.Fingerprint(tr.State()); ev.Status.Fingerprint != want {
		t.Fatalf("fingerprint %s, want %s", ev.Status.Fingerprint, want)
	}
	// A shape change cannot continue: refused, saying so.
	sp.Model.Layers = append([]spec.LayerSpec{{Units: 3, Activation: "tanh"}}, sp.Model.Layers...)
	n = h.count()
	h.send(protocol.Command{Type: protocol.CmdContinue, Spec: json.RawMessage(sp.JSON())})
	e, _ := h.wait(n, "refused", isType(protocol.EvError))
	if !strings.Contains(e.Message, "cannot continue step 500 (start a new run)") {
		t.Fatalf("error %q", e.Message)
	}
}

// Step with Epoch trains to the end of the current epoch.
func TestStepOneEpoch(t *testing.T) {
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(30)})
	h.wait(0, "pause at 30", pausedAt(30))
	bpe := uint64(trainPreset(t, "circle-sgd", 0).BatchesPerEpoch())
	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdStep, Epoch: true})
	ev, _ := h.wait(n, "paused at the epoch's end", pausedAt(bpe))
	if ev.Status.Epoch != 1 {
		t.Fatalf("epoch %d at step %d", ev.Status.Epoch, ev.Status.Step)
	}
	n = h.count()
	h.send(protocol.Command{Type: protocol.CmdStep, Epoch: true})
	if ev, _ = h.wait(n, "a whole epoch", pausedAt(2*bpe)); ev.Status.Epoch != 2 {
		t.Fatalf("epoch %d", ev.Status.Epoch)
	}
}

// A run that diverges within its first steps (its weights are then NaN
// or infinite) still reports its view and pauses at the diverging step:
// the network's weights travel as null where they are not finite.
func TestDivergeEarlyReportsView(t *testing.T) {
	q, err := url.ParseQuery("dataset=plane&samples=200&noise=0&test=0.5&features=x,y&layers=8:relu,1:linear&loss=mse&optimizer=sgd&lr=5&seed=1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := protocol.SpecFromQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Spec: json.RawMessage(s.JSON()), Autostart: true, PauseAt: u64(300)})
	ev, _ := h.wait(0, "paused after diverging", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Phase == protocol.PhasePaused
	})
	if ev.Status.Diverged == 0 || ev.Status.Step != ev.Status.Diverged || ev.Status.Step >= 300 {
		t.Fatalf("paused at step %d, diverged %d", ev.Status.Step, ev.Status.Diverged)
	}
	var nan bool
	for _, v := range h.of(protocol.EvView) {
		for _, l := range v.View.Net.Layers {
			for _, w := range l.Weights {
				nan = nan || math.IsNaN(float64(w))
			}
		}
	}
	if !nan {
		t.Fatal("no view with a weight that is not finite (as null, read back as NaN)")
	}
}
