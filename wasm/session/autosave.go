package session

import (
	"slices"
	"time"

	"playground/persist"
	"playground/wasm/protocol"
)

// autosave is the autosave policy, a plain value the loop keeps: when a
// checkpoint is due and of which kind, and what the saves cost the
// training thread (their pauses stretch the time-based interval).
type autosave struct {
	cfg   protocol.Autosave
	share float64 // largest share of training time spent on time-based autosaves

	sinceSave      time.Duration // training time since the last autosave
	sinceMilestone time.Duration
	every          time.Duration   // the time-based interval, stretched by the pauses
	pauses         []time.Duration // the training thread's time on each of the last few autosaves

	inflight int           // saves handed to the writer, not yet done
	pauseAcc time.Duration // training-thread time spent on the saves in flight
	baseGap  time.Duration // usual yield gap without a save in flight
}

// maxInflight bounds the checkpoints waiting for the writer: training
// waits rather than queueing states faster than storage takes them.
const maxInflight = 3

func newAutosave(cfg protocol.Autosave, share float64) autosave {
	a := autosave{cfg: cfg, share: share}
	a.setEvery()
	return a
}

// set changes the settings c gives (zero fields leave one unchanged).
func (a *autosave) set(c protocol.Autosave) {
	if c.EverySteps > 0 {
		a.cfg.EverySteps = c.EverySteps
	}
	if c.EveryMillis > 0 {
		a.cfg.EveryMillis = c.EveryMillis
	}
	if c.Keep > 0 {
		a.cfg.Keep = c.Keep
	}
	if c.MilestoneMs > 0 {
		a.cfg.MilestoneMs = c.MilestoneMs
	}
	a.setEvery()
}

// limit caps a slice from step so that step-based autosaves land on
// multiples of EverySteps.
func (a *autosave) limit(step, limit uint64) uint64 {
	if n := a.cfg.EverySteps; n > 0 {
		limit = min(limit, (step/n+1)*n)
	}
	return limit
}

// trained counts d of training.
func (a *autosave) trained(d time.Duration) {
	a.sinceSave += d
	a.sinceMilestone += d
}

// due says whether to checkpoint step now (unsaved: no checkpoint has it
// yet), and as which kind: on every multiple of EverySteps, or after
// EveryMillis of training (stretched so saving stays within share of the
// time) unless a save is still in flight. An autosave is a milestone
// (kept by retention) once MilestoneMs of training passed since the last.
func (a *autosave) due(step uint64, unsaved bool) (kind string, ok bool) {
	c := a.cfg
	switch {
	case !unsaved:
		return "", false
	case c.EverySteps > 0 && step%c.EverySteps == 0:
	case a.inflight == 0 && c.EveryMillis > 0 && a.sinceSave >= a.every:
	default:
		return "", false
	}
	if c.MilestoneMs > 0 && a.sinceMilestone >= time.Duration(c.MilestoneMs)*time.Millisecond {
		return persist.KindMilestone, true
	}
	return persist.KindAutosave, true
}

// full says whether training waits for the writer.
func (a *autosave) full() bool { return a.inflight >= maxInflight }

// taking records a checkpoint of kind handed to the writer, whose
// snapshot took the training thread d.
func (a *autosave) taking(kind string, d time.Duration) {
	a.sinceSave = 0
	if kind == persist.KindMilestone {
		a.sinceMilestone = 0
	}
	if a.inflight == 0 {
		a.pauseAcc = 0
	}
	a.inflight++
	a.pauseAcc += d
}

// restart forgets the training time counted: a new trainer starts at a
// checkpoint.
func (a *autosave) restart() { a.sinceSave, a.sinceMilestone = 0, 0 }

// gap charges the saves in flight with the time a yield in which the
// writer ran took over the mean gap without a save: the training thread's
// share of encoding, hashing and handing the checkpoint to the writer
// worker. Yields while the writer only waits (for WebCrypto, IndexedDB)
// cost the save nothing.
func (a *autosave) gap(d time.Duration, writerRan bool) {
	if a.inflight > 0 {
		if writerRan {
			a.pauseAcc += d - a.baseGap
		}
		return
	}
	if a.baseGap == 0 {
		a.baseGap = d
	} else {
		a.baseGap += (d - a.baseGap) / 16
	}
}

// done records a save the writer finished and returns its pause; the
// pause of an autosave (not forced: pause, hidden, save now) stretches
// the interval.
func (a *autosave) done(forced, ok bool) (pause time.Duration) {
	a.inflight--
	pause = max(a.pauseAcc, 0)
	if a.inflight == 0 {
		a.pauseAcc = 0
	}
	if ok && !forced {
		a.pauses = append(a.pauses, pause)
		if len(a.pauses) > 5 {
			a.pauses = a.pauses[1:]
		}
		a.setEvery()
	}
	return pause
}

// setEvery sets every: EveryMillis, stretched (up to 4×) so the typical
// save pause stays within share of training time. The median of the last
// few pauses ignores one slowed by another process. It runs when the
// setting or the pauses change, not on every slice.
func (a *autosave) setEvery() {
	every := time.Duration(a.cfg.EveryMillis) * time.Millisecond
	a.every = every
	if len(a.pauses) == 0 {
		return
	}
	p := slices.Clone(a.pauses)
	slices.Sort(p)
	a.every = min(max(every, time.Duration(float64(p[len(p)/2])/a.share)), 4*every)
}
