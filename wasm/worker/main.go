//go:build js && wasm

// Package worker is the engine worker's side of the page's wasm binary
// (wasm/playground): the training session of wasm/session, running in a
// dedicated Web Worker, checkpointing to IndexedDB (persist/idb), hashing
// with WebCrypto and holding one Web Lock per run it writes. web/worker.js
// starts it and provides the small JS bridge `self.pg` it uses (message
// queue, yield, digest, locks).
//
// The same binary also runs as the "writer" worker, which the engine
// worker starts: the engine's Store reads IndexedDB itself but hands each
// Put (a whole checkpoint) to the writer, so serializing it into
// IndexedDB costs the training thread only one copy.
package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"syscall/js"

	"playground/engine"
	"playground/engine/workload"
	"playground/internal/jspromise"
	"playground/persist/idb"
	"playground/persist/mem"
	"playground/spec"
	"playground/wasm/protocol"
	"playground/wasm/session"
)

const lockPrefix = "playground-run:"

var (
	uint8Array = js.Global().Get("Uint8Array")
	bridge     = js.Global().Get("pg")
)

// Engine runs the engine worker until the page goes away.
func Engine() {
	ctx := context.Background()
	inbox := session.NewInbox()
	// Collect less often: every collection stops the only thread, training
	// included, and a browser tab can spare the memory.
	debug.SetGCPercent(400)

	// Callbacks only queue work: a goroutine does it (a blocked callback
	// would stall the worker's event loop).
	bridge.Set("handler", js.FuncOf(func(_ js.Value, args []js.Value) any {
		inbox.Push(decode(args[0]))
		return nil
	}))
	queued := bridge.Get("queue")
	for i := range queued.Length() {
		inbox.Push(decode(queued.Index(i)))
	}
	bridge.Set("queue", js.Global().Get("Array").New())
	bridge.Set("lost", js.FuncOf(func(_ js.Value, args []js.Value) any {
		inbox.Push(session.Input{Lost: strings.TrimPrefix(args[0].String(), lockPrefix)})
		return nil
	}))
	resumed := make(chan struct{}, 1)
	bridge.Set("resume", js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case resumed <- struct{}{}:
		default:
		}
		return nil
	}))

	benchHook()

	env := session.Env{
		Emit: post,
		Sum:  webSum,
		Yield: func() {
			bridge.Call("yield")
			<-resumed
		},
		IsQuota: func(err error) bool { return errors.Is(err, idb.ErrQuota) },
		Server:  serverURL(),
	}
	off := storage(ctx, &env)
	s := session.New(env, session.NewOptions(), inbox)
	post(protocol.Event{Type: protocol.EvReady, Presets: spec.PresetNames(), StorageOff: off}, nil)
	s.Run(ctx)
}

// storage gives env its store, locks and memo: IndexedDB, Web Locks and
// the worker's memo database, or, where the browser refuses storage (a
// cross-site iframe with third-party storage blocked, some private modes),
// a store in memory and no locks (the run lives in this tab only). It
// returns why checkpoints are off, "" when they are kept.
func storage(ctx context.Context, env *session.Env) string {
	store, err := idb.Open(ctx, idb.NewOptions())
	if err != nil {
		m := mem.New()
		env.Store, env.Data = m, m
		return fmt.Sprintf("this page cannot use the browser's storage here (%v), so the run trains in memory and is lost when the tab closes", err)
	}
	env.Store, env.Locks, env.Memo = offloadStore{store}, webLocks{}, webMemo{}
	env.Data = store // datasets are read and written here, not in the writer
	return ""
}

// serverURL is the sync server's base URL: the origin the page came from
// (its checkpoint API is at /api), "" when it has none (a file: page).
func serverURL() string {
	o := js.Global().Get("location").Get("origin")
	if o.Type() != js.TypeString || !strings.HasPrefix(o.String(), "http") {
		return ""
	}
	return o.String()
}

// decode turns a message {json, bytes?} into a session input.
func decode(msg js.Value) session.Input {
	if msg.Type() != js.TypeObject || msg.Get("json").Type() != js.TypeString {
		return session.Input{Err: fmt.Errorf("%w: message is not {json, bytes}", protocol.ErrProtocol)}
	}
	c, err := protocol.DecodeCommand([]byte(msg.Get("json").String()))
	if err != nil {
		return session.Input{Err: err}
	}
	in := session.Input{Cmd: c}
	if b := msg.Get("bytes"); b.Truthy() {
		if !b.InstanceOf(uint8Array) {
			return session.Input{Err: fmt.Errorf("%w: bytes is not a Uint8Array", protocol.ErrProtocol)}
		}
		in.Data = make([]byte, b.Length())
		js.CopyBytesToGo(in.Data, b)
	}
	return in
}

// post sends an event, transferring the file's buffer when there is one.
func post(ev protocol.Event, data []byte) {
	msg := js.Global().Get("Object").New()
	msg.Set("json", string(protocol.Encode(ev)))
	if data == nil {
		js.Global().Call("postMessage", msg)
		return
	}
	u := uint8Array.New(len(data))
	js.CopyBytesToJS(u, data)
	msg.Set("bytes", u)
	js.Global().Call("postMessage", msg, []any{u.Get("buffer")})
}

// hashBuf is reused across saves: digest copies its input when called.
var hashBuf = js.Undefined()

// webSum hashes with WebCrypto, off the training thread: only the copy
// into JS happens here.
func webSum(header, data []byte) ([]byte, error) {
	n := len(header) + len(data)
	if hashBuf.IsUndefined() || hashBuf.Length() != n {
		hashBuf = uint8Array.New(n)
	}
	u := hashBuf
	js.CopyBytesToJS(u, header)
	js.CopyBytesToJS(u.Call("subarray", len(header)), data)
	v, err := jspromise.Await(bridge.Call("digest", u))
	if err != nil {
		return nil, fmt.Errorf("webcrypto: %w", err)
	}
	out := make([]byte, v.Length())
	js.CopyBytesToGo(out, v)
	return out, nil
}

// webLocks is session.Locker on the Web Locks API (via the bridge).
type webLocks struct{}

func (webLocks) Acquire(_ context.Context, run string, steal bool) (bool, error) {
	v, err := jspromise.Await(bridge.Call("lock", lockPrefix+run, steal))
	if err != nil {
		return false, err
	}
	return v.Bool(), nil
}

func (webLocks) Release(run string) { bridge.Call("unlock", lockPrefix+run) }

// webMemo is session.Memo on the worker's own IndexedDB database (via the
// bridge).
type webMemo struct{}

func (webMemo) Load(context.Context) ([]byte, error) {
	v, err := jspromise.Await(bridge.Call("memoGet"))
	if err != nil {
		return nil, fmt.Errorf("memo: %w", err)
	}
	return []byte(v.String()), nil
}

func (webMemo) Save(_ context.Context, b []byte) error {
	if _, err := jspromise.Await(bridge.Call("memoPut", string(b))); err != nil {
		return fmt.Errorf("memo: %w", err)
	}
	return nil
}

// benchHook sets pg.bench(workload, seconds), which times a workload of
// make bench (W1-W3) in this worker, on the engine's kernels as the page
// runs them, and answers {workload, steps, seconds, simd}; for make
// bench-browser (web/test/bench.mjs), on a page that is not training.
func benchHook() {
	var b workload.Bench
	bridge.Set("bench", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 2 || args[0].Type() != js.TypeString || args[1].Type() != js.TypeNumber {
			return map[string]any{"error": "usage: pg.bench(workload, seconds)"}
		}
		w := args[0].String()
		if _, ok := workload.All[w]; !ok {
			return map[string]any{"error": fmt.Sprintf("unknown workload %q", w)}
		}
		steps, secs := b.Run(w, args[1].Float())
		return map[string]any{"workload": w, "steps": steps, "seconds": secs, "flops": workload.All[w].Flops, "simd": engine.SIMD()}
	}))
}
