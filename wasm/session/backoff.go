package session

import "time"

// backoff is the syncer's schedule while the server does not answer: the
// first attempt that gets no answer waits first before the next, each
// further one twice as long, up to max. Any answer ends it. It is a plain
// value that the syncer owns (table tests in backoff_test.go).
type backoff struct {
	first, max time.Duration
	fails      int       // attempts in a row that got no answer
	next       time.Time // no attempt before this while fails > 0
}

// newBackoff returns the schedule of opt (New has set its defaults).
func newBackoff(opt Options) backoff {
	return backoff{first: opt.RetryFirst, max: opt.RetryMax}
}

// delay is the wait after the n-th attempt in a row that got no answer
// (n ≥ 1).
func (b backoff) delay(n int) time.Duration {
	d := b.first
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// failed records an attempt at now that got no answer. It returns the wait
// before the next attempt, and whether the server just went away (the
// first failure in a row).
func (b *backoff) failed(now time.Time) (wait time.Duration, first bool) {
	b.fails++
	wait = b.delay(b.fails)
	b.next = now.Add(wait)
	return wait, b.fails == 1
}

// answered records an answer, and reports whether the server was away
// until now.
func (b *backoff) answered() (back bool) {
	back = b.fails > 0
	b.fails, b.next = 0, time.Time{}
	return back
}

// wait is how long from now until the next attempt may go (0: now).
func (b backoff) wait(now time.Time) time.Duration {
	if b.fails == 0 {
		return 0
	}
	return max(0, b.next.Sub(now))
}
