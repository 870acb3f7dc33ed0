// Command build builds the page into web/dist: it regenerates the vugu
// components' Go code (go generate ./ui), compiles the page's one wasm
// binary (wasm/playground: the UI, the engine worker and the writer),
// copies Go's wasm_exec.js and the static files of web/, names every file
// but index.html and the service worker (sw.js) by a hash of its content
// (so a server can cache them forever), rewrites the references between
// them (sw.js lists them all, so it changes with every build), and writes
// .br and .gz siblings of each.
//
//	go run ./web/build [-src web] [-out web/dist]
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/andybalholm/brotli"
)

// keep names the files of the output folder that are not build output.
var keep = map[string]bool{"README.md": true}

func main() {
	src := flag.String("src", "web", "folder of index.html, loader.js, app.js, worker.js, style.css, sw.js")
	out := flag.String("out", "web/dist", "output folder (its previous build output is removed)")
	flag.Parse()
	if err := build(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

// asset is one output file.
type asset struct {
	name string // logical name, as the sources refer to it
	data []byte
	hash bool // content-hashed name
}

func (a *asset) outName() string {
	if !a.hash {
		return a.name
	}
	sum := sha256.Sum256(a.data)
	ext := filepath.Ext(a.name)
	if strings.HasSuffix(a.name, ".tar.gz") {
		ext = ".tar.gz"
	}
	return strings.TrimSuffix(a.name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
}

func build(src, out string) error {
	tmp, err := os.MkdirTemp("", "playground-web")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	wasm := filepath.Join(tmp, "playground.wasm")
	if err := compile(wasm); err != nil {
		return err
	}
	files := map[string]*asset{}
	add := func(name, path string, hash bool) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[name] = &asset{name: name, data: b, hash: hash}
		return nil
	}
	if err := add("playground.wasm", wasm, true); err != nil {
		return err
	}
	if err := add("wasm_exec.js", filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"), true); err != nil {
		return err
	}
	// The engine's SIMD128 kernels, which the binary imports (loader.js gives them).
	if err := add("simd.js", filepath.Join("engine", "wasmsimd", "simd.js"), true); err != nil {
		return err
	}
	vr, err := vuguRender()
	if err != nil {
		return err
	}
	files["vugu-render.js"] = &asset{name: "vugu-render.js", data: vr, hash: true}
	for _, n := range []string{"loader.js", "worker.js", "app.js", "style.css"} {
		if err := add(n, filepath.Join(src, n), true); err != nil {
			return err
		}
	}
	// index.html and the service worker keep their names: the browser
	// finds them there, and revalidates them.
	for _, n := range []string{"index.html", "sw.js"} {
		if err := add(n, filepath.Join(src, n), false); err != nil {
			return err
		}
	}
	if err := link(files); err != nil {
		return err
	}
	return writeOut(out, files)
}

// compile regenerates the components' Go code and compiles the page's one
// wasm binary (wasm/playground: the UI, the engine worker and the writer)
// to path.
func compile(path string) error {
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	run := func(env []string, args ...string) error {
		cmd := exec.Command(gobin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	if err := run(nil, "generate", "./ui"); err != nil {
		return fmt.Errorf("generating the components' code: %w", err)
	}
	const pkg = "./wasm/playground"
	if err := run([]string{"GOOS=js", "GOARCH=wasm"}, "build", "-trimpath", "-ldflags=-s -w", "-o", path, pkg); err != nil {
		return fmt.Errorf("compiling %s: %w", pkg, err)
	}
	return nil
}

// link rewrites the references between files to their hashed names,
// leaves first, so each file's hash covers the hashed names it refers to.
func link(files map[string]*asset) error {
	order := [][2]string{
		{"loader.js", "playground.wasm"},
		{"worker.js", "wasm_exec.js"}, {"worker.js", "simd.js"}, {"worker.js", "loader.js"},
		{"app.js", "worker.js"},
		{"index.html", "playground.wasm"}, {"index.html", "wasm_exec.js"}, {"index.html", "simd.js"}, {"index.html", "loader.js"},
		{"index.html", "app.js"}, {"index.html", "style.css"}, {"index.html", "vugu-render.js"},
		// The service worker caches every file of the build by its hashed
		// name, so it changes with each deploy.
		{"sw.js", "playground.wasm"}, {"sw.js", "wasm_exec.js"}, {"sw.js", "simd.js"}, {"sw.js", "loader.js"},
		{"sw.js", "worker.js"}, {"sw.js", "app.js"}, {"sw.js", "style.css"}, {"sw.js", "vugu-render.js"},
	}
	for _, o := range order {
		from, to := files[o[0]], files[o[1]]
		var err error
		if from.data, err = rewrite(from.data, to.name, to.outName(), o[0]); err != nil {
			return err
		}
	}
	return nil
}

// writeOut replaces the previous build output in out with files.
func writeOut(out string, files map[string]*asset) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	old, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range old {
		if !keep[e.Name()] && !e.IsDir() {
			if err := os.Remove(filepath.Join(out, e.Name())); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := files[n]
		name := a.outName()
		if err := writeAll(filepath.Join(out, name), a.data); err != nil {
			return err
		}
		fmt.Printf("%-28s %8d bytes  %s\n", name, len(a.data), sizes(out, name))
	}
	return nil
}

// rewrite replaces the quoted references to name in b; it fails if there
// is none, so a renamed file cannot go unnoticed.
func rewrite(b []byte, name, to, in string) ([]byte, error) {
	n := 0
	for _, q := range []string{`"`, `'`} {
		for _, prefix := range []string{"", "./"} {
			old := []byte(q + prefix + name + q)
			n += bytes.Count(b, old)
			b = bytes.ReplaceAll(b, old, []byte(q+to+q))
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s does not refer to %s", in, name)
	}
	return b, nil
}

// writeAll writes data and its .gz and .br siblings (when smaller).
func writeAll(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	var br bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	bw.Write(data)
	bw.Close()
	for _, c := range []struct {
		ext string
		b   []byte
	}{{".gz", gz.Bytes()}, {".br", br.Bytes()}} {
		if len(c.b) >= len(data) {
			continue
		}
		if err := os.WriteFile(path+c.ext, c.b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sizes(dir, name string) string {
	var parts []string
	for _, ext := range []string{".br", ".gz"} {
		if fi, err := os.Stat(filepath.Join(dir, name+ext)); err == nil {
			parts = append(parts, fmt.Sprintf("%s %d", ext, fi.Size()))
		}
	}
	return strings.Join(parts, ", ")
}
