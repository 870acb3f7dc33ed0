package session

import (
	"context"
	"encoding/json"
	"fmt"

	"playground/persist"
	"playground/wasm/protocol"
)

// Comparisons run in the worker: CmdCompare gives the plan (the base
// checkpoint, the steps, one spec per child) and the loop forks each child
// in turn, training it to its target before the next. The plan, with each
// child's run and whether it is done, is kept in Env.Memo before every
// fork and after every child, so a reload continues it: the page's open
// resumes the run it was on (a child, replayed to the page's mark), and
// the comparison goes on from there.

// comparing is the comparison in progress; the loop owns it.
type comparing struct {
	plan *protocol.Compare // nil: none
	seq  int64             // the CmdCompare that started it (0 once reloaded)
	// follow: the next resume continues the comparison (after a reload,
	// or when it resumes a child itself).
	follow bool
}

// current is the first child not done yet, nil when none is left.
func (c *comparing) current() *protocol.CompareChild {
	if c.plan == nil {
		return nil
	}
	for i := range c.plan.Children {
		if k := &c.plan.Children[i]; !k.Done {
			return k
		}
	}
	return nil
}

// target is the step where run stops as the compared child in training,
// 0 when it is none.
func (c *comparing) target(run string) uint64 {
	if k := c.current(); k != nil && k.Run == run && run != "" {
		return k.Target
	}
	return 0
}

// loadComparison takes up the comparison a previous session left
// unfinished; it continues once the page's open resumed a run.
func (l *loop) loadComparison(ctx context.Context) {
	if l.env.Memo == nil {
		return
	}
	b, err := l.env.Memo.Load(ctx)
	if err != nil || len(b) == 0 {
		return
	}
	var p protocol.Compare
	if json.Unmarshal(b, &p) != nil || p.Done || p.Validate() != nil {
		return // none, or not a plan this session can follow
	}
	l.cmp = comparing{plan: &p, follow: true}
}

func (l *loop) cmdCompare(ctx context.Context, c protocol.Command, _ []byte) {
	if l.cmp.plan != nil {
		l.fail(c.Seq, "compare: a comparison is running")
		return
	}
	p := *c.Compare
	p.Children = append([]protocol.CompareChild(nil), p.Children...)
	if step, ok := persist.StepOfID(p.Base.ID); ok && p.Base.Step == 0 {
		p.Base.Step = step
	}
	p.Done, p.Error = false, ""
	for i := range p.Children {
		k := &p.Children[i]
		k.Run, k.From, k.Target, k.Done = "", 0, 0, false
	}
	l.cmp = comparing{plan: &p, seq: c.Seq}
	l.compareNext(ctx)
}

// compareNext moves the comparison on: the child in training trains to
// its target; one done makes way for the next, forked (or, forked before
// a reload, resumed); the last one done ends the comparison.
func (l *loop) compareNext(ctx context.Context) {
	for {
		k := l.cmp.current()
		if l.cmp.plan == nil {
			return
		}
		if k == nil {
			l.cmp.plan.Done = true
			l.compareChanged(ctx)
			base, seq := l.cmp.plan.Base.Run, l.cmp.seq
			l.cmp = comparing{}
			l.backTo(ctx, seq, base)
			return
		}
		if k.Run == "" || k.Run != l.run || !l.owner || l.rn.tr == nil {
			l.compareSwitch(ctx, k)
			return
		}
		if l.rn.tr.Step < k.Target {
			l.cmp.follow = false
			if !l.running {
				l.train(0, 0) // to the target: slice stops there
			}
			l.compareChanged(ctx)
			return
		}
		k.Done = true
		l.compareChanged(ctx)
	}
}

// compareSwitch makes child k the active run: forked from the base, or
// resumed when a previous session forked it already.
func (l *loop) compareSwitch(ctx context.Context, k *protocol.CompareChild) {
	p := l.cmp.plan
	if k.Run != "" {
		if objs, err := l.env.Store.List(ctx, k.Run); err == nil && len(objs) > 0 {
			if ok, err := l.acquire(ctx, k.Run, false); err != nil || !ok {
				l.compareFailed(ctx, fmt.Sprintf("run %s is trained in another tab", k.Run))
				return
			}
			l.cmp.follow = true
			l.resumeRun(ctx, l.cmp.seq, k.Run, 0, true, false, l.env.Now())
			return
		}
	}
	spec, err := specOf(protocol.Command{Spec: k.Spec})
	if err != nil {
		l.compareFailed(ctx, err.Error())
		return
	}
	if k.Run == "" {
		k.Run = persist.NewRunID(spec.Name)
	}
	k.From, k.Target = p.Base.Step, p.Base.Step+p.Steps
	l.compareChanged(ctx) // the plan names the child's run before the run exists
	if err := l.forkTo(ctx, l.cmp.seq, p.Base.Run, p.Base.ID, k.Spec, k.Run, true); err != nil {
		l.compareFailed(ctx, err.Error())
		return
	}
	l.cmp.follow = false
	l.compareChanged(ctx)
}

// backTo makes run, the one a comparison started from, the active run
// again (paused at its newest checkpoint): the page stays on it, with the
// children listed and overlaid.
func (l *loop) backTo(ctx context.Context, seq int64, run string) {
	if run == l.run {
		return
	}
	if ok, err := l.acquire(ctx, run, false); err != nil || !ok {
		l.warn(seq, "compare: run %s is trained in another tab; staying on the last child", run)
		return
	}
	l.resumeRun(ctx, seq, run, 0, false, true, l.env.Now())
}

func (l *loop) compareFailed(ctx context.Context, msg string) {
	l.cmp.plan.Done, l.cmp.plan.Error = true, msg
	l.fail(l.cmp.seq, "compare: %s", msg)
	l.compareChanged(ctx)
	l.cmp = comparing{}
}

// compareChanged keeps the plan (Env.Memo) and posts it.
func (l *loop) compareChanged(ctx context.Context) {
	p := l.cmp.plan
	if m := l.env.Memo; m != nil {
		var b []byte
		if !p.Done {
			b = protocol.Encode(p)
		}
		if err := m.Save(ctx, b); err != nil {
			l.warn(l.cmp.seq, "compare: keeping the plan for a reload: %v", err)
		}
	}
	cp := *p
	cp.Children = append([]protocol.CompareChild(nil), p.Children...)
	l.emit(protocol.Event{Type: protocol.EvCompare, Seq: l.cmp.seq, Compare: &cp})
}
