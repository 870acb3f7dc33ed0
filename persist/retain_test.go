package persist_test

import (
	"slices"
	"testing"

	"playground/persist"
)

func TestAutosavesTrim(t *testing.T) {
	type add struct{ id, kind string }
	A, M, P := persist.KindAutosave, persist.KindMilestone, persist.KindPinned
	for _, tc := range []struct {
		name    string
		adds    []add
		forget  []string
		keep    int
		head    string
		victims []string
		left    []string
	}{
		{name: "none", keep: 2},
		{name: "within keep", adds: []add{{"1", A}, {"2", A}}, keep: 2, head: "2", left: []string{"1", "2"}},
		{name: "oldest go", adds: []add{{"1", A}, {"2", A}, {"3", A}, {"4", A}}, keep: 2, head: "4",
			victims: []string{"1", "2"}, left: []string{"3", "4"}},
		{name: "other kinds are not autosaves", adds: []add{{"1", M}, {"2", A}, {"3", P}, {"4", A}, {"5", A}}, keep: 2, head: "5",
			victims: []string{"2"}, left: []string{"4", "5"}},
		{name: "keep below 1 keeps 1", adds: []add{{"1", A}, {"2", A}}, keep: 0, head: "2", victims: []string{"1"}, left: []string{"2"}},
		{name: "never the head", adds: []add{{"1", A}, {"2", A}, {"3", A}}, keep: 1, head: "1", left: []string{"1", "2", "3"}},
		{name: "stops at the head", adds: []add{{"1", A}, {"2", A}, {"3", A}, {"4", A}}, keep: 1, head: "3",
			victims: []string{"1", "2"}, left: []string{"3", "4"}},
		{name: "recorded once", adds: []add{{"1", A}, {"1", A}, {"2", A}}, keep: 2, head: "2", left: []string{"1", "2"}},
		{name: "forgotten ones are not deleted", adds: []add{{"1", A}, {"2", A}, {"3", A}}, forget: []string{"1"}, keep: 2, head: "3",
			left: []string{"2", "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a persist.Autosaves
			for _, x := range tc.adds {
				a.Add(x.id, x.kind)
			}
			for _, id := range tc.forget {
				a.Forget(id)
			}
			v := a.Trim(persist.Retention{KeepLast: tc.keep}, tc.head)
			if !slices.Equal(v, tc.victims) || !slices.Equal(a.IDs(), tc.left) {
				t.Errorf("Trim = %v leaving %v, want %v leaving %v", v, a.IDs(), tc.victims, tc.left)
			}
		})
	}
}

// TestAutosavesMatchesRetain checks the incremental policy against Retain:
// deleting what Trim returns after every save leaves what Retain leaves of
// the same checkpoints written all at once.
func TestAutosavesMatchesRetain(t *testing.T) {
	A, M, P := persist.KindAutosave, persist.KindMilestone, persist.KindPinned
	kinds := []string{M, A, A, P, A, A, M, A, A, A}
	p := persist.Retention{KeepLast: 2}
	inc, whole := newSaver(t), newSaver(t)
	ls, err := persist.ListInfo(t.Context(), inc.s, inc.run)
	if err != nil {
		t.Fatal(err)
	}
	a := persist.AutosavesOf(ls)
	for _, kind := range kinds {
		id, b := inc.next(kind)
		inc.put(id, b, true)
		a.Add(id, kind)
		for _, v := range a.Trim(p, id) {
			if err := inc.s.Delete(t.Context(), inc.run, v); err != nil {
				t.Fatal(err)
			}
		}
		whole.run = inc.run
		whole.put(id, b, true)
	}
	if _, err := persist.Retain(t.Context(), whole.s, whole.run, p); err != nil {
		t.Fatal(err)
	}
	if got, want := inc.ids(), whole.ids(); !slices.Equal(got, want) {
		t.Errorf("incremental retention left %v, Retain %v", got, want)
	}
	ls, err = persist.ListInfo(t.Context(), inc.s, inc.run)
	if err != nil {
		t.Fatal(err)
	}
	if got, again := a.IDs(), persist.AutosavesOf(ls); !slices.Equal(got, again.IDs()) {
		t.Errorf("recorded autosaves %v, listed %v", got, again.IDs())
	}
}
