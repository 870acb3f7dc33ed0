package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"playground/engine"
	"playground/spec"
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
	tr := restoreFile(t, ck)
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

// eval --input prints, for each row, the probabilities of the checkpoint's
// model as float32's shortest decimals: the bits a trainer restored from
// that checkpoint computes, the same from the wasm build.
func TestEvalInput(t *testing.T) {
	dir := t.TempDir()
	ck := ok(t, playground(t, "train", "--preset", "digits", "--steps", "30", "--out", dir), "train").lastLine()
	pixels, _ := engine.GenDigits(rand.New(rand.NewPCG(3, 4)), 2, 0)
	var csv strings.Builder
	for i := range spec.DigitSize * spec.DigitSize {
		if i > 0 {
			csv.WriteString(",")
		}
		csv.WriteString("p" + strconv.Itoa(i))
	}
	csv.WriteString("\n")
	for i, v := range pixels {
		csv.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		if (i+1)%(spec.DigitSize*spec.DigitSize) == 0 {
			csv.WriteString("\r\n\n") // CRLF and a blank line are fine
		} else {
			csv.WriteString(" , ")
		}
	}
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := ok(t, playground(t, "eval", "--ckpt", ck, "--input", in), "eval --input")

	tr := restoreFile(t, ck)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if lines[0] != "p0,p1,p2,p3,p4,p5,p6,p7,p8,p9" || len(lines) != 3 {
		t.Fatalf("output:\n%s", r.stdout)
	}
	for i := range 2 {
		want := tr.Predict(pixels[i*784:(i+1)*784], 1)
		fields := strings.Split(lines[i+1], ",")
		if len(fields) != 10 {
			t.Fatalf("row %d: %q", i, lines[i+1])
		}
		for k, f := range fields {
			v, err := strconv.ParseFloat(f, 32)
			if err != nil || float32(v) != want[k] {
				t.Errorf("row %d, p%d: %q, want %v", i, k, f, want[k])
			}
		}
	}
	if w := ok(t, playgroundWasm(t, "eval", "--ckpt", ck, "--input", in), "wasm eval --input"); w.stdout != r.stdout {
		t.Errorf("wasm build printed\n%s\nnative\n%s", w.stdout, r.stdout)
	}

	// Each defect is named with its line (and column); nothing is printed.
	for _, c := range []struct{ csv, want string }{
		{"1,2,3\n", "line 1: 3 values, the model takes 784"},
		{strings.Repeat("0,", 783) + "0\n" + strings.Repeat("0,", 10) + "x" + strings.Repeat(",0", 773) + "\n", `line 2, column 11: "x" is not a finite number`},
		{strings.Repeat("0,", 783) + "NaN\n", "line 1, column 784"},
		{"\n\n", "no inputs"},
		// After more rows than an output buffer holds.
		{strings.Repeat(strings.Repeat("0,", 783)+"0\n", 60) + "1,2\n", "line 61: 2 values"},
	} {
		if err := os.WriteFile(in, []byte(c.csv), 0o644); err != nil {
			t.Fatal(err)
		}
		r := playground(t, "eval", "--ckpt", ck, "--input", in)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%.20q: exit %d, stdout %q, stderr %q (want %q)", c.csv, r.code, r.stdout, r.stderr, c.want)
		}
	}
}

// Line 1 is a header when its first cell is not a number, as train --data
// reads a CSV; a byte-order mark before it is passed over.
func TestReadInputsHeader(t *testing.T) {
	for _, c := range []struct {
		csv  string
		rows int
		err  string
	}{
		{"x,y\n0.5,0.25\n", 1, ""},
		{"x,1\n0.5,0.25\n", 1, ""},
		{"\ufeffx,y\n0.5,0.25\n", 1, ""},
		{"\ufeff0.5,0.25\n", 1, ""},
		{"0.5,0.25\n1,2\n", 2, ""},
		{"0.5,y\n", 0, `line 1, column 2: "y" is not a finite number`},
		{"0.5,0.25\nx,y\n", 0, `line 2, column 1: "x" is not a finite number`},
	} {
		rows := 0
		err := readInputs(strings.NewReader(c.csv), 2, func([]float32) { rows++ })
		if (c.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.err) || err == nil && rows != c.rows {
			t.Errorf("%q: %d rows, error %v; want %d rows, error %q", c.csv, rows, err, c.rows, c.err)
		}
	}
}

// Any bytes give rows of exactly the width asked for, or an error; never
// a panic.
func FuzzReadInputs(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "1,2\r\n\n3,4", "1e40,0\n", "x,1\n", "0x1p-2,-0\n", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := readInputs(bytes.NewReader(b), 2, func(x []float32) {
			if len(x) != 2 {
				t.Fatalf("row of %d", len(x))
			}
			n++
		})
		if err == nil && n == 0 {
			t.Fatal("no rows and no error")
		}
	})
}

// restoreFile restores the trainer of checkpoint file ck.
func restoreFile(t *testing.T, ck string) *engine.Trainer {
	t.Helper()
	c, err := loadCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := engine.Restore(c.State)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
