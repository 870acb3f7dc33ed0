package ui

import (
	"fmt"
	"strings"

	"playground/spec"
	"playground/wasm/protocol"

	"github.com/vugu/vugu/js"
)

// Custom data: a CSV file chosen or pasted goes to the worker, which
// parses it, stores it once under its SHA-256 (nothing when it has a
// defect: the error names the line and column) and answers with the
// draft applied to it; Play trains on it.

// CSVState is the data panel's CSV upload.
type CSVState struct {
	Info    *protocol.Dataset // the last dataset stored
	Err     string            // the last upload's defect
	Missing string            // the run or link needs a dataset this browser lacks: why
	seq     int64             // the CmdDataset in flight
}

// UploadCSV sends the CSV file chosen in input.
func (a *App) UploadCSV(input js.Value) {
	a.CSV.Err = ""
	a.CSV.seq = a.sendWith(protocol.Command{Type: protocol.CmdDataset, Spec: a.Draft.JSON()}, func(c protocol.Command) {
		a.Host.SendFile(c, input)
	})
}

// PasteCSV sends the CSV text pasted into the panel.
func (a *App) PasteCSV() {
	text := a.Text("csv-paste", "")
	if strings.TrimSpace(text) == "" {
		a.CSV.Err = "Paste the rows of a CSV first."
		return
	}
	a.CSV.Err = ""
	a.CSV.seq = a.sendWith(protocol.Command{Type: protocol.CmdDataset, Spec: a.Draft.JSON()}, func(c protocol.Command) {
		a.Host.SendBytes(c, []byte(text))
	})
}

// datasetStored takes the worker's answer: the draft trains on the data.
func (a *App) datasetStored(ev protocol.Event) {
	d := ev.Dataset
	if d == nil {
		return
	}
	if ev.Seq == a.CSV.seq {
		a.CSV.seq = 0
	}
	a.CSV.Info, a.CSV.Err, a.CSV.Missing = d, "", ""
	a.Typed("csv-paste")
	if s, err := spec.ParseSpec(d.Spec); err == nil {
		a.Draft, a.DraftErr, a.edited = s, "", true
		if a.Host != nil {
			a.Host.SetQuery(protocol.EncodeSpecQuery(s))
		}
	}
	a.log("", "Dataset %s stored: %s. Press Play to train on it.", d.SHA256[:12], a.CSVText())
}

// csvFailed takes an error: the upload's defect, or a run held up for
// want of its dataset.
func (a *App) csvFailed(ev protocol.Event) {
	switch {
	case ev.Seq != 0 && ev.Seq == a.CSV.seq:
		a.CSV.seq, a.CSV.Err = 0, ev.Message
	case strings.Contains(ev.Message, protocol.MissingData):
		a.CSV.Missing = ev.Message
	}
}

// Custom says whether the draft trains on custom data.
func (a *App) Custom() bool { return a.Draft.Dataset.Kind == spec.CustomKind }

// CSVText describes the custom data the draft trains on.
func (a *App) CSVText() string {
	d := a.Draft.Dataset
	if d.Kind != spec.CustomKind {
		return "Upload or paste a CSV: numeric features, then the label (class or target), optionally a split column (train/test)."
	}
	label := fmt.Sprintf("%d classes", d.Classes)
	if d.Classes == 0 {
		label = "a regression target"
	}
	names := ""
	if i := a.CSV.Info; i != nil && i.SHA256 == d.SHA256 {
		names = " (" + strings.Join(i.Names, ", ") + ")"
	}
	split := fmt.Sprintf("%.0f%% held out for testing", d.TestRatio*100)
	if d.Split {
		split = fmt.Sprintf("%d test rows by its split column", d.Test)
	}
	s := fmt.Sprintf("%s rows, %d features%s, %s, %s; dataset %s…", Commas(uint64(d.Samples)), d.Inputs, names, label, split, d.SHA256[:12])
	if i := a.CSV.Info; i != nil && i.SHA256 == d.SHA256 && len(i.Wide) > 0 {
		verb, them := "goes", "it trains"
		if len(i.Wide) > 1 {
			verb, them = "go", "they train"
		}
		s += fmt.Sprintf(" Tip: %s %s beyond ±%d; scaled to about −1…1 %s much faster (tanh and sigmoid units saturate on large inputs).", strings.Join(i.Wide, ", "), verb, protocol.WideFeature, them)
	}
	return s
}
