package dataset

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"playground/spec"
)

const threeClasses = `a,b,class:3,split
0.5,1,0,train
1.5,-2,1,train
2.5,3e2,2,test
-1,0.25,1,train
`

func TestParseHeader(t *testing.T) {
	tab, err := Parse([]byte(threeClasses))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rows() != 4 || tab.Inputs() != 2 || tab.Classes != 3 || tab.TestRows() != 1 {
		t.Fatalf("rows %d inputs %d classes %d test %d", tab.Rows(), tab.Inputs(), tab.Classes, tab.TestRows())
	}
	if tab.X[3] != -2 || tab.X[5] != 300 || tab.Label[2] != 2 || !tab.Test[2] {
		t.Fatalf("values: %v %v %v", tab.X, tab.Label, tab.Test)
	}
	if got := string(tab.Canonical()); got != "a,b,class:3,split\n0.5,1,0,train\n1.5,-2,1,train\n2.5,300,2,test\n-1,0.25,1,train\n" {
		t.Fatalf("canonical:\n%s", got)
	}
	d := tab.Spec()
	if d.Kind != spec.CustomKind || d.SHA256 != tab.Name() || d.Samples != 4 || d.Inputs != 2 || d.Classes != 3 || !d.Split || d.Test != 1 {
		t.Fatalf("spec %+v", d)
	}
	if err := tab.Matches(d); err != nil {
		t.Fatal(err)
	}
	d.Test = 2
	if err := tab.Matches(d); err == nil {
		t.Fatal("a spec of another shape matched")
	}
}

func TestParseGuess(t *testing.T) {
	for _, c := range []struct {
		csv            string
		inputs, labels int
		split          bool
	}{
		{"1,2,0\n3,4,1\n5,6,1\n7,8,0\n", 2, 2, false},
		{"1,2,0,train\n3,4,4,test\n5,6,1,train\n7,8,0,train\n", 2, 5, true},
		{"1,0.5\n2,1.5\n3,2.5\n4,3.5\n", 1, 0, false},
		{"1,0\n2,0\n3,0\n4,0\n", 1, 2, false},
		{"1,-1\n2,0\n3,1\n4,2\n", 1, 0, false},
		{"1,100\n2,0\n3,1\n4,2\n", 1, 0, false},
		{"x1,label,split\n1,0,train\n2,1,test\n3,1,train\n4,0,train\n", 1, 2, true},
		{"x1,label\n1,0.5\n2,1\n3,1\n4,0\n", 1, 0, false},
	} {
		tab, err := Parse([]byte(c.csv))
		if err != nil {
			t.Fatalf("%q: %v", c.csv, err)
		}
		if tab.Inputs() != c.inputs || tab.Classes != c.labels || (tab.Test != nil) != c.split {
			t.Errorf("%q: inputs %d classes %d split %v", c.csv, tab.Inputs(), tab.Classes, tab.Test != nil)
		}
		if tab.Names[0] != "x1" {
			t.Errorf("%q: names %v", c.csv, tab.Names)
		}
	}
}

// TestParseErrors: each defect gets its own message naming its line (and
// column), and no table.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, csv, want string }{
		{"empty", "", "line 1: the file is empty"},
		{"blank", "\n\n", "line 1: the file is empty"},
		{"text cell", "1,2,0\n3,abc,1\n5,6,1\n7,8,0\n", `line 2, column 2: "abc" is not a number`},
		{"ragged", "1,2,0\n3,4,1\n5,1\n7,8,0\n", "line 3: 2 cells, want 3"},
		{"ragged header", "a,b,class\n1,2,0\n3,4,1,5\n", "line 3: 4 cells, want 3"},
		{"label outside", "a,class:2\n1,0\n2,1\n3,2\n4,0\n", "line 4, column 2: label 2 is outside the classes 0..1"},
		{"label fraction", "a,class\n1,0\n2,1.5\n", "line 3, column 2: label 1.5 is outside the classes"},
		{"label text", "a,target\n1,0\n2,x\n", `line 3, column 2: label: "x" is not a number`},
		{"bad label header", "a,b,kind\n1,2,0\n", `line 1, column 3: the label column is "kind"`},
		{"bad class count", "a,class:1\n1,0\n", `line 1, column 2: "class:1": want class:K`},
		{"bad name", "a b,class\n1,0\n", `line 1, column 1: "a b" is no feature name`},
		{"twice", "a,a,class\n1,2,0\n", `line 1, column 2: feature "a" named twice`},
		{"header only", "a,b,class\n", "line 1: the file ends after 0 rows, want at least 4"},
		{"few rows", "1,2,0\n3,4,1\n", "line 2: the file ends after 2 rows"},
		{"split cell", "1,2,0,train\n3,4,1,tset\n", `line 2, column 4: split "tset": want train or test`},
		{"all test", "1,2,0,test\n3,4,1,test\n5,6,1,test\n7,8,0,test\n", "line 4: every row is marked test"},
		{"infinite", "1,2,0\n3,1e39,1\n", `line 2, column 2: "1e39" is not a finite float32`},
		{"nan", "1,2,0\n3,NaN,1\n", `line 2, column 2: "NaN" is not a finite float32`},
		{"no label", "1\n2\n", "line 1: a row needs at least one feature and a label"},
		{"quote", "1,2,0\n3,\"4,1\n", "line 2"},
		{"features", strings.Repeat("1,", spec.MaxCustomFeatures+1) + "0\n", "line 1: 1025 features, more than the 1024 allowed"},
		{"rows", strings.Repeat("1,0\n", spec.MaxCustomRows+1), "line 200001: more than 200000 rows"},
		{"cells", strings.Repeat(strings.Repeat("1,", 1000)+"0\n", spec.MaxCustomCells/1000+1), "line 4001: more than 4000000 feature cells"},
		{"bytes", strings.Repeat("1", spec.MaxCustomBytes+1), "over 33554432 bytes"},
	} {
		tab, err := Parse([]byte(c.csv))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrDataset) || tab != nil {
			t.Errorf("%s: got %v, want an ErrDataset containing %q", c.name, err, c.want)
		}
	}
}

// TestName: the same bytes give the same name; one changed byte another;
// a file and its canonical form name the same table.
func TestName(t *testing.T) {
	a, _ := Parse([]byte(threeClasses))
	b, _ := Parse([]byte(threeClasses))
	if a.Name() != b.Name() || len(a.Name()) != 64 || !spec.ValidDatasetName(a.Name()) {
		t.Fatalf("names %s %s", a.Name(), b.Name())
	}
	changed := []byte(threeClasses)
	changed[bytes.IndexByte(changed, '5')] = '6'
	c, err := Parse(changed)
	if err != nil || c.Name() == a.Name() {
		t.Fatalf("one changed byte: %v, name %s", err, c.Name())
	}
	spaced := strings.ReplaceAll(threeClasses, ",", " , ")
	d, err := Parse([]byte(spaced))
	if err != nil || d.Name() != a.Name() {
		t.Fatalf("the same table spaced out: %v, name %s", err, d.Name())
	}
}

func TestDecode(t *testing.T) {
	tab, _ := Parse([]byte(threeClasses))
	b := tab.Canonical()
	if got, err := Decode(tab.Name(), b); err != nil || got.Name() != tab.Name() {
		t.Fatalf("decode: %v", err)
	}
	other := bytes.Replace(b, []byte("0.5"), []byte("0.6"), 1)
	if _, err := Decode(tab.Name(), other); err == nil || !strings.Contains(err.Error(), "not their name") {
		t.Fatalf("bytes under another name: %v", err)
	}
	raw := []byte(strings.ReplaceAll(string(b), "300", "3e2"))
	if _, err := Decode(Name(raw), raw); err == nil || !strings.Contains(err.Error(), "not in canonical form") {
		t.Fatalf("non-canonical bytes: %v", err)
	}
	if _, err := Decode("../x", b); err == nil || !strings.Contains(err.Error(), "no dataset name") {
		t.Fatalf("bad name: %v", err)
	}
}

// FuzzParse: any bytes give a table or an error, never a panic; a table's
// canonical bytes parse back to the same canonical bytes and name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{threeClasses, "1,2,0\n3,4,1\n5,6,1\n7,8,0\n", "a,target\n1,0.1\n2,-0\n3,1e-45\n4,5\n", "\"1\",\"2\"\n", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrDataset) {
				t.Fatalf("error not ErrDataset: %v", err)
			}
			return
		}
		c := tab.Canonical()
		again, err := Decode(tab.Name(), c)
		if err != nil {
			t.Fatalf("canonical bytes do not decode: %v\n%q", err, c)
		}
		if !bytes.Equal(again.Canonical(), c) {
			t.Fatalf("canonical form not stable:\n%q\n%q", c, again.Canonical())
		}
		if _, err := tab.Apply(spec.Spec{}).Normalize(); err != nil {
			t.Fatalf("the table's spec is invalid: %v", err)
		}
	})
}
