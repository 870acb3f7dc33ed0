package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"playground/spec"
)

// Header words: the label column is class, class:K, target or label; the
// split column is split, and its cells are train or test.
const (
	headClass  = "class"
	headTarget = "target"
	headLabel  = "label" // playground data's header: classes or target as without a header
	headSplit  = "split"
	splitTrain = "train"
	splitTest  = "test"
	maxName    = 32 // bytes of a feature name
)

// label kinds
const (
	labelGuess  = iota // no header: classes if every label is one
	labelClass         // class: integers 0..MaxCustomClasses-1, or 0..K-1
	labelTarget        // target: a regression target
)

// parser is the state of one Parse: the columns the header (or the first
// row) set, and the table so far.
type parser struct {
	r        *csv.Reader
	t        Table
	cols     int
	split    bool
	label    int
	declared int     // class:K: K
	maxLabel float32 // the largest label so far
	intLabel bool    // every label so far is a class number
	last     int     // the line of the last record read
}

// Parse reads a CSV file: an optional header line, then one row per
// sample of numeric features, a label and an optional split cell (train
// or test). Line 1 is a header when its first cell is not a number: the
// feature names (1 to 32 of A-Z a-z 0-9 _ . -), then class (classes
// 0..63), class:K (classes 0..K-1), target (a regression target) or label
// (either, decided as without a header), then optionally split. Without a
// header the features are named x1, x2, …, the last column is a split
// column if the first row's last cell is train or test, and the label is a
// class when every label is an integer in 0..63, otherwise a regression
// target. (playground data writes such files.) Any defect is an *Error naming
// its line (and column).
func Parse(b []byte) (*Table, error) {
	if len(b) > spec.MaxCustomBytes {
		return nil, fmt.Errorf("%w: the file is over %d bytes", ErrDataset, spec.MaxCustomBytes)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	p := &parser{r: csv.NewReader(bytes.NewReader(b)), intLabel: true}
	p.r.FieldsPerRecord = -1
	p.r.ReuseRecord = true
	first, line, err := p.read()
	if err == io.EOF {
		return nil, &Error{Line: 1, Msg: "the file is empty: want a header or rows of numbers"}
	}
	if err != nil {
		return nil, err
	}
	if IsHeader(first) {
		err = p.header(first)
	} else {
		err = p.guess(first, line)
		if err == nil {
			err = p.row(first, line)
		}
	}
	if err != nil {
		return nil, err
	}
	for {
		rec, line, err := p.read()
		if err == io.EOF {
			return p.finish(line)
		}
		if err != nil {
			return nil, err
		}
		if err := p.row(rec, line); err != nil {
			return nil, err
		}
	}
}

// read returns the next record and its line (at EOF: the last line).
func (p *parser) read() ([]string, int, error) {
	rec, err := p.r.Read()
	if err == io.EOF {
		return nil, p.last, err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, 0, &Error{Line: pe.Line, Msg: pe.Err.Error()}
	}
	if err != nil {
		return nil, 0, err
	}
	p.last, _ = p.r.FieldPos(0)
	return rec, p.last, nil
}

// header reads line 1 as the columns' names.
func (p *parser) header(rec []string) error {
	cells := make([]string, len(rec))
	for i, c := range rec {
		cells[i] = strings.TrimSpace(c)
	}
	if n := len(cells); cells[n-1] == headSplit {
		p.split = true
		cells = cells[:n-1]
	}
	if len(cells) < 2 {
		return &Error{Line: 1, Msg: "the header (line 1's first cell is not a number) needs at least one feature and a label column"}
	}
	if err := p.labelHeader(cells[len(cells)-1], len(cells)); err != nil {
		return err
	}
	names := cells[:len(cells)-1]
	if err := p.setCols(len(names), 1); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, n := range names {
		if !validName(n) {
			return &Error{Line: 1, Column: i + 1, Msg: fmt.Sprintf("%q is no feature name (1 to %d of A-Z a-z 0-9 _ . -; line 1 is a header as its first cell is not a number)", clip(n), maxName)}
		}
		if seen[n] {
			return &Error{Line: 1, Column: i + 1, Msg: fmt.Sprintf("feature %q named twice", n)}
		}
		seen[n] = true
	}
	p.t.Names = names
	return nil
}

// labelHeader reads the label column's name.
func (p *parser) labelHeader(cell string, col int) error {
	switch {
	case cell == headLabel:
		p.label = labelGuess
		return nil
	case cell == headTarget:
		p.label = labelTarget
		return nil
	case cell == headClass:
		p.label = labelClass
		return nil
	case strings.HasPrefix(cell, headClass+":"):
		k, err := strconv.Atoi(cell[len(headClass)+1:])
		if err != nil || k < 2 || k > spec.MaxCustomClasses {
			return &Error{Line: 1, Column: col, Msg: fmt.Sprintf("%q: want class:K with K from 2 to %d", clip(cell), spec.MaxCustomClasses)}
		}
		p.label, p.declared = labelClass, k
		return nil
	}
	return &Error{Line: 1, Column: col, Msg: fmt.Sprintf("the label column is %q: want class, class:K, target or label (line 1 is a header as its first cell is not a number)", clip(cell))}
}

// guess sets the columns from the first row of a file without a header.
func (p *parser) guess(rec []string, line int) error {
	n := len(rec)
	if s := strings.TrimSpace(rec[n-1]); s == splitTrain || s == splitTest {
		p.split = true
		n--
	}
	if n < 2 {
		return &Error{Line: line, Msg: "a row needs at least one feature and a label"}
	}
	if err := p.setCols(n-1, line); err != nil {
		return err
	}
	for i := range n - 1 {
		p.t.Names = append(p.t.Names, "x"+strconv.Itoa(i+1))
	}
	p.label = labelGuess
	return nil
}

// setCols records the number of features and so of cells per row.
func (p *parser) setCols(features, line int) error {
	if features > spec.MaxCustomFeatures {
		return &Error{Line: line, Msg: fmt.Sprintf("%d features, more than the %d allowed", features, spec.MaxCustomFeatures)}
	}
	p.cols = features + 1
	if p.split {
		p.cols++
		p.t.Test = []bool{}
	}
	return nil
}

// row reads one sample.
func (p *parser) row(rec []string, line int) error {
	if len(rec) != p.cols {
		return &Error{Line: line, Msg: fmt.Sprintf("%d cells, want %d like the first line (features, label%s)", len(rec), p.cols, map[bool]string{true: ", split"}[p.split])}
	}
	k := len(p.t.Names)
	if p.t.Rows() >= spec.MaxCustomRows {
		return &Error{Line: line, Msg: fmt.Sprintf("more than %d rows", spec.MaxCustomRows)}
	}
	if (p.t.Rows()+1)*k > spec.MaxCustomCells {
		return &Error{Line: line, Msg: fmt.Sprintf("more than %d feature cells (rows × features)", spec.MaxCustomCells)}
	}
	for i, c := range rec[:k] {
		v, err := number(c)
		if err != nil {
			return &Error{Line: line, Column: i + 1, Msg: err.Error()}
		}
		p.t.X = append(p.t.X, v)
	}
	v, err := p.labelCell(rec[k])
	if err != nil {
		return &Error{Line: line, Column: k + 1, Msg: err.Error()}
	}
	p.t.Label = append(p.t.Label, v)
	if p.split {
		switch strings.TrimSpace(rec[k+1]) {
		case splitTrain:
			p.t.Test = append(p.t.Test, false)
		case splitTest:
			p.t.Test = append(p.t.Test, true)
		default:
			return &Error{Line: line, Column: k + 2, Msg: fmt.Sprintf("split %q: want train or test", clip(rec[k+1]))}
		}
	}
	return nil
}

// labelCell reads a label: a class must be an integer in range.
func (p *parser) labelCell(c string) (float32, error) {
	v, err := number(c)
	if err != nil {
		return 0, fmt.Errorf("label: %v", err)
	}
	isClass := v >= 0 && v < spec.MaxCustomClasses && v == float32(math.Trunc(float64(v)))
	switch {
	case p.label == labelClass && p.declared > 0 && (!isClass || v >= float32(p.declared)):
		return 0, fmt.Errorf("label %s is outside the classes 0..%d of class:%d", clip(strings.TrimSpace(c)), p.declared-1, p.declared)
	case p.label == labelClass && !isClass:
		return 0, fmt.Errorf("label %s is outside the classes (integers 0..%d)", clip(strings.TrimSpace(c)), spec.MaxCustomClasses-1)
	}
	if isClass {
		v = float32(int(v)) // -0 is class 0
	}
	p.intLabel = p.intLabel && isClass
	p.maxLabel = max(p.maxLabel, v)
	return v, nil
}

// finish checks the whole table and settles the classes.
func (p *parser) finish(last int) (*Table, error) {
	t := &p.t
	if t.Rows() < spec.MinCustomRows {
		return nil, &Error{Line: last, Msg: fmt.Sprintf("the file ends after %d rows, want at least %d", t.Rows(), spec.MinCustomRows)}
	}
	if t.Test != nil && t.TestRows() == t.Rows() {
		return nil, &Error{Line: last, Msg: "every row is marked test: no row to train on"}
	}
	switch {
	case p.declared > 0:
		t.Classes = p.declared
	case p.label == labelClass || (p.label == labelGuess && p.intLabel):
		t.Classes = max(2, int(p.maxLabel)+1)
	}
	return t, nil
}

// IsHeader says whether a CSV's first line, split into cells, is a header:
// its first cell is not a finite float32 (every reader of the project's
// CSVs decides so).
func IsHeader(cells []string) bool {
	if len(cells) == 0 {
		return false
	}
	_, err := number(cells[0])
	return err != nil
}

// number reads a cell as a finite float32.
func number(c string) (float32, error) {
	s := strings.TrimSpace(c)
	v, err := strconv.ParseFloat(s, 32)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is not a number", clip(s))
	}
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a finite float32", clip(s))
	}
	return float32(v), nil
}

func validName(n string) bool {
	if n == "" || len(n) > maxName {
		return false
	}
	for _, c := range []byte(n) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
