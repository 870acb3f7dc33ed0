package ui

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vugu/vugu/gen"
)

// The components' generated code is committed (so `go vet ./...` works on
// a fresh clone); it must be what vugugen makes of the .vugu files now.
// `go generate ./ui` (run by `make web`) regenerates it.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	const out = "0_components_gen.go"
	dir := t.TempDir()
	files, err := filepath.Glob("*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == out || !(strings.HasSuffix(f, ".vugu") || strings.HasSuffix(f, ".go")) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := gen.Run(dir, &gen.ParserGoPkgOpts{SkipGoMod: true, SkipMainGo: true, MergeSingle: true}); err != nil {
		t.Fatal(err)
	}
	fresh, err := os.ReadFile(filepath.Join(dir, out))
	if err != nil {
		t.Fatal(err)
	}
	if fresh, err = format.Source(fresh); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatalf("ui/%s is out of date with the .vugu files: run `go generate ./ui`", out)
	}
}
