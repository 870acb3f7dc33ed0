package spec

import "fmt"

// CustomKind is the dataset kind of data that is not generated: a table
// read from a CSV file (package dataset), stored once and named by the
// SHA-256 of its canonical bytes. A spec of this kind carries the name
// and the shape; the engine trains on it only when given the table.
const CustomKind = "csv"

// Limits of a custom dataset: what a spec may name, and what the CSV
// parser reads (package dataset).
const (
	MaxCustomBytes    = 32 << 20  // the CSV file and its canonical form
	MaxCustomRows     = 200_000   // samples, train + test
	MinCustomRows     = 4         // as for generated sets
	MaxCustomFeatures = 1024      // numeric columns before the label
	MaxCustomCells    = 4_000_000 // rows × features
	MaxCustomClasses  = 64        // classes 0..63
)

// ValidDatasetName reports whether name is a dataset's name: 64 lowercase
// hex digits (a SHA-256).
func ValidDatasetName(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, c := range []byte(name) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// normalizeCustom checks a custom dataset: its name, its shape within the
// limits and the split, and sets the loss its label calls for.
func (s *Spec) normalizeCustom() error {
	d := &s.Dataset
	if d.Samples == 0 && d.given&givenSamples == 0 {
		return bad("dataset csv needs its samples")
	}
	if !ValidDatasetName(d.SHA256) {
		return bad("dataset csv needs sha256, the 64 lowercase hex digits naming its data, not %q", clip(d.SHA256))
	}
	if d.Samples < MinCustomRows || d.Samples > MaxCustomRows {
		return bad("dataset samples %d out of range [%d, %d]", d.Samples, MinCustomRows, MaxCustomRows)
	}
	if d.Inputs < 1 || d.Inputs > MaxCustomFeatures || d.Inputs*d.Samples > MaxCustomCells {
		return bad("dataset csv inputs %d out of range [1, %d] (and at most %d cells)", d.Inputs, MaxCustomFeatures, MaxCustomCells)
	}
	if d.Classes == 1 || d.Classes < 0 || d.Classes > MaxCustomClasses {
		return bad("dataset csv classes %d: want 0 (a regression target) or 2..%d", d.Classes, MaxCustomClasses)
	}
	if d.Noise != 0 || len(d.Features) != 0 {
		return bad("dataset csv takes no noise and no features")
	}
	if err := d.normalizeCustomSplit(); err != nil {
		return err
	}
	loss := customLoss(d.Classes)
	if s.Loss == "" {
		s.Loss = loss
	}
	if s.Loss != loss {
		return bad("dataset csv with %d classes needs loss %q, not %q", d.Classes, loss, s.Loss)
	}
	return nil
}

// normalizeCustomSplit checks the split: the data's own (a split column,
// Test rows of it marked test) or test_ratio of a seeded shuffle.
func (d *DatasetSpec) normalizeCustomSplit() error {
	if d.Split {
		if d.TestRatio != 0 {
			return bad("dataset csv with a split column takes no test_ratio")
		}
		if d.Test < 0 || d.Test >= d.Samples {
			return bad("dataset csv test rows %d out of range [0, %d)", d.Test, d.Samples)
		}
		return nil
	}
	if d.Test != 0 {
		return bad("dataset csv test %d needs a split column", d.Test)
	}
	if !finite(d.TestRatio) || d.TestRatio < 0 || d.TestRatio > 0.9 {
		return bad("dataset test_ratio %v out of range [0, 0.9]", d.TestRatio)
	}
	return nil
}

// customLoss is the loss a custom label trains with: mse for a regression
// target, bce for two classes (one sigmoid output), softmax_ce for more.
func customLoss(classes int) string {
	switch {
	case classes == 0:
		return "mse"
	case classes == 2:
		return "bce"
	}
	return "softmax_ce"
}

// Outputs is the number of model outputs (targets per sample) the spec's
// dataset has.
func (s Spec) Outputs() int {
	if s.Dataset.Kind == CustomKind {
		if s.Dataset.Classes > 2 {
			return s.Dataset.Classes
		}
		return 1
	}
	return datasetKinds[s.Dataset.Kind].Outputs
}

// clip shortens what a message quotes of its input.
func clip(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%s…", s[:80])
	}
	return s
}
