//go:build !js

package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository's top folder.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}

// skipped are folders of things not written here: npm packages, build
// output, wrangler's state.
var skipped = map[string]bool{"node_modules": true, "dist": true, ".git": true, ".wrangler": true, "testdata": true}

// funcs calls fn for every function with a body in the repository's
// hand-written, non-test Go files, with its length in lines.
func funcs(t *testing.T, fn func(pos token.Position, name string, lines int)) {
	top := root(t)
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipped[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) {
			return nil
		}
		n++
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Body != nil {
				from, to := fset.Position(fd.Pos()), fset.Position(fd.End())
				from.Filename, _ = filepath.Rel(top, from.Filename)
				fn(from, fd.Name.Name, to.Line-from.Line+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("read only %d Go files under %s", n, top)
	}
}

// No hand-written function runs over 80 lines (generated code aside).
func TestShortFunctions(t *testing.T) {
	funcs(t, func(pos token.Position, name string, lines int) {
		if lines > 80 {
			t.Errorf("%s: %s is %d lines long (at most 80)", pos, name, lines)
		}
	})
}

// The worker's loop stays small: handle dispatches in at most 60 lines,
// and the loop's state has at most 20 fields.
func TestLoopShape(t *testing.T) {
	p := filepath.Join(root(t), "wasm", "session", "loop.go")
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, p, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var fields, handle int
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.TypeSpec:
			if st, ok := n.Type.(*ast.StructType); ok && n.Name.Name == "loop" {
				for _, fl := range st.Fields.List {
					fields += max(1, len(fl.Names))
				}
			}
		case *ast.FuncDecl:
			if n.Name.Name == "handle" && n.Recv != nil {
				handle = fset.Position(n.End()).Line - fset.Position(n.Pos()).Line + 1
			}
		}
		return true
	})
	if fields == 0 || handle == 0 {
		t.Fatalf("%s: found no loop struct (%d fields) or no handle method (%d lines)", p, fields, handle)
	}
	if fields > 20 {
		t.Errorf("the loop's state has %d fields (at most 20)", fields)
	}
	if handle > 60 {
		t.Errorf("loop.handle is %d lines long (at most 60)", handle)
	}
	t.Logf("loop: %d fields; handle: %d lines", fields, handle)
}
