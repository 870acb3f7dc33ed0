package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"playground/dataset"
	"playground/engine"
	"playground/persist/disk"
	"playground/wasm/protocol"
	"playground/wasm/session"
)

// evalFlags are playground eval's flags: a checkpoint, and what to
// compute of it (by default its losses and accuracy).
type evalFlags struct {
	ckpt  string
	grid  string // L:I, the map of unit I of layer L
	input string // a CSV of inputs: the model's outputs for each
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	var f evalFlags
	fs.StringVar(&f.ckpt, "ckpt", "", "checkpoint file")
	fs.StringVar(&f.input, "input", "", "CSV of inputs, one sample per line: print the model's outputs for each")
	fs.StringVar(&f.grid, "grid", "", "print the map the page draws for unit I of layer L (L:I; layer 0 the inputs, 1 the first hidden layer, the last the output layer)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if f.ckpt == "" {
		return exitError{code: 2, msg: "eval: --ckpt FILE is required"}
	}
	if f.grid != "" && f.input != "" {
		return exitError{code: 2, msg: "eval: --grid and --input ask for different things: give one"}
	}
	var layer, unit int
	if f.grid != "" {
		var err error
		if layer, unit, err = parseUnit(f.grid); err != nil {
			return exitError{code: 2, msg: fmt.Sprintf("eval: --grid %q: %v", f.grid, err)}
		}
	}
	c, err := loadCheckpoint(f.ckpt)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	var locals []*disk.Store
	if fs := fileStore(f.ckpt); fs != nil {
		locals = append(locals, fs)
	}
	tab, err := findData(context.Background(), c.State.Spec, locals, nil)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	tr, err := engine.RestoreWith(c.State, tab)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	switch {
	case f.grid != "":
		return printUnitMap(stdout, tr, layer, unit)
	case f.input != "":
		return evalInputs(tr, f.input, stdout)
	}
	printEval(stdout, tr)
	return nil
}

// printEval prints the train and test loss and accuracy of tr.
func printEval(stdout io.Writer, tr *engine.Trainer) {
	fmt.Fprintf(stdout, "step %d (epoch %d, batch %d)\n", tr.Step, tr.Epoch, tr.Batch)
	for _, s := range []struct {
		name string
		sp   *engine.Split
	}{{"train", &tr.Data.Train}, {"test", &tr.Data.Test}} {
		m := tr.Evaluate(s.sp)
		acc := "n/a"
		if !math.IsNaN(float64(m.Accuracy)) {
			acc = strconv.FormatFloat(float64(m.Accuracy), 'f', 4, 32)
		}
		fmt.Fprintf(stdout, "%-5s loss %s accuracy %s (%d samples)\n", s.name, fmtLoss(m.Loss), acc, s.sp.N)
	}
}

// parseUnit parses L:I, two decimal numbers in their plain form.
func parseUnit(s string) (layer, unit int, err error) {
	ls, is, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, errors.New("want L:I, a layer and a unit")
	}
	for _, v := range []struct {
		what string
		text string
		dst  *int
	}{{"layer", ls, &layer}, {"unit", is, &unit}} {
		n, err := strconv.ParseUint(v.text, 10, 31)
		if err != nil || strconv.FormatUint(n, 10) != v.text {
			return 0, 0, fmt.Errorf("%s %q is not a number from 0", v.what, v.text)
		}
		*v.dst = int(n)
	}
	return layer, unit, nil
}

// printUnitMap prints the map of a unit as the page draws it: a row of
// values per line, from the top, each the shortest decimal that reads
// back as the same float32.
func printUnitMap(stdout io.Writer, tr *engine.Trainer, layer, unit int) error {
	vals, w, _, err := session.UnitMap(tr, layer, unit)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	out := bufio.NewWriter(stdout)
	out.WriteString(protocol.FormatMap(vals, w))
	return out.Flush()
}

// eval --input: the model's outputs for given inputs.

// maxInputLine bounds one line of an --input CSV (784 pixels take about
// 8 KB).
const maxInputLine = 1 << 20

// evalInputs prints the outputs of tr's model for each row of the CSV file
// (the model's input features, one sample per line, an optional header
// line first): a header naming the outputs, then one line per row, each
// value float32's shortest decimal (it parses back to the same bits).
// The output is written once the whole file has read well, so that a
// defect anywhere in it prints nothing but the error (no partial output to
// mistake for a whole).
func evalInputs(tr *engine.Trainer, file string, stdout io.Writer) error {
	f, _, err := openRegular(file)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	var w bytes.Buffer
	w.WriteString(strings.Join(outputNames(tr.Data), ",") + "\n")
	var line []byte
	err = readInputs(f, tr.Data.Inputs, func(x []float32) {
		line = line[:0]
		for i, v := range tr.Predict(x, 1) {
			if i > 0 {
				line = append(line, ',')
			}
			line = strconv.AppendFloat(line, float64(v), 'g', -1, 32)
		}
		w.Write(append(line, '\n'))
	})
	if err != nil {
		return fmt.Errorf("eval: %s: %w", file, err)
	}
	_, err = w.WriteTo(stdout)
	return err
}

// outputNames names a model's outputs: the probability of each class
// (of class 1 alone for two classes), or the regression's value.
func outputNames(d *engine.Dataset) []string {
	switch {
	case d.Classes == 0:
		return []string{"y"}
	case d.Outputs == 1:
		return []string{"p1"}
	}
	names := make([]string, d.Outputs)
	for i := range names {
		names[i] = "p" + strconv.Itoa(i)
	}
	return names
}

// readInputs parses a CSV of samples of width features each, calling
// row for each (x is reused). Blank lines are skipped; line 1 is a header
// when its first cell is not a number, as train --data reads a CSV
// (dataset.IsHeader). Every error names the line (and the column).
func readInputs(r io.Reader, width int, row func(x []float32)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxInputLine)
	x := make([]float32, width)
	n, rows := 0, 0
	for sc.Scan() {
		n++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if n == 1 {
			text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf"))
		}
		fields := strings.Split(string(text), ",")
		if n == 1 && dataset.IsHeader(fields) {
			continue
		}
		if len(fields) != width {
			return fmt.Errorf("line %d: %d values, the model takes %d", n, len(fields), width)
		}
		for i, s := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("line %d, column %d: %q is not a finite number", n, i+1, clip(s))
			}
			x[i] = float32(v)
		}
		row(x)
		rows++
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return fmt.Errorf("line %d is longer than %d bytes", n+1, maxInputLine)
	case err != nil:
		return err
	case rows == 0:
		return errors.New("no inputs (want one sample per line)")
	}
	return nil
}

// clip shortens a field for an error message.
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
