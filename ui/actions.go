package ui

import (
	"encoding/json"
	"fmt"

	"playground/spec"
	"playground/wasm/protocol"

	"github.com/vugu/vugu/js"
)

// The controls' actions: each sends commands to the worker; the page
// changes when the worker's events say what happened.

// Play trains: the active run; with edited settings that keep the
// model's shape, the current state goes on with them as a fork at the
// current step; other edits (or no run) train the draft as a new run.
func (a *App) Play() {
	if a.DraftErr != "" {
		return
	}
	switch {
	case a.playContinues():
		a.sendDraft(protocol.Command{Type: protocol.CmdContinue, Autostart: true})
	case a.playStartsNew():
		a.StartNew()
	default:
		a.send(protocol.Command{Type: protocol.CmdResume})
	}
}

// playStartsNew says whether Play trains the draft as a new run from step
// 0: there is no active run, or the draft differs from its spec in a way
// the current state cannot continue (Edited is also true when the run's
// spec is not known).
func (a *App) playStartsNew() bool { return a.Run == "" || (a.Edited() && !a.playContinues()) }

// playContinues says whether Play continues the current state with the
// edited settings (a fork at the current step).
func (a *App) playContinues() bool {
	return a.Run != "" && a.Mine() && a.Edited() && a.Forkable()
}

// Pause pauses training.
func (a *App) Pause() { a.send(protocol.Command{Type: protocol.CmdPause}) }

// StepOnce trains one epoch (to the end of the current one), or one
// batch when StepBatch.
func (a *App) StepOnce() {
	a.send(protocol.Command{Type: protocol.CmdStep, Steps: 1, Epoch: !a.StepBatch})
}

// Reset starts again from step 0 as a new run, with the settings shown.
func (a *App) Reset() {
	c := protocol.Command{Type: protocol.CmdReset}
	if a.DraftErr == "" && a.Edited() {
		a.sendDraft(c)
		return
	}
	a.send(c)
}

// SaveNow checkpoints the current state; pinned keeps it from retention.
func (a *App) SaveNow(pinned bool) {
	c := protocol.Command{Type: protocol.CmdSave}
	if pinned {
		c.Kind = "pinned"
	}
	a.send(c)
}

// Download asks for the current state as a .safetensors file.
func (a *App) Download() { a.send(protocol.Command{Type: protocol.CmdExport}) }

// Takeover takes the run over from another tab (the bootstrap adds the
// page's marks).
func (a *App) Takeover() { a.send(protocol.Command{Type: protocol.CmdTakeover}) }

// Import continues a .safetensors file chosen in input.
func (a *App) Import(input js.Value) {
	a.sendWith(protocol.Command{Type: protocol.CmdImport}, func(c protocol.Command) { a.Host.SendFile(c, input) })
}

// Select highlights a checkpoint of the active run ("" clears).
func (a *App) Select(id string) {
	if a.Selected == id {
		id = ""
	}
	a.Selected = id
}

// Restore continues from a checkpoint (as a fork with the same spec unless
// it is its run's newest).
func (a *App) Restore(run, id string) {
	a.send(protocol.Command{Type: protocol.CmdRestore, Run: run, ID: id})
}

// Fork starts a new run from a checkpoint with the draft's settings.
func (a *App) Fork(run, id string) {
	if !a.Forkable() {
		return
	}
	a.sendDraft(protocol.Command{Type: protocol.CmdFork, Run: run, ID: id})
}

// PinCheckpoint keeps a checkpoint from retention.
func (a *App) PinCheckpoint(run, id string) {
	a.send(protocol.Command{Type: protocol.CmdPin, Run: run, ID: id})
}

// DeleteCheckpoint deletes a checkpoint.
func (a *App) DeleteCheckpoint(run, id string) {
	a.forget(run, id)
	a.send(protocol.Command{Type: protocol.CmdDelete, Run: run, ID: id})
}

// DownloadCheckpoint asks for a stored checkpoint's file.
func (a *App) DownloadCheckpoint(run, id string) {
	a.send(protocol.Command{Type: protocol.CmdExport, Run: run, ID: id})
}

// OpenRun continues another run from its newest checkpoint.
func (a *App) OpenRun(run string) {
	ri := a.runInfo(run)
	if ri == nil || len(ri.Checkpoints) == 0 {
		return
	}
	a.Restore(run, ri.Checkpoints[len(ri.Checkpoints)-1].ID)
}

// CopyLink puts the link to the draft's setup on the clipboard and shows
// it.
func (a *App) CopyLink() {
	if a.Host != nil && a.DraftErr == "" {
		a.SharedLink = a.FullLink()
		a.Host.Copy(a.SharedLink)
		a.log("", "Copied the link to this setup.")
	}
}

// StartNew trains the draft as a new run from step 0.
func (a *App) StartNew() {
	if a.DraftErr != "" {
		return
	}
	a.sendDraft(protocol.Command{Type: protocol.CmdStart})
}

// sendDraft sends c with the draft as its spec. The draft stays edited
// until the worker's answer: a status of the old run meanwhile does not
// put the run's settings back, and a refusal keeps the edits.
func (a *App) sendDraft(c protocol.Command) {
	a.draftSent = string(a.Draft.JSON())
	c.Spec = json.RawMessage(a.draftSent)
	a.draftSeq = a.send(c)
}

// draftTaken takes a status's spec: when it answers the draft's command
// (or the run now trains the draft sent), the draft follows the run
// again, unless the user changed it since.
func (a *App) draftTaken(seq int64, s spec.Spec) {
	if a.draftSeq == 0 || (seq != a.draftSeq && string(s.JSON()) != a.draftSent) {
		return
	}
	a.draftSeq = 0
	if string(a.Draft.JSON()) == a.draftSent {
		a.edited = false
	}
}

// EditNote says what Play does with the edited settings: continue the
// current state with them, or start a new run, and why.
func (a *App) EditNote() string {
	if a.playContinues() {
		return fmt.Sprintf("Settings changed. Play continues from step %s with them, as a fork of this run; Reset starts over with them at step 0.", Commas(a.Step))
	}
	return "Settings changed: " + a.whyNew() + ", so Play starts a new run at step 0 (fork continues a checkpoint only with the same network)."
}

// whyNew says why the draft cannot continue the active run's state.
func (a *App) whyNew() string {
	if a.Spec == nil {
		return "the run's settings are not known yet"
	}
	d, s := a.Draft, *a.Spec
	switch {
	case d.Optimizer.Kind != s.Optimizer.Kind:
		return "the optimizer changed (its state differs)"
	case !sameLayout(d, s):
		return "the network's shape changed"
	case d.Dataset.Kind != s.Dataset.Kind || d.Dataset.Samples != s.Dataset.Samples || d.Dataset.TestRatio != s.Dataset.TestRatio:
		return "the data changed"
	case d.BatchSize != s.BatchSize:
		return "the batch size changed (it decides what a step is)"
	}
	return "this run is not trained in this tab"
}
