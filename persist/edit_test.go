package persist

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A hand-edited checkpoint records its edit in an optional metadata key:
// absent from every other file (whose bytes stay as they were), round
// tripped when set, and refused empty, too long or misspelt.
func TestEditMetadata(t *testing.T) {
	c := trained(t, tinySpec(), 3)
	plain := encode(t, c)
	if bytes.Contains(plain, []byte(`"edit"`)) {
		t.Fatal("an unedited checkpoint has an edit key")
	}
	e := *c
	e.Edit = "layers.1.weight[0,1] = -2 (was 0.25)"
	b := encode(t, &e)
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	sameMeta(t, got.Meta, e.Meta)
	info, err := ReadHeader(bytes.NewReader(b))
	if err != nil || info.Edit != e.Edit {
		t.Errorf("header edit %q, %v", info.Edit, err)
	}
	for name, edit := range map[string]func(map[string]string){
		"empty":    func(m map[string]string) { m[keyEdit] = "" },
		"too long": func(m map[string]string) { m[keyEdit] = strings.Repeat("x", MaxMetaString+1) },
		"misspelt": func(m map[string]string) { m["edits"] = "x" },
	} {
		if _, err := Decode(reencode(t, c, edit)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s edit: %v", name, err)
		}
	}
	long := *c
	long.Edit = strings.Repeat("x", MaxMetaString+1)
	if _, err := Encode(&long); err == nil {
		t.Error("an edit too long encodes")
	}
}
