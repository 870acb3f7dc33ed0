package main

import (
	"strconv"
	"strings"
	"testing"

	"playground/engine"
	"playground/wasm/protocol"
	"playground/wasm/session"
)

// eval --grid L:I prints the map the page draws for a unit: natively and
// under Node the same text, which is the map the worker's view holds.
func TestEvalGrid(t *testing.T) {
	dir := t.TempDir()
	ck := ok(t, playground(t, "train", "--preset", "circle-sgd", "--steps", "300", "--out", dir), "train").lastLine()
	r := ok(t, playground(t, "eval", "--ckpt", ck, "--grid", "2:5"), "eval --grid")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != session.GridSide {
		t.Fatalf("%d lines, want %d", len(lines), session.GridSide)
	}
	var vals []float32
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != session.GridSide {
			t.Fatalf("a row of %d values: %q", len(f), l)
		}
		for _, s := range f {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil || v < -1 || v > 1 {
				t.Fatalf("value %q of a tanh unit: %v", s, err)
			}
			vals = append(vals, float32(v))
		}
	}
	c, err := loadCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := engine.Restore(c.State)
	if err != nil {
		t.Fatal(err)
	}
	want, w, _, err := session.UnitMap(tr, 2, 5)
	if err != nil || protocol.FormatMap(want, w) != r.stdout || protocol.FormatMap(vals, w) != r.stdout {
		t.Fatalf("printed map is not the view's unit 5 of layer 2 (%v)", err)
	}
	if ow := ok(t, playgroundWasm(t, "eval", "--ckpt", ck, "--grid", "2:5"), "wasm eval --grid"); ow.stdout != r.stdout {
		t.Error("the wasm build prints another map")
	}
	for _, bad := range []string{"x", "1", "1:", ":1", "-1:0", "1:-1", "9:0", "1:16", "3:1", "1:2:3", "+1:0", "01:0", "1:9"} {
		r := playground(t, "eval", "--ckpt", ck, "--grid", bad)
		if r.code == 0 || r.stderr == "" || strings.Contains(r.stderr, "panic") {
			t.Errorf("--grid %q: exit %d, stderr %q", bad, r.code, r.stderr)
		}
	}
}

// parseUnit takes L:I of two decimal numbers and nothing else; it never
// panics.
func FuzzParseUnit(f *testing.F) {
	for _, s := range []string{"1:3", "0:0", "x", "1:", "99999999999:1", "1:2:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, u, err := parseUnit(s)
		if err != nil {
			return
		}
		if l < 0 || u < 0 || strconv.Itoa(l)+":"+strconv.Itoa(u) != s {
			t.Errorf("parseUnit(%q) = %d, %d", s, l, u)
		}
	})
}
