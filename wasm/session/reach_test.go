//go:build !(js && wasm)

package session

// Natively only, as sync_test.go: the server goes away and comes back on
// the same address.

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"playground/persist/disk"
	"playground/server"
	"playground/wasm/protocol"
)

// flakyServer is a playground server on a fixed address that can stop
// and start again over the same store.
type flakyServer struct {
	t    *testing.T
	addr string
	h    http.Handler
	srv  *http.Server
}

func newFlakyServer(t *testing.T) (*flakyServer, *disk.Store) {
	st, err := disk.New(t.TempDir(), disk.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	opt := server.NewOptions()
	opt.Logger = nil
	f := &flakyServer{t: t, addr: "127.0.0.1:0", h: server.New(st, opt)}
	f.start()
	t.Cleanup(f.stop)
	return f, st
}

func (f *flakyServer) start() {
	var l net.Listener
	var err error
	for range 100 { // the address may linger a moment after a stop
		if l, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	f.addr = l.Addr().String()
	f.srv = &http.Server{Handler: f.h}
	go f.srv.Serve(l)
}

func (f *flakyServer) stop() { f.srv.Close() }

func (f *flakyServer) url() string { return "http://" + f.addr }

// since returns the events from index n on.
func (h *host) since(n int) []protocol.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events[n:])
}

// While the server is away auto-push says so once, holds the newest
// checkpoint and retries on the back-off schedule without a warning per
// attempt; when the server is back, auto-push resumes by itself and says
// so once.
func TestAutoPushBacksOff(t *testing.T) {
	srv, sst := newFlakyServer(t)
	on := true
	o := opts{server: srv.url()}
	o.opt.RetryFirst, o.opt.RetryMax = 20*time.Millisecond, 80*time.Millisecond
	a := newHost(t, o)
	a.send(protocol.Command{Type: protocol.CmdOpen, Preset: "gauss-nesterov", Autostart: true, PauseAt: u64(3000),
		Sync: &protocol.SyncSettings{AutoPush: &on}})
	ev, _ := a.wait(0, "paused at 3000", pausedAt(3000))
	run := ev.Status.Run
	a.wait(0, "auto-pushed 3000", syncedOp(protocol.SyncAutoPush, 3000))

	srv.stop()
	n := a.count()
	a.send(protocol.Command{Type: protocol.CmdSettings, PauseAt: u64(8000)})
	a.send(protocol.Command{Type: protocol.CmdResume})
	a.wait(n, "paused at 8000", pausedAt(8000))
	a.wait(n, "unreachable", func(ev protocol.Event) bool { return ev.Type == protocol.EvReach })
	time.Sleep(500 * time.Millisecond) // several retries (20, 40, 80, 80 … ms) find no server
	if _, step := serverHead(t, sst, run); step != 3000 {
		t.Fatalf("server head at step %d while it was away", step)
	}

	srv.start()
	back, _ := a.wait(n, "auto-pushed 8000", syncedOp(protocol.SyncAutoPush, 8000))
	if _, step := serverHead(t, sst, run); step != 8000 {
		t.Fatalf("server head at step %d, want 8000", step)
	}
	a.wait(n, "reachable again", func(ev protocol.Event) bool { return ev.Type == protocol.EvReach && ev.Reach.Reachable })

	var reach []protocol.Reach
	for _, ev := range a.since(n) {
		switch {
		case ev.Type == protocol.EvReach:
			reach = append(reach, *ev.Reach)
		case ev.Type == protocol.EvWarning || ev.Type == protocol.EvError:
			t.Errorf("%s while the server was away: %s", ev.Type, ev.Message)
		case ev.Type == protocol.EvSynced && ev.Synced.Step < 8000:
			t.Errorf("auto-pushed step %d: the held checkpoint is the newest only", ev.Synced.Step)
		}
	}
	if len(reach) != 2 || reach[0].Reachable || !reach[0].Retry || !strings.Contains(reach[0].Error, "connection refused") || !reach[1].Reachable {
		t.Fatalf("reach events %+v, want one unreachable (retrying) and one reachable", reach)
	}
	t.Logf("unreachable: %s; back with %+v", reach[0].Error, back.Synced)
}
