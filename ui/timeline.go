package ui

import (
	"cmp"
	"html"
	"strconv"

	"playground/wasm/protocol"
)

// The checkpoint table's rows and the runs' tree change with every save,
// many times a minute while a run trains: they are painted at the source
// (AppendCheckpointRows, AppendRunRows, into boxes the Timeline template
// leaves empty), so a save costs no render of the page. Their buttons
// name what they do in data-act; the page hands a click to Act.

// MaxCheckpointRows bounds the rows of the checkpoint table.
const MaxCheckpointRows = 30

// AppendCheckpointRows appends the rows of the active run's checkpoints,
// newest first: step (select), kind, size, time saved, and the actions.
func (a *App) AppendCheckpointRows(b []byte) []byte {
	cs := a.Checkpoints()
	if len(cs) > MaxCheckpointRows {
		cs = cs[:MaxCheckpointRows]
	}
	for _, ck := range cs {
		step := Commas(ck.Step)
		b = append(b, `<tr data-testid="ckpt-row" data-run="`...)
		b = append(b, html.EscapeString(ck.Run)...)
		b = append(b, `" data-id="`...)
		b = append(b, html.EscapeString(ck.ID)...)
		b = append(b, `" data-step="`...)
		b = strconv.AppendUint(b, ck.Step, 10)
		b = append(b, `" data-kind="`...)
		b = append(b, html.EscapeString(ck.Kind)...)
		b = append(b, `" class="`...)
		b = append(b, a.rowClass(ck)...)
		b = append(b, `"><td><button class="linkish" data-testid="ckpt-select" data-act="select" aria-pressed="`...)
		b = strconv.AppendBool(b, ck.ID == a.Selected)
		b = append(b, `" title="Select; show step `...)
		b = append(b, step...)
		b = append(b, ` on the chart">`...)
		b = append(b, step...)
		b = append(b, `</button></td><td><span class="`...)
		b = append(b, html.EscapeString(a.kindClass(ck))...)
		b = append(b, `">`...)
		b = append(b, html.EscapeString(a.ckptKind(ck))...)
		b = append(b, `</span></td><td>`...)
		b = append(b, Size(ck.Size)...)
		b = append(b, `</td><td>`...)
		b = append(b, html.EscapeString(Clock(ck.Created))...)
		b = append(b, `</td><td class="acts">`...)
		bad := a.unusable(ck) != ""
		b = button(b, "ckpt-download", "download", bad, `aria-label="Download the checkpoint at step `+step+`"`, "↓")
		if a.Owner {
			b = button(b, "ckpt-restore", "restore", bad, `title="Continue from here (a fork unless it is the newest)"`, "restore")
			b = button(b, "ckpt-fork", "fork", bad || !a.Forkable(), `title="A new run from here with the settings shown above"`, "fork")
			if ck.Kind != "pinned" {
				b = button(b, "ckpt-pin", "pin", bad, `title="Keep it: retention never deletes pinned checkpoints"`, "pin")
			}
			b = button(b, "ckpt-delete", "delete", false, `title="Delete this checkpoint" aria-label="Delete the checkpoint at step `+step+`"`, "✕")
		}
		b = append(b, `</td></tr>`...)
	}
	return b
}

// button appends a table button; attrs are trusted markup.
func button(b []byte, testid, act string, disabled bool, attrs, text string) []byte {
	b = append(b, `<button data-testid="`...)
	b = append(b, testid...)
	b = append(b, `" data-act="`...)
	b = append(b, act...)
	b = append(b, '"')
	if disabled {
		b = append(b, ` disabled`...)
	}
	b = append(b, ' ')
	b = append(b, attrs...)
	b = append(b, '>')
	b = append(b, text...)
	return append(b, `</button> `...)
}

// AppendRunRows appends the runs as a tree of forks (RunTree): each opens
// its run.
func (a *App) AppendRunRows(b []byte) []byte {
	for _, r := range a.RunTree() {
		run := html.EscapeString(r.Run)
		b = append(b, `<li data-testid="run-row" data-run="`...)
		b = append(b, run...)
		b = append(b, `" class="`...)
		if r.Current {
			b = append(b, "current"...)
		}
		b = append(b, `" style="padding-left: `...)
		b = strconv.AppendInt(b, int64(r.Depth), 10)
		b = append(b, `em"><button class="linkish" data-testid="run-open" data-act="open"`...)
		if r.Current || !a.Owner {
			b = append(b, ` disabled`...)
		}
		b = append(b, ` title="Continue run `...)
		b = append(b, run...)
		b = append(b, `"><span>`...)
		b = append(b, html.EscapeString(r.Name)...)
		b = append(b, `</span> <code>`...)
		b = append(b, run...)
		b = append(b, `</code></button> <span class="steps">`...)
		b = append(b, html.EscapeString(r.Steps)...)
		b = append(b, `</span>`...)
		if r.Lineage != "" {
			b = append(b, ` <span class="lineage" data-testid="run-lineage">`...)
			b = append(b, html.EscapeString(r.Lineage)...)
			b = append(b, `</span>`...)
		}
		b = append(b, `</li>`...)
	}
	return b
}

// Act does what a painted button of the timeline (its data-act) or a
// checkpoint's mark on the chart ("mark") asks for
// checkpoint id of run at step (the row's), or for run (the runs' tree).
func (a *App) Act(act, run, id string, step uint64) {
	switch act {
	case "select":
		a.Select(id)
		if a.Selected != "" {
			a.ScrubTo(step)
		}
	case "mark": // a checkpoint's mark on the chart: selects (never unselects) and travels
		a.Selected = id
		a.ScrubTo(step)
	case "download":
		a.DownloadCheckpoint(run, id)
	case "restore":
		a.Restore(run, id)
	case "fork":
		a.Fork(run, id)
	case "pin":
		a.PinCheckpoint(run, id)
	case "delete":
		a.DeleteCheckpoint(run, id)
	case "open":
		a.OpenRun(run)
	}
}

// ckptKind is what the row says of the checkpoint: its kind, or why it
// cannot be used ("damaged", "of another version"…).
func (a *App) ckptKind(ck protocol.Checkpoint) string {
	if why := a.unusable(ck); why != "" {
		return why
	}
	return ck.Kind
}

// kindClass styles the kind: every unusable checkpoint alike.
func (a *App) kindClass(ck protocol.Checkpoint) string {
	if a.unusable(ck) != "" {
		return "kind damaged"
	}
	return "kind " + ck.Kind
}

// unusable says why the checkpoint cannot be used ("" if it can): as its
// listing says, or as a resume that skipped it said.
func (a *App) unusable(ck protocol.Checkpoint) string {
	return cmp.Or(ck.Unusable, a.Damaged[ck.ID])
}

func (a *App) rowClass(ck protocol.Checkpoint) string {
	s := ""
	if ri := a.runInfo(ck.Run); ri != nil && ri.Head == ck.ID {
		s = "head"
	}
	if ck.ID == a.Selected {
		s += " selected"
	}
	return s
}
