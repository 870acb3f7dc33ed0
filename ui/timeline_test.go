package ui

import (
	"strings"
	"testing"

	"playground/wasm/protocol"
)

// The timeline is painted at the source: its rows name what their buttons
// do, names are escaped, and Act does what a button says.
func TestTimelinePainted(t *testing.T) {
	a, h := running(t)
	rows := string(a.AppendCheckpointRows(nil))
	if n := strings.Count(rows, `data-testid="ckpt-row"`); n != 3 {
		t.Fatalf("%d rows:\n%s", n, rows)
	}
	for _, act := range []string{"select", "download", "restore", "fork", "pin", "delete"} {
		if !strings.Contains(rows, `data-act="`+act+`"`) {
			t.Errorf("no %s button", act)
		}
	}
	// The head is marked; selecting a row marks it and travels to its step.
	if !strings.Contains(rows, `data-id="000000001200-dddddddd" data-step="1200" data-kind="autosave" class="head"`) {
		t.Errorf("the head row is not marked:\n%s", rows)
	}
	a.Act("select", "circle-sgd-1", "000000000500-aaaaaaaa", 500)
	if a.Selected != "000000000500-aaaaaaaa" || !strings.Contains(string(a.AppendCheckpointRows(nil)), `class=" selected"><td><button class="linkish" data-testid="ckpt-select" data-act="select" aria-pressed="true"`) {
		t.Errorf("selected %q", a.Selected)
	}
	a.Act("mark", "", "000000000500-aaaaaaaa", 500) // a mark selects, never unselects
	if a.Selected != "000000000500-aaaaaaaa" {
		t.Errorf("a press on the selected checkpoint's mark unselected it: %q", a.Selected)
	}
	a.Act("pin", "circle-sgd-1", "000000000500-aaaaaaaa", 500)
	if c := h.last(); c.Type != protocol.CmdPin || c.ID != "000000000500-aaaaaaaa" {
		t.Errorf("pin sent %+v", c)
	}
	a.Act("open", "child-2", "", 0)
	if c := h.last(); c.Type != protocol.CmdRestore || c.Run != "child-2" || c.ID != "000000000500-cccccccc" {
		t.Errorf("open sent %+v", c)
	}

	// A name is text, never markup.
	a.Runs[0].Name = `<img src=x onerror=alert(1)>`
	runs := string(a.AppendRunRows(nil))
	if strings.Contains(runs, "<img") || !strings.Contains(runs, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("runs:\n%s", runs)
	}
	if !strings.Contains(runs, `data-act="open" disabled`) {
		t.Errorf("the current run can be opened again:\n%s", runs)
	}
}
