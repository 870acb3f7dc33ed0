//go:build !(js && wasm)

package session

import (
	"strings"
	"testing"

	"playground/persist"
	"playground/wasm/protocol"
)

// A page pushes a run on custom data: the server gets the dataset before
// the checkpoints. Another page, which lacks the data, pulls the run: it
// fetches the dataset from the server and continues the same state.
func TestCSVRunThroughServer(t *testing.T) {
	srv, st := syncServer(t, "")
	a := newHost(t, opts{server: srv.URL, data: &memData{}})
	ds, paused := trainCSV(t, a, csv4x3(60), 250)
	run := paused.Status.Run
	a.send(protocol.Command{Type: protocol.CmdPush})
	a.wait(0, "pushed", syncedOp(protocol.SyncPush, 250))
	if ok, err := st.(persist.DataStore).HasData(t.Context(), ds.SHA256); err != nil || !ok {
		t.Fatalf("the server lacks the dataset: %v %v", ok, err)
	}

	data := &memData{}
	b := newHost(t, opts{server: srv.URL, data: data})
	b.send(protocol.Command{Type: protocol.CmdPull, Run: run})
	got, _ := b.wait(0, "pulled and paused", pausedAt(250))
	if got.Status.Fingerprint != paused.Status.Fingerprint {
		t.Fatalf("pulled %s, pushed %s", got.Status.Fingerprint, paused.Status.Fingerprint)
	}
	if n := data.names(); len(n) != 1 || !strings.EqualFold(n[0], ds.SHA256) {
		t.Errorf("the dataset was not kept: %v", n)
	}
}
