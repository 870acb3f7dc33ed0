package curve

import (
	"math"
	"math/bits"
	"slices"
	"testing"

	"playground/engine"
	"playground/engine/enginetest"
)

func TestSchedule(t *testing.T) {
	var steps []uint64
	for s := uint64(0); s <= 1<<16; s++ {
		if At(s) {
			steps = append(steps, s)
		}
	}
	// Every step up to 63, then 32 per octave.
	if want := 63 + 32*(16-6) + 1; len(steps) != want {
		t.Errorf("%d scheduled steps up to 2^16, want %d", len(steps), want)
	}
	for i := 1; i < len(steps); i++ {
		if gap := steps[i] - steps[i-1]; gap > max(1, steps[i]/PerOctave) {
			t.Fatalf("gap %d before step %d", gap, steps[i])
		}
	}
	if At(0) || !At(1<<40) || At(1<<40+1) || !At(math.MaxUint64&^(1<<58-1)) {
		t.Error("schedule at 0, 2^40, 2^40+1 or the top is wrong")
	}
}

func run(tr *engine.Trainer, h *History, to uint64) {
	for tr.Step < to {
		h.Observe(tr, tr.TrainStep())
	}
}

// A history is a pure function of the steps: a run resumed from a
// checkpoint (its history decoded from the metadata form) reaches the
// same history, and training reaches the same state as without it.
func TestResumedHistoryIsTheSame(t *testing.T) {
	a, plain := enginetest.PresetTrained(t, "circle-sgd", 0), enginetest.PresetTrained(t, "circle-sgd", 0)
	var ha History
	run(a, &ha, 3000)
	for plain.Step < 3000 {
		plain.TrainStep()
	}
	if !slices.Equal(a.State().Tensors[0].F32, plain.State().Tensors[0].F32) || !slices.Equal(a.State().RNG, plain.State().RNG) {
		t.Fatal("evaluating changed training")
	}
	b := enginetest.PresetTrained(t, "circle-sgd", 0)
	var hb History
	run(b, &hb, 1234)
	st := b.State()
	hb2, err := Decode(Encode(hb), st.Step)
	if err != nil {
		t.Fatal(err)
	}
	c, err := engine.Restore(st)
	if err != nil {
		t.Fatal(err)
	}
	run(c, &hb2, 3000)
	if Encode(hb2) != Encode(ha) || len(ha.Points) < 150 {
		t.Errorf("resumed history differs or is short (%d points)", len(ha.Points))
	}
	last := ha.Points[len(ha.Points)-1]
	if last.Step != 3000-3000%64 || !(last.Test > 0) || !(last.Accuracy > 0.5) || !(last.Train > 0) {
		t.Errorf("last point %+v", last)
	}
}

func TestThinStaysBounded(t *testing.T) {
	var h History
	for s := uint64(1); s < 1<<36; s += max(1, uint64(1)<<bits.Len64(s)>>6) {
		h.Points = thin(append(h.Points, Point{Step: s}))
	}
	if len(h.Points) > MaxPoints || len(h.Points) < MaxPoints/2 {
		t.Errorf("%d points", len(h.Points))
	}
	if enc := Encode(h); len(enc) > MaxEncoded {
		t.Errorf("%d bytes", len(enc))
	}
	for i := 1; i < len(h.Points); i++ {
		if h.Points[i].Step <= h.Points[i-1].Step || !At(h.Points[i].Step) {
			t.Fatalf("point %d: %+v", i, h.Points[i])
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := Encode(History{Sum: 1.5, N: 2, Points: []Point{{1, 0.5, 0.6, 0.75}, {2, float32(math.NaN()), float32(math.Inf(1)), 0}}})
	if h, err := Decode(good, 4); err != nil || len(h.Points) != 2 || h.Points[1].Step != 2 {
		t.Fatalf("%q: %+v %v", good, h, err)
	}
	for _, s := range []string{
		"1.5 2;1,0.5,0.6,0.75;1,NaN,+Inf", // three fields
		"1.5 2;0,0.5,0.6,0.75",            // no step 0
		"1.5 9;1,0.5,0.6,0.75",            // window longer than the run
		"1.5 2;5,0.5,0.6,0.75",            // after the step
		"1.50 2;1,0.5,0.6,0.75",           // not canonical
		"1.5 2;1,0.5,0.6,1e0",             // not canonical
		"1.5 2;1,0.5,0.6,0.75;",           // empty point
		"x 2", "1.5", "1.5 -1",
	} {
		if _, err := Decode(s, 4); err == nil {
			t.Errorf("%q decoded", s)
		}
	}
	if _, err := Decode("0 0;65,1,1,1", 100); err == nil {
		t.Error("a step off the schedule decoded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("1.5 2;1,0.5,0.6,0.75;1,NaN,+Inf,0", uint64(4))
	f.Add("0 0;64,1,1,1;2,1,1,1", uint64(100))
	f.Fuzz(func(t *testing.T, s string, step uint64) {
		h, err := Decode(s, step)
		if err != nil {
			return
		}
		if Encode(h) != s || len(h.Points) > MaxPoints {
			t.Fatalf("%q decoded to %+v", s, h)
		}
	})
}
