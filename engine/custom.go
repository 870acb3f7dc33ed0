package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"playground/dataset"
	"playground/spec"
)

// ErrNeedsData marks a spec whose dataset is not generated (kind csv)
// given without its table: the error names the dataset's SHA-256.
var ErrNeedsData = errors.New("needs its dataset")

// Data builds the spec's dataset: generated from the seed, or (kind csv)
// from the table the spec names, which must be that table. The spec must
// be normalized.
func Data(s spec.Spec, t *dataset.Table) (*Dataset, error) {
	if s.Dataset.Kind != spec.CustomKind {
		return Generate(s), nil
	}
	if t == nil {
		return nil, fmt.Errorf("%w: the run trains on dataset %s (a CSV, never in a checkpoint)", ErrNeedsData, s.Dataset.SHA256)
	}
	if err := t.Matches(s.Dataset); err != nil {
		return nil, err
	}
	return fromTable(s, t), nil
}

// fromTable splits and encodes a table as the spec says: by its split
// column, keeping file order, or by one shuffle of the seed's data stream
// whose first test_ratio part is the test set, as Generate splits.
func fromTable(s spec.Spec, t *dataset.Table) *Dataset {
	ds := &Dataset{Inputs: t.Inputs(), Outputs: s.Outputs(), Classes: t.Classes, Features: t.Names}
	var train, test []int
	if t.Test != nil {
		for i, isTest := range t.Test {
			if isTest {
				test = append(test, i)
			} else {
				train = append(train, i)
			}
		}
	} else {
		order := make([]int, t.Rows())
		for i := range order {
			order[i] = i
		}
		shuffle(rand.New(rand.NewPCG(s.DataSeed(), streamData)), order)
		nTest := s.Dataset.TestSamples()
		test, train = order[:nTest], order[nTest:]
	}
	ds.Test = tableSplit(ds, t, test)
	ds.Train = tableSplit(ds, t, train)
	return ds
}

// tableSplit copies the rows idx of t into a Split of ds's shape.
func tableSplit(ds *Dataset, t *dataset.Table, idx []int) Split {
	k := ds.Inputs
	sp := Split{N: len(idx), X: make([]float32, len(idx)*k), Y: make([]float32, len(idx)*ds.Outputs), Label: make([]float32, len(idx))}
	for j, i := range idx {
		copy(sp.X[j*k:(j+1)*k], t.X[i*k:(i+1)*k])
		sp.Label[j] = t.Label[i]
		if ds.Outputs == 1 {
			sp.Y[j] = t.Label[i]
		} else {
			sp.Y[j*ds.Outputs+int(t.Label[i])] = 1
		}
	}
	return sp
}
