package persist_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"playground/dataset"
	"playground/persist"
	"playground/spec"
)

// closer records whether ReadData closed what it read.
type closer struct {
	io.Reader
	closed bool
}

func (c *closer) Close() error { c.closed = true; return nil }

// ReadData returns up to spec.MaxCustomBytes as they are, refuses more
// with dataset.ErrDataset naming the dataset, and closes its reader
// either way.
func TestReadData(t *testing.T) {
	name := strings.Repeat("ab", 32)
	for _, c := range []struct {
		size int
		ok   bool
	}{{0, true}, {10, true}, {spec.MaxCustomBytes, true}, {spec.MaxCustomBytes + 1, false}, {spec.MaxCustomBytes + 4096, false}} {
		want := bytes.Repeat([]byte{'7'}, c.size)
		rc := &closer{Reader: bytes.NewReader(want)}
		got, err := persist.ReadData(name, rc)
		if !rc.closed {
			t.Errorf("%d bytes: the reader was left open", c.size)
		}
		if c.ok && (err != nil || !bytes.Equal(got, want)) {
			t.Errorf("%d bytes: ReadData = %d bytes, %v", c.size, len(got), err)
		}
		if !c.ok && (!errors.Is(err, dataset.ErrDataset) || !strings.Contains(err.Error(), name) || got != nil) {
			t.Errorf("%d bytes: ReadData = %d bytes, %v; want dataset.ErrDataset naming the dataset", c.size, len(got), err)
		}
	}
	boom := errors.New("boom")
	rc := &closer{Reader: io.MultiReader(strings.NewReader("1,2\n"), failing{boom})}
	if _, err := persist.ReadData(name, rc); !errors.Is(err, boom) || !rc.closed {
		t.Errorf("a failing reader: %v (closed %v), want its error", err, rc.closed)
	}
}

type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }
