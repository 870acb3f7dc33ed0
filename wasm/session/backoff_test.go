package session

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"playground/persist/remote"
)

// The back-off schedule: 1 s after the first attempt that gets no answer,
// doubling to 60 s, and back to no wait after an answer.
func TestBackoff(t *testing.T) {
	s := time.Second
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		answer bool          // the attempt got an answer
		at     time.Duration // when it went, after t0
		wait   time.Duration // then: the wait before the next attempt
		change bool          // first failure in a row, or the first answer after failures
	}{
		{"answered", true, 0, 0, false},
		{"1st failure", false, 0, 1 * s, true},
		{"2nd", false, 1 * s, 2 * s, false},
		{"3rd", false, 3 * s, 4 * s, false},
		{"4th", false, 7 * s, 8 * s, false},
		{"5th", false, 15 * s, 16 * s, false},
		{"6th", false, 31 * s, 32 * s, false},
		{"7th: capped", false, 63 * s, 60 * s, false},
		{"8th: capped", false, 123 * s, 60 * s, false},
		{"answer: back", true, 183 * s, 0, true},
		{"answer again", true, 184 * s, 0, false},
		{"failure: a new row", false, 185 * s, 1 * s, true},
		{"2nd of the new row", false, 186 * s, 2 * s, false},
	}
	b := newBackoff(NewOptions())
	for _, tt := range tests {
		now := t0.Add(tt.at)
		var change bool
		if tt.answer {
			change = b.answered()
		} else {
			var wait time.Duration
			wait, change = b.failed(now)
			if wait != tt.wait {
				t.Errorf("%s: failed returned a wait of %v, want %v", tt.name, wait, tt.wait)
			}
		}
		if change != tt.change {
			t.Errorf("%s: change of state %v, want %v", tt.name, change, tt.change)
		}
		if got := b.wait(now); got != tt.wait {
			t.Errorf("%s: wait right after = %v, want %v", tt.name, got, tt.wait)
		}
		if got := b.wait(now.Add(tt.wait / 2)); got != tt.wait-tt.wait/2 {
			t.Errorf("%s: wait halfway = %v, want %v", tt.name, got, tt.wait-tt.wait/2)
		}
		if got := b.wait(now.Add(tt.wait + s)); got != 0 {
			t.Errorf("%s: wait once due = %v, want 0", tt.name, got)
		}
	}
}

// delay(n) for every n: doubling from first, never above max, whatever
// the limits.
func TestBackoffDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		first, max time.Duration
		want       []time.Duration // delay(1), delay(2), …
	}{
		{time.Second, time.Minute, []time.Duration{1000 * ms, 2000 * ms, 4000 * ms, 8000 * ms, 16000 * ms, 32000 * ms, 60000 * ms, 60000 * ms}},
		{10 * ms, 50 * ms, []time.Duration{10 * ms, 20 * ms, 40 * ms, 50 * ms, 50 * ms}},
		{30 * ms, 20 * ms, []time.Duration{20 * ms, 20 * ms}},
	}
	for _, tt := range tests {
		b := backoff{first: tt.first, max: tt.max}
		for i, want := range tt.want {
			if got := b.delay(i + 1); got != want {
				t.Errorf("first %v max %v: delay(%d) = %v, want %v", tt.first, tt.max, i+1, got, want)
			}
		}
		if got := b.delay(1000); got != tt.max {
			t.Errorf("first %v max %v: delay(1000) = %v", tt.first, tt.max, got)
		}
	}
}

// The page hears why a request got no answer, without the request.
func TestUnansweredCause(t *testing.T) {
	unreachable := func(wrap, method, url, cause string) error {
		return fmt.Errorf(wrap+": %w", &remote.UnreachableError{Method: method, URL: url, Err: errors.New(cause)})
	}
	tests := []struct {
		err  error
		want string
	}{
		{unreachable("remote: put r/1", "PUT", "http://h/api/x", "JavaScript error: Failed to fetch"), "Failed to fetch"},
		{unreachable("remote: head r", "GET", "http://h/api/y", `Get "http://h/api/y": dial tcp: connection refused`), `Get "http://h/api/y": dial tcp: connection refused`},
		{errors.New(`something else`), "something else"},
	}
	for _, tt := range tests {
		if got := unansweredCause(tt.err); got != tt.want {
			t.Errorf("unansweredCause(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
	// The message as remote words it.
	if got := tests[0].err.Error(); got != `remote: put r/1: PUT http://h/api/x: server unreachable (JavaScript error: Failed to fetch)` {
		t.Errorf("message %q", got)
	}
}
