package ui

import (
	"fmt"
	"slices"

	"playground/wasm/protocol"
)

// RunRow is one run in the tree of runs.
type RunRow struct {
	Run, Name string
	Depth     int
	Steps     string // "steps 0–12,480"
	Lineage   string // "forked from R at step S"
	Current   bool
}

// lineage says where a fork starts: "forked from R at step S".
func lineage(ri *protocol.RunInfo) string {
	step, _ := stepOfID(ri.Parent)
	return fmt.Sprintf("forked from %s at step %s", ri.ParentRun, Commas(step))
}

// RunTree orders the runs as a tree: each fork below its parent run.
func (a *App) RunTree() []RunRow {
	kids := map[string][]string{}
	var roots []string
	for _, r := range a.Runs {
		if r.ParentRun != "" && a.runInfo(r.ParentRun) != nil && r.ParentRun != r.Run {
			kids[r.ParentRun] = append(kids[r.ParentRun], r.Run)
		} else {
			roots = append(roots, r.Run)
		}
	}
	var out []RunRow
	seen := map[string]bool{}
	var walk func(run string, depth int)
	walk = func(run string, depth int) {
		if seen[run] {
			return
		}
		seen[run] = true
		ri := a.runInfo(run)
		row := RunRow{Run: run, Name: ri.Name, Depth: depth, Current: run == a.Run}
		if n := len(ri.Checkpoints); n > 0 {
			row.Steps = fmt.Sprintf("steps %s–%s", Commas(ri.Checkpoints[0].Step), Commas(ri.Checkpoints[n-1].Step))
		}
		if ri.ParentRun != "" {
			row.Lineage = lineage(ri)
		}
		out = append(out, row)
		ks := kids[run]
		slices.Sort(ks)
		for _, k := range ks {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return out
}
