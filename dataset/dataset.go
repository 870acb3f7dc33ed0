// Package dataset reads custom training data from a CSV file: numeric
// features, then a label (a class or a regression target), then an
// optional train/test split column. A table has one canonical encoding,
// and the SHA-256 of those bytes, in hex, is the dataset's name: the spec
// of a run on it (kind csv) names it so, checkpoints never hold the data,
// and the stores keep the canonical bytes once under that name.
//
// It imports only the spec and the standard library, so the page can
// parse a file without carrying the engine.
package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"playground/spec"
)

// ErrDataset marks data that is not a valid dataset; errors about a place
// in the file are *Error.
var ErrDataset = errors.New("invalid dataset")

// Error is a defect at a place in the CSV file: line and column count
// from 1 (column 0: the whole line).
type Error struct {
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("%v: line %d: %s", ErrDataset, e.Line, e.Msg)
	}
	return fmt.Sprintf("%v: line %d, column %d: %s", ErrDataset, e.Line, e.Column, e.Msg)
}

// Unwrap makes errors.Is(err, ErrDataset) hold.
func (e *Error) Unwrap() error { return ErrDataset }

// Table is a parsed dataset. Rows are in file order.
type Table struct {
	Names   []string  // one per feature column
	Classes int       // 0: the label is a regression target
	X       []float32 // Rows() × len(Names), row-major
	Label   []float32 // the class (an integer) or the target, per row
	Test    []bool    // nil without a split column; else true for a test row

	canonical []byte
	name      string
}

// Rows is the number of samples.
func (t *Table) Rows() int { return len(t.Label) }

// Inputs is the number of features per row.
func (t *Table) Inputs() int { return len(t.Names) }

// TestRows is the number of rows the split column marks test.
func (t *Table) TestRows() int {
	n := 0
	for _, test := range t.Test {
		if test {
			n++
		}
	}
	return n
}

// Name is the dataset's name: the SHA-256 of Canonical, in lowercase hex.
func (t *Table) Name() string {
	if t.name == "" {
		t.name = Name(t.Canonical())
	}
	return t.name
}

// Name is the name of a dataset whose canonical bytes are b.
func Name(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Spec is the dataset part of a spec training on the table: kind csv, its
// name and its shape. A table without a split column gets test_ratio 0.
func (t *Table) Spec() spec.DatasetSpec {
	return spec.DatasetSpec{
		Kind:    spec.CustomKind,
		Samples: t.Rows(),
		SHA256:  t.Name(),
		Inputs:  t.Inputs(),
		Classes: t.Classes,
		Split:   t.Test != nil,
		Test:    t.TestRows(),
	}
}

// Matches reports why the table is not the data d names, or nil.
func (t *Table) Matches(d spec.DatasetSpec) error {
	want := t.Spec()
	if d.SHA256 != want.SHA256 {
		return fmt.Errorf("%w: the spec names dataset %s, this is %s", ErrDataset, d.SHA256, want.SHA256)
	}
	if d.Samples != want.Samples || d.Inputs != want.Inputs || d.Classes != want.Classes || d.Split != want.Split || d.Test != want.Test {
		return fmt.Errorf("%w: dataset %s has %d rows, %d inputs, %d classes, split %v (%d test); the spec says %d, %d, %d, %v (%d)",
			ErrDataset, want.SHA256, want.Samples, want.Inputs, want.Classes, want.Split, want.Test,
			d.Samples, d.Inputs, d.Classes, d.Split, d.Test)
	}
	return nil
}

// Canonical is the table's one encoding, a CSV that Parse reads back to
// the same table: a header (the feature names, then class:K or target,
// then split when the table has one), one line per row, each number the
// shortest text that gives its float32, lines ending in "\n".
func (t *Table) Canonical() []byte {
	if t.canonical != nil {
		return t.canonical
	}
	var b bytes.Buffer
	for _, n := range t.Names {
		b.WriteString(n)
		b.WriteByte(',')
	}
	if t.Classes > 0 {
		fmt.Fprintf(&b, "%s:%d", headClass, t.Classes)
	} else {
		b.WriteString(headTarget)
	}
	if t.Test != nil {
		b.WriteString("," + headSplit)
	}
	b.WriteByte('\n')
	var num []byte
	k := t.Inputs()
	for r := range t.Rows() {
		for _, v := range t.X[r*k : (r+1)*k] {
			num = strconv.AppendFloat(num[:0], float64(v), 'g', -1, 32)
			b.Write(num)
			b.WriteByte(',')
		}
		num = strconv.AppendFloat(num[:0], float64(t.Label[r]), 'g', -1, 32)
		b.Write(num)
		if t.Test != nil {
			b.WriteString("," + splitName(t.Test[r]))
		}
		b.WriteByte('\n')
	}
	t.canonical = b.Bytes()
	return t.canonical
}

func splitName(test bool) string {
	if test {
		return splitTest
	}
	return splitTrain
}

// Read reads a CSV file of at most spec.MaxCustomBytes from r and parses
// it.
func Read(r io.Reader) (*Table, error) {
	b, err := io.ReadAll(io.LimitReader(r, spec.MaxCustomBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > spec.MaxCustomBytes {
		return nil, fmt.Errorf("%w: the file is over %d bytes", ErrDataset, spec.MaxCustomBytes)
	}
	return Parse(b)
}

// Decode reads a stored dataset: b must be the canonical bytes of a table
// whose name is name. It is how every store and download checks what it
// is given.
func Decode(name string, b []byte) (*Table, error) {
	if !spec.ValidDatasetName(name) {
		return nil, fmt.Errorf("%w: %q is no dataset name (64 lowercase hex digits)", ErrDataset, clip(name))
	}
	if got := Name(b); got != name {
		return nil, fmt.Errorf("%w: the bytes' SHA-256 is %s, not their name %s", ErrDataset, got, name)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(t.Canonical(), b) {
		return nil, fmt.Errorf("%w: dataset %s is not in canonical form", ErrDataset, name)
	}
	return t, nil
}

// clip shortens what a message quotes of its input.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Apply returns s training on the table: its dataset becomes the table's
// (keeping test_ratio when the table has no split column), its loss the
// one the label calls for, and its output layer fits the label (sigmoid
// for two classes, softmax for more, linear for a target). Its hidden
// layers are kept; a spec without layers gets one of 8 tanh units, and
// absent settings the defaults: adam at 0.01, batch size 10 (or the
// training rows, if fewer).
func (t *Table) Apply(s spec.Spec) spec.Spec {
	d := t.Spec()
	if !d.Split {
		d.TestRatio = s.Dataset.TestRatio
	}
	s.Dataset, s.Loss = d, ""
	layers := slices.Clone(s.Model.Layers)
	if len(layers) == 0 {
		layers = []spec.LayerSpec{{Units: 8, Activation: "tanh"}, {}}
	}
	out := spec.LayerSpec{Units: 1, Activation: "linear"}
	switch {
	case t.Classes == 2:
		out.Activation = "sigmoid"
	case t.Classes > 2:
		out = spec.LayerSpec{Units: t.Classes, Activation: "softmax"}
	}
	layers[len(layers)-1] = out
	s.Model.Layers = layers
	if s.Optimizer.Kind == "" {
		s.Optimizer = spec.OptimizerSpec{Kind: "adam", LR: 0.01}
	}
	if s.BatchSize == 0 {
		s.BatchSize = min(10, d.TrainSamples())
	}
	return s
}
