package persist

import "slices"

// Autosaves is Retain done incrementally by a run's one writer: the run's
// autosaves, oldest first, so that the retention after each save deletes
// without reading every header again. The browser's local store and its
// auto-push to a server both keep one per run, under the same Retention.
// The zero value holds none.
type Autosaves struct {
	ids []string
}

// AutosavesOf lists the readable autosaves among ls (ListInfo's order:
// oldest first), as Retain has just left them.
func AutosavesOf(ls []Listed) Autosaves {
	var a Autosaves
	for _, l := range ls {
		if l.Err == nil && l.Info.Kind == KindAutosave {
			a.ids = append(a.ids, l.ID)
		}
	}
	return a
}

// Add records a checkpoint written after every one recorded; only
// autosaves are subject to retention, and one already recorded is not
// recorded twice.
func (a *Autosaves) Add(id, kind string) {
	if kind == KindAutosave && !slices.Contains(a.ids, id) {
		a.ids = append(a.ids, id)
	}
}

// Forget drops id (deleted, or pinned so no longer an autosave).
func (a *Autosaves) Forget(id string) {
	a.ids = slices.DeleteFunc(a.ids, func(x string) bool { return x == id })
}

// IDs returns the recorded autosaves, oldest first.
func (a *Autosaves) IDs() []string { return slices.Clone(a.ids) }

// Trim forgets and returns the autosaves p does not keep, oldest first:
// all but the newest p.KeepLast (at least 1), stopping at head, which is
// never deleted. What Retain would delete of a run whose other
// checkpoints it has already judged.
func (a *Autosaves) Trim(p Retention, head string) (victims []string) {
	for len(a.ids) > max(p.KeepLast, 1) && a.ids[0] != head {
		victims = append(victims, a.ids[0])
		a.ids = a.ids[1:]
	}
	return victims
}
