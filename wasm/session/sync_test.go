//go:build !(js && wasm)

package session

// Natively only: under Node, httptest listens on Go's in-memory network,
// which the js transport of persist/remote (fetch) cannot reach. The
// browser round trip (web/test/sync.test.mjs) tests that transport.

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"playground/persist"
	"playground/persist/remote"
	"playground/persist/storetest"
	"playground/server"
	"playground/wasm/protocol"
)

// syncServer is a playground server over a fresh disk store.
func syncServer(t *testing.T, token string) (*httptest.Server, persist.Store) {
	t.Helper()
	st := storetest.Disk(t)
	opt := server.NewOptions()
	opt.Token = token
	opt.Logger = nil
	srv := httptest.NewServer(server.New(st, opt))
	t.Cleanup(srv.Close)
	return srv, st
}

func syncedOp(op string, step uint64) func(protocol.Event) bool {
	return func(ev protocol.Event) bool {
		return ev.Type == protocol.EvSynced && ev.Synced.Op == op && ev.Synced.Step == step
	}
}

func isError(ev protocol.Event) bool { return ev.Type == protocol.EvError }

// serverHead is the server's head of run and its step.
func serverHead(t *testing.T, st persist.Store, run string) (string, uint64) {
	t.Helper()
	h, err := st.Head(t.Context(), run)
	if err != nil {
		t.Fatal(err)
	}
	step, _ := persist.StepOfID(h)
	return h, step
}

// Two browsers (two stores) hand one run back and forth through the
// server: A trains to 1,000 and pushes; B pulls, trains to 3,000 and
// pushes; A pulls and trains to 4,000. The state equals an uninterrupted
// run, and A's stale copy cannot move the server's head back.
func TestPushPullRoundTrip(t *testing.T) {
	srv, sst := syncServer(t, "")
	a := newHost(t, opts{server: srv.URL})
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "spiral-adam", Autostart: true, PauseAt: u64(1000)})
	ev, _ := a.wait(0, "A paused at 1000", pausedAt(1000))
	run := ev.Status.Run
	if ev.Status.Server != srv.URL || ev.Status.AutoPush {
		t.Fatalf("status server %q autopush %v", ev.Status.Server, ev.Status.AutoPush)
	}
	p := a.do(protocol.Command{Type: protocol.CmdPush}, "A pushed", syncedOp(protocol.SyncPush, 1000))
	if p.Synced.Run != run || p.Synced.Sent < 2 || p.Synced.URL != srv.URL+"/api/runs/"+run {
		t.Fatalf("push: %+v", p.Synced)
	}
	if h, step := serverHead(t, sst, run); h != p.Synced.Head || step != 1000 {
		t.Fatalf("server head %s (step %d), push said %s", h, step, p.Synced.Head)
	}

	l := a.do(protocol.Command{Type: protocol.CmdServerRuns}, "server runs", isType(protocol.EvServerRuns))
	if len(l.ServerRuns) != 1 || l.ServerRuns[0].Run != run || l.ServerRuns[0].Step != 1000 || l.ServerRuns[0].Head != p.Synced.Head {
		t.Fatalf("server runs %+v", l.ServerRuns)
	}

	b := newHost(t, opts{server: srv.URL})
	b.send(protocol.Command{Type: protocol.CmdOpen})
	b.wait(0, "B idle", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Phase == protocol.PhaseIdle
	})
	b.send(protocol.Command{Type: protocol.CmdPull, Run: run})
	if ev, _ := b.wait(0, "B pulled", syncedOp(protocol.SyncPull, 1000)); ev.Synced.Kept || ev.Synced.LocalStep != 1000 {
		t.Fatalf("B pull: %+v", ev.Synced)
	}
	ev, _ = b.wait(0, "B paused at 1000", pausedAt(1000))
	if ev.Status.Run != run || ev.Status.Fingerprint != nativeFingerprint(t, "spiral-adam", 1000) {
		t.Fatalf("B after pull: %+v", ev.Status)
	}
	b.trainTo(3000, "B paused at 3000")
	b.do(protocol.Command{Type: protocol.CmdPush}, "B pushed", syncedOp(protocol.SyncPush, 3000))

	// A trains on from its stale 1,000 meanwhile and pushes: training is
	// deterministic, so its step 1,010 is the run's step 1,010 and is
	// stored, but the server's head stays at B's 3,000.
	a.do(protocol.Command{Type: protocol.CmdStep, Steps: 10}, "A paused at 1010", pausedAt(1010))
	if ev := a.do(protocol.Command{Type: protocol.CmdPush}, "A pushed 1010", syncedOp(protocol.SyncPush, 3000)); ev.Synced.Sent != 1 {
		t.Errorf("A's push of step 1,010: %+v", ev.Synced)
	}
	if _, step := serverHead(t, sst, run); step != 3000 {
		t.Fatalf("server head at step %d after pushing an older step", step)
	}

	// A pulls B's 3,000 and goes on to 4,000.
	n := a.count()
	a.send(protocol.Command{Type: protocol.CmdPull})
	a.wait(n, "A pulled", syncedOp(protocol.SyncPull, 3000))
	a.wait(n, "A paused at 3000", pausedAt(3000))
	ev = a.trainTo(4000, "A paused at 4000")
	if want := nativeFingerprint(t, "spiral-adam", 4000); ev.Status.Fingerprint != want {
		t.Fatalf("fingerprint at 4000 after the round trip %s, want %s", ev.Status.Fingerprint, want)
	}
}

// A local copy ahead of the server's is kept on pull.
func TestPullKeepsNewerLocal(t *testing.T) {
	srv, _ := syncServer(t, "")
	a, run := pushed500(t, srv.URL)
	a.do(protocol.Command{Type: protocol.CmdStep, Steps: 200}, "paused at 700", pausedAt(700))
	n := a.count()
	a.send(protocol.Command{Type: protocol.CmdPull, Run: run})
	sy, _ := a.wait(n, "pulled", syncedOp(protocol.SyncPull, 500))
	if !sy.Synced.Kept || sy.Synced.LocalStep != 700 {
		t.Fatalf("pull over a newer local copy: %+v", sy.Synced)
	}
	ev, _ := a.wait(n, "paused at 700 again", pausedAt(700))
	if want := nativeFingerprint(t, "xor-momentum", 700); ev.Status.Fingerprint != want {
		t.Fatalf("fingerprint %s, want %s", ev.Status.Fingerprint, want)
	}
	if ws := a.of(protocol.EvWarning); len(ws) == 0 || !strings.Contains(ws[len(ws)-1].Message, "ahead of the server's (step 500) and was kept") {
		t.Errorf("warnings %v", ws)
	}
}

// A server head that verifies but does not restore (written before the
// server refused such files, say) is passed over: the pull continues from
// the newest usable checkpoint before it, and says so.
func TestPullSkipsUnrestorableHead(t *testing.T) {
	srv, sst := syncServer(t, "")
	_, run := pushed500(t, srv.URL)
	head, _ := serverHead(t, sst, run)
	good, err := persist.ReadAll(t.Context(), sst, run, head)
	if err != nil {
		t.Fatal(err)
	}
	bad := storetest.Unrestorable(t, good)["empty-rng"]
	if err := sst.Put(t.Context(), run, head, bytes.NewReader(bad), persist.PutOptions{SetHead: true}); err != nil {
		t.Fatal(err)
	}

	b := newHost(t, opts{server: srv.URL})
	b.send(protocol.Command{Type: protocol.CmdOpen})
	b.wait(0, "B idle", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvStatus && ev.Status.Phase == protocol.PhaseIdle
	})
	b.send(protocol.Command{Type: protocol.CmdPull, Run: run})
	sy, _ := b.wait(0, "B pulled", isType(protocol.EvSynced))
	from := sy.Synced.Step
	if from >= 500 || sy.Synced.Head == head {
		t.Fatalf("pulled %+v, want a checkpoint before the unusable head %s", sy.Synced, head)
	}
	ev, _ := b.wait(0, "B paused where it pulled", pausedAt(from))
	if want := nativeFingerprint(t, "xor-momentum", from); ev.Status.Fingerprint != want {
		t.Fatalf("fingerprint at %d: %s, want %s", from, ev.Status.Fingerprint, want)
	}
	if ws := b.of(protocol.EvWarning); len(ws) == 0 || !strings.Contains(ws[0].Message, "is not usable here") {
		t.Errorf("warnings %v", ws)
	}
}

// Auto-push sends each save, moves the server's head, keeps only the
// last few autosaves there, and stops when another writer moves the head.
func TestAutoPush(t *testing.T) {
	srv, sst := syncServer(t, "")
	on := true
	a := newHost(t, opts{server: srv.URL})
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "gauss-nesterov", Autostart: true, PauseAt: u64(9500),
		Sync: &protocol.SyncSettings{AutoPush: &on}})
	ev, _ := a.wait(0, "paused at 9500", pausedAt(9500))
	run := ev.Status.Run
	if !ev.Status.AutoPush {
		t.Error("status does not say auto-push is on")
	}
	a.wait(0, "auto-pushed 9500", syncedOp(protocol.SyncAutoPush, 9500))
	if _, step := serverHead(t, sst, run); step != 9500 {
		t.Fatalf("server head at step %d, want 9500", step)
	}
	// The milestone at 0 and the last 5 autosaves pushed (6,000 … 9,500
	// unless some were coalesced away), not all 11.
	if steps := storedSteps(t, sst, run); len(steps) > 6 || steps[0] != 0 || steps[len(steps)-1] != 9500 {
		t.Errorf("server holds checkpoints at %v", steps)
	}

	// Another writer moves the server's head: the next auto-push stops.
	rs, _ := remote.New(srv.URL, remote.NewOptions())
	head, _ := serverHead(t, sst, run)
	b, err := persist.ReadAll(t.Context(), sst, run, head)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := persist.Decode(b)
	c.ID, c.Parent = persist.NewID(9500), head
	other, err := persist.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Put(t.Context(), run, c.ID, strings.NewReader(string(other)), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: head}); err != nil {
		t.Fatal(err)
	}
	n := a.count()
	a.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(10500)})
	a.send(protocol.Command{Type: protocol.CmdResume})
	a.wait(n, "paused at 10500", pausedAt(10500))
	w, _ := a.wait(n, "auto-push stopped", func(ev protocol.Event) bool {
		return ev.Type == protocol.EvWarning && strings.Contains(ev.Message, "auto-push of run "+run+" stopped")
	})
	if !strings.Contains(w.Message, c.ID) {
		t.Errorf("warning %q does not name the new head %s", w.Message, c.ID)
	}
	if h, _ := serverHead(t, sst, run); h != c.ID {
		t.Fatalf("server head %s, want the other writer's %s", h, c.ID)
	}
}

// A reload does not leave the autosaves auto-pushed before it on the
// server: the next session's retention counts them (it once knew only
// those it sent itself, so each reload left up to Keep behind for good).
func TestAutoPushRetainsAcrossReload(t *testing.T) {
	srv, sst := syncServer(t, "")
	st := storetest.Disk(t)
	on := true
	a := newHost(t, opts{store: st, server: srv.URL})
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "gauss-nesterov", Autostart: true, PauseAt: u64(5500),
		Sync: &protocol.SyncSettings{AutoPush: &on}})
	ev, _ := a.wait(0, "paused at 5500", pausedAt(5500))
	run := ev.Status.Run
	a.wait(0, "auto-pushed 5500", syncedOp(protocol.SyncAutoPush, 5500))
	before := storedSteps(t, sst, run)
	a.stop()

	b := newHost(t, opts{store: st, server: srv.URL})
	b.send(protocol.Command{Type: protocol.CmdOpen, Run: run, Sync: &protocol.SyncSettings{AutoPush: &on}})
	b.wait(0, "reopened at 5500", pausedAt(5500))
	b.trainTo(12500, "paused at 12500")
	b.wait(0, "auto-pushed 12500", syncedOp(protocol.SyncAutoPush, 12500))
	// As one session would have left it: the milestone at 0 and the last
	// autosaves (at most 5) up to 12,500, none of those from before the
	// reload (the local store has deleted them by then).
	steps := storedSteps(t, sst, run)
	if len(steps) > 6 || steps[0] != 0 || steps[len(steps)-1] != 12500 {
		t.Errorf("server holds checkpoints at %v (before the reload %v)", steps, before)
	}
}

// A server that wants a token refuses the page until it has one; without
// a server, push and pull say so.
func TestSyncTokenAndNoServer(t *testing.T) {
	srv, _ := syncServer(t, "s3cret")
	a := newHost(t, opts{server: srv.URL})
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "xor-momentum", Autostart: true, PauseAt: u64(100)})
	a.wait(0, "paused at 100", pausedAt(100))
	if e := a.do(protocol.Command{Type: protocol.CmdPush}, "refused", isError); !strings.Contains(e.Message, "401") {
		t.Errorf("push without a token: %q", e.Message)
	}
	tok := "s3cret"
	n := a.count()
	a.send(protocol.Command{Type: protocol.CmdSettings, Sync: &protocol.SyncSettings{Token: &tok}})
	a.send(protocol.Command{Type: protocol.CmdPush})
	a.wait(n, "pushed with the token", syncedOp(protocol.SyncPush, 100))

	c := newHost(t, opts{})
	c.send(protocol.Command{Type: protocol.CmdOpen, Preset: "xor-momentum", Autostart: true, PauseAt: u64(10)})
	c.wait(0, "paused at 10", pausedAt(10))
	if l := c.do(protocol.Command{Type: protocol.CmdServerRuns}, "no server runs", isType(protocol.EvServerRuns)); l.ServerRuns != nil || !strings.Contains(l.Message, "no server") {
		t.Errorf("server runs without a server: %+v", l)
	}
	// A server without the API (a static host of the page).
	static := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(static.Close)
	d := newHost(t, opts{server: static.URL})
	d.send(protocol.Command{Type: protocol.CmdServerRuns})
	if l, _ := d.wait(0, "no API", isType(protocol.EvServerRuns)); l.ServerRuns != nil || !strings.Contains(l.Message, "has no checkpoint API") {
		t.Errorf("server runs of a static host: %+v", l)
	}
	for _, typ := range []string{protocol.CmdPush, protocol.CmdPull} {
		if e := c.do(protocol.Command{Type: typ}, typ+" refused", isError); !strings.Contains(e.Message, "no server") {
			t.Errorf("%s without a server: %q", typ, e.Message)
		}
	}
}

// pushed500 opens xor-momentum on a host syncing with server, trains it
// to step 500 and pushes it; it returns the host and the run.
func pushed500(t *testing.T, server string) (*host, string) {
	t.Helper()
	a := newHost(t, opts{server: server})
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "xor-momentum", Autostart: true, PauseAt: u64(500)})
	ev, _ := a.wait(0, "paused at 500", pausedAt(500))
	a.do(protocol.Command{Type: protocol.CmdPush}, "pushed", syncedOp(protocol.SyncPush, 500))
	return a, ev.Status.Run
}

// trainTo trains on until step and returns the paused status.
func (h *host) trainTo(step uint64, what string) protocol.Event {
	h.t.Helper()
	n := h.count()
	h.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(step)})
	h.send(protocol.Command{Type: protocol.CmdResume})
	ev, _ := h.wait(n, what, pausedAt(step))
	return ev
}
