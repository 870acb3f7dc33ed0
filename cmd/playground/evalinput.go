package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"playground/engine"
)

// eval --input: the model's outputs for given inputs.

// maxInputLine bounds one line of an --input CSV (784 pixels take about
// 8 KB).
const maxInputLine = 1 << 20

// evalInputs prints the outputs of tr's model for each row of the CSV file
// (the model's input features, one sample per line, an optional header
// line first): a header naming the outputs, then one line per row, each
// value float32's shortest decimal (it parses back to the same bits).
func evalInputs(tr *engine.Trainer, file string, stdout io.Writer) error {
	f, _, err := openRegular(file)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriter(stdout)
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
	return w.Flush()
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
// row for each (x is reused). Blank lines are skipped; a first line of no
// numbers at all is a header. Every error names the line (and the column).
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
		fields := strings.Split(string(text), ",")
		if n == 1 && isHeader(fields) {
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

// isHeader says whether no field of a line is a number.
func isHeader(fields []string) bool {
	for _, s := range fields {
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return false
		}
	}
	return true
}

// clip shortens a field for an error message.
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
