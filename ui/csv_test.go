package ui

import (
	"strings"
	"testing"

	"playground/spec"
	"playground/wasm/protocol"
)

// A pasted CSV goes to the worker with the draft; its answer makes the
// draft train on it (and the link name it); a defect is shown; switching
// back to a generated set gives a valid draft.
func TestCSVUpload(t *testing.T) {
	h := newFakeHost()
	a := NewApp(h)
	a.PasteCSV()
	if a.CSV.Err == "" || len(h.sent) != 0 {
		t.Fatal("an empty paste was sent")
	}
	a.Typing("csv-paste", "a,b,class\n1,x,0\n")
	a.PasteCSV()
	c := h.last()
	if c.Type != protocol.CmdDataset || string(h.bytes) != "a,b,class\n1,x,0\n" || len(c.Spec) == 0 {
		t.Fatalf("sent %+v with %q", c, h.bytes)
	}
	a.Apply(protocol.Event{Type: protocol.EvError, Seq: c.Seq, Message: "CSV: invalid dataset: line 2, column 2: \"x\" is not a number"}, nil)
	if !strings.Contains(a.CSV.Err, "line 2, column 2") {
		t.Fatalf("error %q", a.CSV.Err)
	}

	sha := strings.Repeat("ab", 32)
	s := a.Draft
	s.Name = "csv-abababab"
	s.Dataset = spec.DatasetSpec{Kind: spec.CustomKind, Samples: 40, SHA256: sha, Inputs: 2, Classes: 3, TestRatio: 0.25}
	s.Model.Layers[len(s.Model.Layers)-1] = spec.LayerSpec{Units: 3, Activation: "softmax"}
	s.Loss = ""
	n, err := s.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	a.PasteCSV()
	c = h.last()
	a.Apply(protocol.Event{Type: protocol.EvDataset, Seq: c.Seq, Dataset: &protocol.Dataset{
		SHA256: sha, Rows: 40, Names: []string{"u", "v"}, Classes: 3, Spec: n.JSON(), Wide: []string{"u"},
	}}, nil)
	if !a.Custom() || !a.TwoD() || a.CSV.Err != "" || a.Draft.Dataset.SHA256 != sha {
		t.Fatalf("draft %+v, err %q", a.Draft.Dataset, a.CSV.Err)
	}
	if !strings.Contains(h.query, "dataset=csv") || !strings.Contains(h.query, "data="+sha) {
		t.Errorf("link %q", h.query)
	}
	if got := a.CSVText(); !strings.HasPrefix(got, "40 rows, 2 features (u, v), 3 classes, 25% held out") || !strings.Contains(got, "Tip: u goes beyond ±10") {
		t.Errorf("info %q", got)
	}
	a.Apply(protocol.Event{Type: protocol.EvError, Message: "resume r: dataset missing: the run trains on dataset " + sha + ", which is not here (upload its CSV): …"}, nil)
	if !strings.Contains(a.CSV.Missing, sha) {
		t.Errorf("missing %q", a.CSV.Missing)
	}
	a.SetDataset("circle")
	if a.DraftErr != "" || a.Custom() || a.Draft.Dataset.SHA256 != "" {
		t.Errorf("back to circle: %+v, %q", a.Draft.Dataset, a.DraftErr)
	}
}
