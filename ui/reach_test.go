package ui

import (
	"strings"
	"testing"

	"playground/wasm/protocol"
)

// The server goes away and comes back: one log line each way, and the
// panel never claims an auto-push meanwhile.
func TestReach(t *testing.T) {
	a, _ := running(t)
	a.SetAutoPush(true)
	a.Apply(protocol.Event{Type: protocol.EvSynced, Synced: &protocol.Synced{
		Op: protocol.SyncAutoPush, Run: "circle-sgd-1", Head: "000000001200-cccccccc", Step: 1200, Sent: 1}}, nil)
	if got := a.SyncLine(); !strings.HasPrefix(got, "Auto-pushed step 1,200") {
		t.Fatalf("sync line %q", got)
	}
	down := protocol.Event{Type: protocol.EvReach, Reach: &protocol.Reach{Retry: true, Error: "TypeError: Failed to fetch"}}
	a.Apply(down, nil)
	a.Apply(down, nil) // a repeat changes nothing
	a.Apply(protocol.Event{Type: protocol.EvServerRuns, Seq: a.listSeq, Message: "Cannot list the server's runs: server unreachable"}, nil)
	if got := a.SyncLine(); strings.Contains(got, "Auto-pushed") || !strings.Contains(got, "Server unreachable, retrying") {
		t.Fatalf("sync line while unreachable: %q", got)
	}
	if got := testid(t, render(t, &Page{App: a}), "sync-status"); !strings.Contains(got, "unreachable") {
		t.Fatalf("the panel shows %q", got)
	}
	if n := countLog(a, "unreachable"); n != 1 {
		t.Fatalf("%d log lines say unreachable, want 1: %+v", n, a.Log)
	}
	a.SetAutoPush(false)
	if got := a.SyncLine(); got != "Server unreachable." {
		t.Fatalf("sync line while unreachable, auto-push off: %q", got)
	}
	a.SetAutoPush(true)

	a.Apply(protocol.Event{Type: protocol.EvSynced, Synced: &protocol.Synced{
		Op: protocol.SyncAutoPush, Run: "circle-sgd-1", Head: "000000002400-dddddddd", Step: 2400, Sent: 1}}, nil)
	a.Apply(protocol.Event{Type: protocol.EvReach, Reach: &protocol.Reach{Reachable: true}}, nil)
	if got := a.SyncLine(); !strings.HasPrefix(got, "Auto-pushed step 2,400") {
		t.Fatalf("sync line once back: %q", got)
	}
	if n := countLog(a, "auto-push resumed"); n != 1 || countLog(a, "unreachable") != 1 {
		t.Fatalf("log once back: %+v", a.Log)
	}
}

func countLog(a *App, s string) int {
	n := 0
	for _, l := range a.Log {
		if strings.Contains(l.Text, s) {
			n++
		}
	}
	return n
}
