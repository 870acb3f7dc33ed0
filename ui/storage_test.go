package ui

import (
	"strings"
	"testing"

	"playground/wasm/protocol"
)

// A worker refused storage says so once: the page shows that checkpoints
// are off, and its status line never claims a save.
func TestStorageOff(t *testing.T) {
	a, _ := running(t)
	if strings.Contains(render(t, &Page{App: a}), `data-testid="storage-off"`) {
		t.Fatal("the storage-off notice shows while checkpoints are kept")
	}
	a.Apply(protocol.Event{Type: protocol.EvReady, StorageOff: "indexedDB refused"}, nil)
	a.Apply(protocol.Event{Type: protocol.EvReady, StorageOff: "indexedDB refused"}, nil)
	a.Apply(protocol.Event{Type: protocol.EvSaved, Saved: &protocol.Saved{Checkpoint: protocol.Checkpoint{
		Run: "circle-sgd-1", ID: "000000001300-dddddddd", Step: 1300, Kind: "autosave"}}}, nil)
	html := render(t, &Page{App: a})
	if got := testid(t, html, "storage-off"); !strings.Contains(got, "Checkpoints are off") {
		t.Fatalf("storage-off notice %q", got)
	}
	if line := a.StatusLine(); !strings.Contains(line, "checkpoints off") || strings.Contains(line, "saved") {
		t.Fatalf("status line %q", line)
	}
	if n := countLog(a, "Checkpoints are off: indexedDB refused"); n != 1 {
		t.Fatalf("%d log lines say checkpoints are off, want 1: %+v", n, a.Log)
	}
}
