package session

import (
	"time"

	"playground/wasm/protocol"
)

// pacer holds training to a pace: at most rate steps per second, as a
// token bucket of at most burst steps (a slice never trains more than
// that after a stall). Pacing changes only how many steps a slice trains,
// never which steps: the bits are those of full speed. The loop owns it.
type pacer struct {
	set    int // as the page set it: steps per second, 0 full speed, protocol.PaceDefault
	rate   int // in force: 0 full speed
	tokens float64
	last   time.Time
	slept  time.Time // when the last paced slice trained (wall clock)
}

// effective is the pace in force for a run of dataset kind; watch says
// whether the default paces 2-D datasets (Options.WatchPace).
func (p *pacer) effective(kind string, watch bool) int {
	if p.set != protocol.PaceDefault {
		return p.set
	}
	if !watch {
		return protocol.PaceFull
	}
	return protocol.DefaultPace(kind)
}

// restart begins pacing afresh at now with rate (training starts, or the
// pace changed): the first step goes at once.
func (p *pacer) restart(rate int, now time.Time) {
	p.rate, p.last, p.tokens, p.slept = rate, now, 1, now
}

// span is the wall time a paced slice that trained at now stands for:
// since the previous one, at most a second (a run at a pace idles between
// slices, and its autosaves follow the clock rather than the few
// microseconds it trains); d, the slice's own time, at full speed.
func (p *pacer) span(d time.Duration, now time.Time) time.Duration {
	if p.rate <= 0 {
		return d
	}
	w := min(now.Sub(p.slept), time.Second)
	p.slept = now
	return max(d, w)
}

// stopped says whether training stopped since the pacer last gave steps:
// a gap longer than a quarter second and than two steps at its rate (a
// slow pace waits that long between steps while it trains).
func (p *pacer) stopped(now time.Time) bool {
	gap := time.Second / 4
	if p.rate > 0 {
		gap = max(gap, 2*time.Second/time.Duration(p.rate))
	}
	return now.Sub(p.last) > gap
}

// burst is the most steps one slice trains at rate: one frame's worth
// (1/60 s), at least one.
func (p *pacer) burst() float64 { return max(1, float64(p.rate)/60) }

// take returns how many of want steps may train at now (want when the
// pace is full speed) and, when none may, how long until one may.
func (p *pacer) take(want uint64, now time.Time) (uint64, time.Duration) {
	if p.rate <= 0 {
		return want, 0
	}
	if el := now.Sub(p.last); el > 0 {
		p.tokens = min(p.burst(), p.tokens+el.Seconds()*float64(p.rate))
	}
	p.last = now
	n := min(want, uint64(p.tokens+1e-6)) // a frame of 1/60 s is a nanosecond short
	if n == 0 {
		return 0, time.Duration((1 - p.tokens) / float64(p.rate) * float64(time.Second))
	}
	p.tokens -= float64(n)
	return n, 0
}
