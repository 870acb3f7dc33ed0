package session

import (
	"sync"

	"playground/wasm/protocol"
)

// Input is one thing the session loop handles: a command from the page,
// a lost lock, or (internally) a report of the writer or the syncer.
type Input struct {
	Cmd  protocol.Command
	Data []byte // the message's bytes (CmdImport)
	Lost string // another tab took the writer lock of this run
	Err  error  // a message that did not decode: reported, then dropped

	res any // internal: a report of the writer or the syncer
}

// queue is an unbounded FIFO whose Push never blocks, so a JS callback can
// hand work to a goroutine without waiting.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	notify chan struct{}
}

func newQueue[T any]() *queue[T] { return &queue[T]{notify: make(chan struct{}, 1)} }

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *queue[T]) take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// Inbox is the session's input queue.
type Inbox struct{ q *queue[Input] }

// NewInbox returns an empty inbox.
func NewInbox() *Inbox { return &Inbox{q: newQueue[Input]()} }

// Push queues an input; it never blocks.
func (b *Inbox) Push(in Input) { b.q.push(in) }
