//go:build js && wasm

// Package jspromise waits for JavaScript promises from Go.
package jspromise

import "syscall/js"

// Await blocks the calling goroutine until p settles and returns its value,
// or its rejection as a js.Error. Call it from a goroutine, never from a
// js.FuncOf callback: the callback would block the event loop that has to
// settle p.
func Await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	then := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{v: a[0]}
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{err: js.Error{Value: a[0]}}
		return nil
	})
	p.Call("then", then, catch)
	r := <-ch
	then.Release()
	catch.Release()
	return r.v, r.err
}
