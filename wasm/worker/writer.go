//go:build js && wasm

package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall/js"

	"playground/internal/jspromise"
	"playground/persist"
	"playground/persist/idb"
)

// offloadStore is the engine's Store: reads on its own connection, writes
// (Put, Delete) in the writer worker (the same idb.Store code there).
type offloadStore struct{ *idb.Store }

// Put sends the checkpoint to the writer worker (transferred, not copied
// again) and waits for its commit; without a writer it writes itself.
func (s offloadStore) Put(ctx context.Context, run, id string, r io.Reader, opt persist.PutOptions) error {
	if err := persist.CheckIDs(run, id); err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	if opt.CheckHead && opt.IfHead != "" && !persist.ValidID(opt.IfHead) {
		return fmt.Errorf("idb: if-head: %w", persist.CheckIDs(opt.IfHead))
	}
	var b []byte
	if buf, ok := r.(*bytes.Buffer); ok {
		b = buf.Bytes()
	} else {
		var err error
		if b, err = io.ReadAll(r); err != nil {
			return fmt.Errorf("idb: put %s/%s: %w", run, id, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	u := uint8Array.New(len(b))
	js.CopyBytesToJS(u, b)
	err := remote(map[string]any{
		"op": "put", "run": run, "id": id, "setHead": opt.SetHead, "checkHead": opt.CheckHead, "ifHead": opt.IfHead,
	}, u)
	if errors.Is(err, errNoWriter) {
		return s.Store.Put(ctx, run, id, bytes.NewBuffer(b), opt)
	}
	return err
}

// Delete runs in the writer worker too, so the engine's writes stay in
// order and off its thread.
func (s offloadStore) Delete(ctx context.Context, run, id string) error {
	if err := persist.CheckIDs(run, id); err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	err := remote(map[string]any{"op": "delete", "run": run, "id": id}, js.Null())
	if errors.Is(err, errNoWriter) {
		return s.Store.Delete(ctx, run, id)
	}
	return err
}

var errNoWriter = errors.New("no writer worker")

// remote runs one write in the writer worker and maps its answer back to
// the errors callers test for.
func remote(req map[string]any, data js.Value) error {
	v, err := jspromise.Await(bridge.Call("putRemote", js.ValueOf(req), data))
	if err != nil {
		return fmt.Errorf("idb: writer: %w", err)
	}
	msg := v.Get("message")
	switch kind := v.Get("kind").String(); kind {
	case "":
		return nil
	case "unavailable":
		return errNoWriter
	case "headMoved":
		return fmt.Errorf("%w (%s)", persist.ErrHeadMoved, msg.String())
	case "quota":
		return fmt.Errorf("%w (%s)", idb.ErrQuota, msg.String())
	case "notExist":
		return fmt.Errorf("%w (%s)", persist.ErrNotExist, msg.String())
	default:
		return errors.New(msg.String())
	}
}

// Writer is the writer worker: it runs the writes the engine sends, one
// at a time, in order, and answers {id, kind, message}.
func Writer() {
	ctx := context.Background()
	type request struct {
		id  js.Value
		req js.Value
		b   []byte
	}
	// The engine awaits each Put, so one request is in flight at a time; the
	// buffer only absorbs a restart's stragglers. Never block a callback.
	reqs := make(chan request, 64)
	bridge.Set("handler", js.FuncOf(func(_ js.Value, args []js.Value) any {
		m := args[0]
		var b []byte
		if u := m.Get("bytes"); u.Truthy() {
			b = make([]byte, u.Length())
			js.CopyBytesToGo(b, u)
		}
		select {
		case reqs <- request{id: m.Get("id"), req: m.Get("request"), b: b}:
		default:
			js.Global().Call("postMessage", map[string]any{"id": m.Get("id"), "kind": "error", "message": "writer queue full"})
		}
		return nil
	}))
	store, err := idb.Open(ctx, idb.NewOptions())
	if err != nil {
		js.Global().Call("postMessage", "failed")
		return
	}
	queued := bridge.Get("queue")
	for i := range queued.Length() {
		bridge.Get("handler").Invoke(queued.Index(i))
	}
	js.Global().Call("postMessage", "ready")
	for r := range reqs {
		q := r.req
		run, id := q.Get("run").String(), q.Get("id").String()
		var err error
		if q.Get("op").String() == "delete" {
			err = store.Delete(ctx, run, id)
		} else {
			err = store.Put(ctx, run, id, bytes.NewBuffer(r.b), persist.PutOptions{
				SetHead: q.Get("setHead").Bool(), CheckHead: q.Get("checkHead").Bool(), IfHead: q.Get("ifHead").String(),
			})
		}
		kind, msg := "", ""
		switch {
		case err == nil:
		case errors.Is(err, persist.ErrNotExist):
			kind, msg = "notExist", err.Error()
		case errors.Is(err, persist.ErrHeadMoved):
			kind, msg = "headMoved", err.Error()
		case errors.Is(err, idb.ErrQuota):
			kind, msg = "quota", err.Error()
		default:
			kind, msg = "error", err.Error()
		}
		js.Global().Call("postMessage", map[string]any{"id": r.id, "kind": kind, "message": msg})
	}
}
