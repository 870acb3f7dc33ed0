package session

import (
	"testing"
	"time"

	"playground/persist"
	"playground/wasm/protocol"
)

func TestAutosaveDue(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name           string
		cfg            protocol.Autosave
		step           uint64
		unsaved        bool
		since, sinceMs time.Duration
		inflight       int
		kind           string // "" for not due
	}{
		{name: "saved already", cfg: protocol.Autosave{EverySteps: 100}, step: 200, kind: ""},
		{name: "on a multiple of EverySteps", cfg: protocol.Autosave{EverySteps: 100}, step: 200, unsaved: true, kind: persist.KindAutosave},
		{name: "between multiples", cfg: protocol.Autosave{EverySteps: 100}, step: 250, unsaved: true, kind: ""},
		{name: "steps ignore a save in flight", cfg: protocol.Autosave{EverySteps: 100}, step: 300, unsaved: true, inflight: 2, kind: persist.KindAutosave},
		{name: "time up", cfg: protocol.Autosave{EveryMillis: 500}, step: 7, unsaved: true, since: 500 * ms, kind: persist.KindAutosave},
		{name: "time not up", cfg: protocol.Autosave{EveryMillis: 500}, step: 7, unsaved: true, since: 499 * ms, kind: ""},
		{name: "time waits for the save in flight", cfg: protocol.Autosave{EveryMillis: 500}, step: 7, unsaved: true, since: time.Second, inflight: 1, kind: ""},
		{name: "no policy", step: 1000, unsaved: true, since: time.Hour, kind: ""},
		{name: "milestone due", cfg: protocol.Autosave{EveryMillis: 500, MilestoneMs: 60_000}, step: 9, unsaved: true,
			since: time.Second, sinceMs: time.Minute, kind: persist.KindMilestone},
		{name: "milestone not yet", cfg: protocol.Autosave{EveryMillis: 500, MilestoneMs: 60_000}, step: 9, unsaved: true,
			since: time.Second, sinceMs: 59 * time.Second, kind: persist.KindAutosave},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAutosave(tc.cfg, 0.01)
			a.sinceSave, a.sinceMilestone, a.inflight = tc.since, tc.sinceMs, tc.inflight
			kind, ok := a.due(tc.step, tc.unsaved)
			if ok != (tc.kind != "") || kind != tc.kind {
				t.Errorf("due = %q, %v; want %q", kind, ok, tc.kind)
			}
		})
	}
}

func TestAutosaveLimit(t *testing.T) {
	for _, tc := range []struct {
		every, step, limit, want uint64
	}{
		{0, 10, ^uint64(0), ^uint64(0)},
		{100, 10, ^uint64(0), 100},
		{100, 100, ^uint64(0), 200},
		{100, 150, 170, 170},
	} {
		a := newAutosave(protocol.Autosave{EverySteps: tc.every}, 0.01)
		if got := a.limit(tc.step, tc.limit); got != tc.want {
			t.Errorf("EverySteps %d: limit(%d, %d) = %d, want %d", tc.every, tc.step, tc.limit, got, tc.want)
		}
	}
}

// The interval stretches so the median pause stays within the share of
// training time, up to 4× EveryMillis; forced and failed saves do not
// count.
func TestAutosavePausesStretchInterval(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		pauses []time.Duration
		forced bool
		ok     bool
		want   time.Duration
	}{
		{name: "cheap saves", pauses: []time.Duration{1 * ms, 2 * ms, 3 * ms}, ok: true, want: 500 * ms},
		{name: "median of the last", pauses: []time.Duration{8 * ms, 1 * ms, 9 * ms}, ok: true, want: 800 * ms},
		{name: "at most 4x", pauses: []time.Duration{100 * ms}, ok: true, want: 2000 * ms},
		{name: "forced saves do not count", pauses: []time.Duration{100 * ms}, forced: true, ok: true, want: 500 * ms},
		{name: "failed saves do not count", pauses: []time.Duration{100 * ms}, want: 500 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAutosave(protocol.Autosave{EveryMillis: 500}, 0.01)
			for _, p := range tc.pauses {
				a.taking(persist.KindAutosave, p)
				if got := a.done(tc.forced, tc.ok); got != p {
					t.Errorf("pause %v reported as %v", p, got)
				}
			}
			if a.every != tc.want || a.inflight != 0 {
				t.Errorf("interval %v (in flight %d), want %v", a.every, a.inflight, tc.want)
			}
		})
	}
}

// A yield in which the writer ran while a save was in flight charges the
// save with its excess over the usual gap; other yields learn the gap.
func TestAutosaveGap(t *testing.T) {
	ms := time.Millisecond
	a := newAutosave(protocol.Autosave{EveryMillis: 500}, 0.01)
	a.gap(2*ms, false) // learns the usual gap
	a.taking(persist.KindAutosave, 1*ms)
	a.gap(5*ms, true)  // the writer ran: 3 ms more than usual
	a.gap(9*ms, false) // waiting for storage: free
	if got := a.done(false, true); got != 4*ms {
		t.Errorf("pause %v, want 4ms", got)
	}
	if a.baseGap != 2*ms {
		t.Errorf("usual gap %v, want 2ms", a.baseGap)
	}
}
