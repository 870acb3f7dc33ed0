package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"playground/curve"
)

// The native trainer evaluates on the page's schedule: its checkpoints
// carry the run's history, and a resumed run has the same history as one
// that never stopped.
func TestTrainKeepsHistory(t *testing.T) {
	dir := t.TempDir()
	a := ok(t, playground(t, "train", "--preset", "circle-sgd", "--steps", "3000", "--every", "0", "--out", filepath.Join(dir, "A")), "train A")
	b := filepath.Join(dir, "B")
	ok(t, playground(t, "train", "--preset", "circle-sgd", "--steps", "1234", "--every", "0", "--out", b), "train B")
	r := ok(t, playground(t, "train", "--resume", b, "--steps", "3000", "--every", "0"), "resume B")
	ha, hb := decodeFile(t, a.lastLine()).Curve, decodeFile(t, r.lastLine()).Curve
	if len(ha.Points) < 150 || ha.Points[len(ha.Points)-1].Step != 2944 {
		t.Fatalf("history of %d points", len(ha.Points))
	}
	if curve.Encode(ha) != curve.Encode(hb) {
		t.Error("the resumed run's history differs")
	}
	in := ok(t, playground(t, "ckpt", "inspect", a.lastLine()), "inspect")
	if !strings.Contains(in.stdout, fmt.Sprintf("history:      %d points, the newest at step 2944: train loss ", len(ha.Points))) {
		t.Errorf("inspect says:\n%s", in.stdout)
	}
}
