package session

import (
	"net/url"
	"testing"

	"playground/engine"
	"playground/persist"
	"playground/spec"
	"playground/wasm/protocol"
)

// Progress carries a fine curve, and views follow the model: a grid for
// the 2-D sets, predicted digits for digits.
func TestCurveAndViews(t *testing.T) {
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(3000)})
	h.wait(0, "pause at 3000", pausedAt(3000))
	var last uint64
	for _, ev := range h.of(protocol.EvProgress) {
		c := ev.Progress.Curve
		if len(c) > protocol.CurvePoints {
			t.Fatalf("%d curve points", len(c))
		}
		for _, p := range c {
			if uint64(p[0]) <= last || p[1] <= 0 {
				t.Fatalf("curve point %v after step %d", p, last)
			}
			last = uint64(p[0])
		}
	}
	if last != 3000 {
		t.Errorf("the curve ends at %d, want 3000", last)
	}
	views := h.of(protocol.EvView)
	if len(views) == 0 {
		t.Fatal("no views")
	}
	v := views[len(views)-1].View
	if v.Kind != protocol.ViewGrid || v.W != GridSide || v.Step != 3000 || v.Hi != 1 {
		t.Errorf("last view %+v", v)
	}
	_, i := h.wait(0, "the last view", func(ev protocol.Event) bool { return ev.Type == protocol.EvView && ev.View.Step == 3000 })
	h.mu.Lock()
	data := h.files[i]
	h.mu.Unlock()
	if len(data) != GridSide*GridSide {
		t.Fatalf("grid of %d bytes", len(data))
	}
	// The circle: inside is one class, the far corner the other.
	if c, corner := data[GridSide*GridSide/2+GridSide/2], data[0]; (c > 127) == (corner > 127) {
		t.Errorf("centre %d and corner %d are the same class", c, corner)
	}
	// Training with views is training without them: the fingerprint is the
	// native one.
	st, _ := h.wait(0, "paused", pausedAt(3000))
	if want := nativeFingerprint(t, "circle-sgd", 3000); st.Status.Fingerprint != want {
		t.Errorf("fingerprint %s, want %s", st.Status.Fingerprint, want)
	}

	d := newHost(t, opts{})
	d.send(protocol.Command{Type: protocol.CmdOpen, Preset: "digits", Autostart: true, PauseAt: u64(20)})
	d.wait(0, "digits paused", pausedAt(20))
	dv, i := d.wait(0, "digits view", func(ev protocol.Event) bool { return ev.Type == protocol.EvView && ev.View.Step == 20 })
	d.mu.Lock()
	data = d.files[i]
	d.mu.Unlock()
	if dv.View.Kind != protocol.ViewDigits || len(dv.View.Labels) != digitSamples || len(data) != digitSamples*28*28 {
		t.Errorf("digits view %+v, %d bytes", dv.View, len(data))
	}
}

// Time travel recomputes any past step bit for bit, from the nearest
// checkpoint before it, while the run trains on; and before a fork's
// first checkpoint it follows the lineage into the parent run.
func TestScrub(t *testing.T) {
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Autostart: true, PauseAt: u64(3500)})
	st, _ := h.wait(0, "pause", pausedAt(3500))
	run := st.Status.Run
	scrub := func(run string, at uint64) *protocol.Scrub {
		t.Helper()
		seq := h.send(protocol.Command{Type: protocol.CmdScrub, Run: run, At: at})
		ev, _ := h.wait(0, "scrub", func(ev protocol.Event) bool { return ev.Type == protocol.EvScrub && ev.Seq == seq && ev.Scrub.Done })
		if ev.Scrub.Error != "" {
			t.Fatalf("scrub to %d: %s", at, ev.Scrub.Error)
		}
		if ev.View == nil || ev.View.Step != at {
			t.Errorf("scrub to %d: view %+v", at, ev.View)
		}
		return ev.Scrub
	}
	// Resume training; scrub while it runs.
	h.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(6000)})
	h.send(protocol.Command{Type: protocol.CmdResume})
	r := scrub("", 1234)
	if (r.From != 1000 && r.From != 0) || r.FromRun != run || r.Fingerprint != nativeFingerprint(t, "circle-sgd", 1234) || r.Loss == nil || r.TestLoss == nil {
		t.Errorf("scrub 1234: %+v", r)
	}
	// Further along: the previous scrub's trainer continues.
	r = scrub(run, 1900)
	if (r.From != 1000 && r.From != 0) || r.Fingerprint != nativeFingerprint(t, "circle-sgd", 1900) {
		t.Errorf("scrub 1900: %+v", r)
	}
	st, _ = h.wait(0, "pause at 6000", pausedAt(6000))
	if st.Status.Fingerprint != nativeFingerprint(t, "circle-sgd", 6000) {
		t.Error("scrubbing disturbed the live run")
	}

	// A fork with another learning rate from a checkpoint at step f: before
	// f the child's history is the parent's.
	objs, _ := h.store.List(t.Context(), run)
	var forkID string
	var f uint64
	for _, o := range objs {
		if s, _ := persist.StepOfID(o.ID); s >= 3000 && s <= 5000 && forkID == "" {
			forkID, f = o.ID, s
		}
	}
	if forkID == "" {
		t.Fatalf("no checkpoint between 3000 and 5000 to fork from: %v", objs)
	}
	sp, _ := spec.Preset("circle-sgd")
	sp.Optimizer.LR = 0.1
	h.send(protocol.Command{Type: protocol.CmdFork, Run: run, ID: forkID, Spec: sp.JSON()})
	fk, _ := h.wait(0, "fork", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Run != run && ev.Status.Phase == protocol.PhasePaused
	})
	child := fk.Status.Run
	r = scrub(child, f-300)
	if r.FromRun != run || r.From > f-300 || r.Fingerprint != nativeFingerprint(t, "circle-sgd", f-300) {
		t.Errorf("scrub into the parent: %+v", r)
	}
	h.send(protocol.Command{Type: protocol.CmdStep, Steps: 300})
	h.wait(0, "child paused", pausedAt(f+300))
	r = scrub(child, f+100)
	base, _ := spec.Preset("circle-sgd")
	btr, _ := engine.NewTrainer(base)
	for btr.Step < f {
		btr.TrainStep()
	}
	st2 := btr.State()
	st2.Spec = sp
	tr, err := engine.Restore(st2)
	if err != nil {
		t.Fatal(err)
	}
	for tr.Step < f+100 {
		tr.TrainStep()
	}
	if r.FromRun != child || r.From != f || r.Fingerprint != persist.Fingerprint(tr.State()) {
		t.Errorf("scrub in the child: %+v", r)
	}

	seq := h.send(protocol.Command{Type: protocol.CmdScrub, Run: "nope", At: 5})
	ev, _ := h.wait(0, "scrub error", func(ev protocol.Event) bool { return ev.Type == protocol.EvScrub && ev.Seq == seq })
	if ev.Scrub.Error == "" {
		t.Error("scrub of an unknown run did not fail")
	}
}

// A shared link's query opens its spec.
func TestOpenQuery(t *testing.T) {
	sp, _ := spec.Preset("xor-momentum")
	sp.Name, sp.Seed, sp.Optimizer.LR = "custom", 42, 0.05
	h := newHost(t, opts{})
	h.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Query: "?" + protocol.EncodeSpecQuery(sp) + "&autostart=1", Autostart: true, PauseAt: u64(700)})
	st, _ := h.wait(0, "pause", pausedAt(700))
	got, err := spec.ParseSpec(st.Status.Spec)
	if err != nil || string(got.JSON()) != string(sp.JSON()) {
		t.Fatalf("opened %s, want %s", st.Status.Spec, sp.JSON())
	}
	tr, _ := engine.NewTrainer(sp)
	for tr.Step < 700 {
		tr.TrainStep()
	}
	if st.Status.Fingerprint != persist.Fingerprint(tr.State()) {
		t.Error("fingerprint differs from the spec's native run")
	}
	bad := newHost(t, opts{})
	bad.send(protocol.Command{Type: protocol.CmdOpen, Preset: "circle-sgd", Query: "dataset=moon", PauseAt: u64(5), Autostart: true})
	bad.wait(0, "warning", isType(protocol.EvWarning))
	st, _ = bad.wait(0, "pause", pausedAt(5))
	if st.Status.Name != "circle-sgd" {
		t.Errorf("a bad link opened %s", st.Status.Name)
	}
	_ = url.Values{}
}
