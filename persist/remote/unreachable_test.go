//go:build !js

package remote_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"playground/persist"
	"playground/persist/remote"
	"playground/server"
)

// A request that gets no answer is ErrUnreachable; one the server answers,
// even with an error, is not; nor is one its caller canceled.
func TestUnreachable(t *testing.T) {
	opt := server.NewOptions()
	opt.Logger = nil
	up, _ := newRemote(t, opt)
	if _, err := up.Head(t.Context(), "nosuchrun"); !errors.Is(err, persist.ErrNotExist) || errors.Is(err, remote.ErrUnreachable) {
		t.Fatalf("an answered 404: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	down, err := remote.New("http://"+addr, remote.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = down.Head(t.Context(), "run")
	if !errors.Is(err, remote.ErrUnreachable) {
		t.Fatalf("no server: %v, want ErrUnreachable", err)
	}
	t.Log(err)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := down.Head(ctx, "run"); errors.Is(err, remote.ErrUnreachable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}
