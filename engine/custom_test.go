package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"playground/dataset"
	"playground/spec"
)

// customCSV is a small three-class table with a split column: class by the
// quadrant-ish sign pattern of two features, a third feature of noise.
func customCSV(rows int, split bool) string {
	var b strings.Builder
	b.WriteString("a,b,c,class:3")
	if split {
		b.WriteString(",split")
	}
	b.WriteString("\n")
	for i := range rows {
		x, y, z := float64(i*37%200-100)/25, float64(i*91%170-85)/20, float64(i*13%7)/7
		c := 0
		switch {
		case x > 0 && y > 0:
			c = 1
		case x < 0:
			c = 2
		}
		fmt.Fprintf(&b, "%g,%g,%g,%d", x, y, z, c)
		if split {
			b.WriteString(map[bool]string{true: ",test", false: ",train"}[i%5 == 0])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func customTable(t testing.TB, csv string) *dataset.Table {
	t.Helper()
	tab, err := dataset.Parse([]byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// A run on a CSV resumes bit for bit, with its split column or with a
// seeded test_ratio split, and its dataset follows the table.
func TestCustomResumeBitExact(t *testing.T) {
	for _, split := range []bool{true, false} {
		tab := customTable(t, customCSV(230, split))
		s := tab.Apply(spec.Spec{Seed: 7, Dataset: spec.DatasetSpec{TestRatio: 0.25}})
		ref, err := NewTrainerWith(s, tab)
		if err != nil {
			t.Fatal(err)
		}
		wantTest := 46
		if !split {
			wantTest = 57
		}
		if ref.Data.Test.N != wantTest || ref.Data.Train.N != 230-wantTest || ref.Data.Outputs != 3 || ref.Data.Inputs != 3 {
			t.Fatalf("split %v: test %d train %d outputs %d", split, ref.Data.Test.N, ref.Data.Train.N, ref.Data.Outputs)
		}
		refLoss := run(t, ref, 120)
		for _, k := range []uint64{0, 17, 37} {
			a, _ := NewTrainerWith(s, tab)
			run(t, a, k)
			b, err := RestoreWith(a.State(), tab)
			if err != nil {
				t.Fatal(err)
			}
			if got := run(t, b, 120); !slices.Equal(f32bits(got), f32bits(refLoss[k:])) {
				t.Fatalf("split %v: resume at %d: losses differ", split, k)
			}
			if msg := sameState(ref.State(), b.State()); msg != "" {
				t.Fatalf("split %v: resume at %d: %s", split, k, msg)
			}
		}
		if refLoss[len(refLoss)-1] >= refLoss[0] {
			t.Errorf("split %v: loss did not fall: %v -> %v", split, refLoss[0], refLoss[len(refLoss)-1])
		}
	}
}

// Without its table, or with another, a run of custom data is refused and
// the error names the dataset.
func TestCustomNeedsData(t *testing.T) {
	tab := customTable(t, customCSV(50, true))
	s := tab.Apply(spec.Spec{})
	_, err := NewTrainer(s)
	if !errors.Is(err, ErrNeedsData) || !strings.Contains(err.Error(), tab.Name()) {
		t.Fatalf("no table: %v", err)
	}
	other := customTable(t, customCSV(51, true))
	if _, err := NewTrainerWith(s, other); err == nil || !strings.Contains(err.Error(), other.Name()) {
		t.Fatalf("another table: %v", err)
	}
	tr, _ := NewTrainerWith(s, tab)
	if _, err := Restore(tr.State()); !errors.Is(err, ErrNeedsData) {
		t.Fatalf("restore without the table: %v", err)
	}
}

// A CSV's seeded split follows the data seed ("regenerate data"), not the
// run's seed, as the generated sets do.
func TestCustomSplitFollowsDataSeed(t *testing.T) {
	tab := customTable(t, customCSV(230, false))
	s := tab.Apply(spec.Spec{Seed: 7, Dataset: spec.DatasetSpec{TestRatio: 0.25}})
	split := func(s spec.Spec) []float32 {
		d, err := Data(s, tab)
		if err != nil {
			t.Fatal(err)
		}
		return d.Test.X
	}
	a := split(s)
	seven, other := uint64(7), uint64(8)
	s.Dataset.Seed = &seven
	if !slices.Equal(a, split(s)) {
		t.Error("a data seed equal to the run's seed changed the split")
	}
	s.Dataset.Seed = &other
	b := split(s)
	if slices.Equal(a, b) {
		t.Error("another data seed left the split as it was")
	}
	s.Seed = 9
	if !slices.Equal(b, split(s)) {
		t.Error("the run's seed moved a split that has its own data seed")
	}
}
