package mem_test

import (
	"bytes"
	"errors"
	"testing"

	"playground/persist"
	"playground/persist/mem"
	"playground/persist/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) persist.Store { return mem.New() })
}

func TestDataConformance(t *testing.T) {
	storetest.RunData(t, func(*testing.T) persist.DataStore { return mem.New() })
}

// MoveHead moves the head only to a checkpoint the store holds, and only
// from the head the caller names.
func TestMoveHead(t *testing.T) {
	ctx := t.Context()
	s := mem.New()
	const a, b = "000000000001-aaaaaaaa", "000000000002-bbbbbbbb"
	for _, id := range []string{a, b} {
		if err := s.Put(ctx, "run", id, bytes.NewReader([]byte(id)), persist.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MoveHead(ctx, "run", "000000000003-cccccccc", persist.PutOptions{}); !errors.Is(err, persist.ErrNotExist) {
		t.Fatalf("move to a missing checkpoint: %v", err)
	}
	if err := s.MoveHead(ctx, "run", a, persist.PutOptions{CheckHead: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveHead(ctx, "run", b, persist.PutOptions{CheckHead: true, IfHead: b}); !errors.Is(err, persist.ErrHeadMoved) {
		t.Fatalf("move from a stale head: %v", err)
	}
	if h, err := s.Head(ctx, "run"); err != nil || h != a {
		t.Fatalf("head %q %v, want %s", h, err, a)
	}
}
