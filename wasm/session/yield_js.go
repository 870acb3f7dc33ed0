//go:build js

package session

import "time"

// defaultYield lets the JavaScript event loop run (Node's file callbacks,
// for the tests under Node): Go returns to it only when every goroutine
// sleeps. The worker passes a faster yield of its own.
func defaultYield() { time.Sleep(time.Millisecond) }
