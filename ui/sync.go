package ui

import (
	"fmt"
	"strings"

	"playground/wasm/protocol"
)

// The sync with the server the page came from: the worker pushes and
// pulls checkpoints (CmdPush, CmdPull, auto-push); the page sends the
// commands and says what the last sync did.

// Keys of the sync settings in the page's storage (app.js reads them for
// the worker's open command).
const (
	autoPushKey = "pg-autopush"
	tokenKey    = "pg-token"
)

// syncStatus takes the sync part of a status; on the first status with a
// session it lists the server's runs.
func (a *App) syncStatus(s *protocol.Status) {
	if a.settingsSeq == 0 {
		a.AutoPush = s.AutoPush
	}
	if s.Server != "" {
		a.Server = s.Server
	}
	if !a.listAsked && s.Phase != protocol.PhaseLoading {
		a.listAsked = true
		a.listServer(true)
	}
}

// Push uploads the active run's checkpoints the server lacks (the current
// state saved first).
func (a *App) Push() {
	a.syncSeq = a.send(protocol.Command{Type: protocol.CmdPush})
	a.syncOp, a.syncRun = protocol.SyncPush, a.Run
}

// Pull continues run from the server's head, here.
func (a *App) Pull(run string) {
	if run == "" {
		return
	}
	a.syncSeq = a.send(protocol.Command{Type: protocol.CmdPull, Run: run})
	a.syncOp, a.syncRun = protocol.SyncPull, run
}

// RefreshServer lists the server's runs again.
func (a *App) RefreshServer() { a.listServer(false) }

func (a *App) listServer(quiet bool) {
	a.listSeq = a.send(protocol.Command{Type: protocol.CmdServerRuns})
	a.listQuiet = quiet
}

// SetAutoPush turns the upload of every autosave on or off (and keeps the
// choice for the next visit).
func (a *App) SetAutoPush(on bool) {
	a.AutoPush = on
	a.settingsSeq = a.send(protocol.Command{Type: protocol.CmdSettings, Sync: &protocol.SyncSettings{AutoPush: &on}})
	if a.Host != nil {
		v := "0"
		if on {
			v = "1"
		}
		a.Host.Save(autoPushKey, v)
	}
}

// SetToken sets the server's bearer token ("" for none) and keeps it for
// the next visit.
func (a *App) SetToken(token string) {
	a.Typed("server-token")
	token = strings.TrimSpace(token)
	a.Token = token
	a.send(protocol.Command{Type: protocol.CmdSettings, Sync: &protocol.SyncSettings{Token: &token}})
	if a.Host != nil {
		a.Host.Save(tokenKey, token)
	}
}

// CanPull says whether this tab may continue a run of the server: not
// while loading, nor while another tab trains the active run.
func (a *App) CanPull() bool {
	switch a.Phase {
	case protocol.PhaseIdle:
		return true
	case protocol.PhasePaused, protocol.PhaseRunning:
		return a.Owner
	}
	return false
}

// RunURL is the active run's URL on the server ("" when not known), for
// `playground train --resume URL`.
func (a *App) RunURL() string {
	if a.Run == "" {
		return ""
	}
	if s := a.LastSync; s != nil && s.Run == a.Run && s.URL != "" {
		return s.URL
	}
	for _, r := range a.ServerRuns {
		if r.Run == a.Run && r.URL != "" {
			return r.URL
		}
	}
	if a.Server == "" {
		return ""
	}
	return strings.TrimRight(a.Server, "/") + "/api/runs/" + a.Run
}

// synced takes a finished push, pull or auto-push.
func (a *App) synced(ev protocol.Event) {
	s := ev.Synced
	if s == nil {
		return
	}
	a.LastSync, a.syncAt, a.SyncErr = s, a.Now(), ""
	if s.Op == a.syncOp || (ev.Seq != 0 && ev.Seq == a.syncSeq) {
		a.syncOp, a.syncRun, a.syncSeq = "", "", 0
	}
	a.serverHead(s)
	switch s.Op {
	case protocol.SyncPush, protocol.SyncPull:
		a.log("", "%s", a.syncText(s))
		a.listServer(true)
		if s.Op == protocol.SyncPull {
			// The pulled checkpoint joins the run's timeline.
			a.send(protocol.Command{Type: protocol.CmdList})
		}
	}
}

// serverHead moves the listed server run to the head a sync reports, until
// the next listing.
func (a *App) serverHead(s *protocol.Synced) {
	if !a.ServerRunsLoaded || s.Head == "" {
		return
	}
	for i := range a.ServerRuns {
		if r := &a.ServerRuns[i]; r.Run == s.Run {
			r.Head, r.Step = s.Head, s.Step
			if s.Op != protocol.SyncPull {
				r.Checkpoints += s.Sent
			}
			if s.URL != "" {
				r.URL = s.URL
			}
			return
		}
	}
	if s.Op != protocol.SyncPull {
		a.ServerRuns = append(a.ServerRuns, protocol.ServerRun{Run: s.Run, Head: s.Head, Step: s.Step, Checkpoints: s.Sent + s.Had, URL: s.URL})
	}
}

// serverRuns takes the answer to CmdServerRuns.
// With a Message the server could not be asked: said in the panel and
// the log, and, when the user asked, in the status line too.
func (a *App) serverRuns(ev protocol.Event) {
	quiet := ev.Seq == a.listSeq && a.listQuiet
	if ev.Seq == a.listSeq {
		a.listSeq = 0
	}
	if ev.Message != "" {
		a.ServerErr = ev.Message
		if quiet && a.Unreachable {
			return // the log said so once
		}
		if quiet {
			a.log("warn", "%s", ev.Message)
		} else {
			a.warn("warn", ev.Message)
		}
		return
	}
	a.ServerRuns, a.ServerRunsLoaded, a.ServerErr = ev.ServerRuns, true, ""
}

// reach takes the server's going away or coming back (one event per
// change): one line in the log each, and the panel says so meanwhile.
func (a *App) reach(r *protocol.Reach) {
	if r == nil || r.Reachable == !a.Unreachable {
		return
	}
	a.Unreachable = !r.Reachable
	switch {
	case r.Reachable && a.AutoPush:
		a.log("", "The server answers again: auto-push resumed.")
	case r.Reachable:
		a.log("", "The server answers again.")
	case r.Retry:
		a.warn("warn", fmt.Sprintf("Server unreachable (%s), retrying: auto-push keeps the newest checkpoint and tries again after 1 s, doubling to 60 s.", r.Error))
	default:
		a.warn("warn", fmt.Sprintf("Server unreachable (%s).", r.Error))
	}
}

// syncFailed takes an error that may answer the push or pull in flight.
func (a *App) syncFailed(ev protocol.Event) {
	if ev.Seq == 0 || ev.Seq != a.syncSeq {
		return
	}
	op := "Push"
	if a.syncOp == protocol.SyncPull {
		op = "Pull"
	}
	a.SyncErr = op + " failed: " + ev.Message
	a.syncOp, a.syncRun, a.syncSeq = "", "", 0
}

// SyncLine says what the last sync did, as people read it.
func (a *App) SyncLine() string {
	switch {
	case a.syncOp == protocol.SyncPush:
		return fmt.Sprintf("Pushing run %s…", a.syncRun)
	case a.syncOp == protocol.SyncPull:
		return fmt.Sprintf("Pulling run %s…", a.syncRun)
	case a.Unreachable && a.AutoPush:
		return "Server unreachable, retrying: auto-push waits for it."
	case a.Unreachable:
		return "Server unreachable."
	case a.SyncErr != "":
		return a.SyncErr
	case a.LastSync != nil:
		return a.syncText(a.LastSync)
	}
	return "Nothing synced from this tab yet."
}

// SyncTime is when the last sync finished ("" before any).
func (a *App) SyncTime() string {
	if a.LastSync == nil {
		return ""
	}
	return a.syncAt.Local().Format("15:04:05")
}

func (a *App) syncText(s *protocol.Synced) string {
	switch s.Op {
	case protocol.SyncAutoPush:
		return fmt.Sprintf("Auto-pushed step %s of run %s.", Commas(s.Step), s.Run)
	case protocol.SyncPull:
		if s.Kept {
			return fmt.Sprintf("Pulled run %s: your copy (step %s) is ahead of the server's (step %s) and was kept; push to update the server.",
				s.Run, Commas(s.LocalStep), Commas(s.Step))
		}
		what := Size(s.Bytes) + ", "
		if s.Sent == 0 {
			what = "already here, "
		} else if s.Bytes == 0 {
			what = ""
		}
		return fmt.Sprintf("Pulled run %s at step %s (%s%d ms).", s.Run, Commas(s.Step), what, int(s.Millis))
	}
	if s.Sent == 0 {
		return fmt.Sprintf("Pushed run %s: the server had every checkpoint; its head is at step %s.", s.Run, Commas(s.Step))
	}
	n := "checkpoints"
	if s.Sent == 1 {
		n = "checkpoint"
	}
	if s.Bytes > 0 {
		n += " (" + Size(s.Bytes) + ")"
	}
	return fmt.Sprintf("Pushed run %s: %d %s in %d ms; the server's head is at step %s.",
		s.Run, s.Sent, n, int(s.Millis), Commas(s.Step))
}
