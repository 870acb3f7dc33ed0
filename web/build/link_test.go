package main

import (
	"strings"
	"testing"
)

// linked links a small build whose stylesheet is style.
func linked(t *testing.T, style string) map[string]*asset {
	t.Helper()
	files := map[string]*asset{}
	for _, n := range []string{"playground.wasm", "wasm_exec.js", "simd.js", "vugu-render.js"} {
		files[n] = &asset{name: n, data: []byte("/* " + n + " */"), hash: true}
	}
	files["style.css"] = &asset{name: "style.css", data: []byte(style), hash: true}
	files["loader.js"] = &asset{name: "loader.js", data: []byte(`url: 'playground.wasm'`), hash: true}
	files["worker.js"] = &asset{name: "worker.js", data: []byte(`importScripts('wasm_exec.js', 'simd.js', 'loader.js');`), hash: true}
	files["app.js"] = &asset{name: "app.js", data: []byte(`new Worker('worker.js'); register('sw.js')`), hash: true}
	files["index.html"] = &asset{name: "index.html", data: []byte(`"style.css" "playground.wasm" "wasm_exec.js" "simd.js" "loader.js" "app.js" "vugu-render.js"`)}
	files["sw.js"] = &asset{name: "sw.js", data: []byte(`const BINARY = 'playground.wasm'; const FILES = ['wasm_exec.js', 'simd.js', 'loader.js', 'worker.js', 'app.js', 'style.css', 'vugu-render.js'];`)}
	if err := link(files); err != nil {
		t.Fatal(err)
	}
	return files
}

// The service worker lists every hashed file of the build by its hashed
// name, so it changes with any of them; it and index.html keep their names.
func TestLinkServiceWorker(t *testing.T) {
	files := linked(t, "body { margin: 0 }")
	got := string(files["sw.js"].data)
	for _, n := range []string{"playground.wasm", "wasm_exec.js", "simd.js", "loader.js", "worker.js", "app.js", "style.css", "vugu-render.js"} {
		out := files[n].outName()
		if out == n || !strings.Contains(got, "'"+out+"'") {
			t.Errorf("sw.js does not list %s as %s: %s", n, out, got)
		}
	}
	if files["sw.js"].outName() != "sw.js" || files["index.html"].outName() != "index.html" {
		t.Errorf("sw.js and index.html renamed: %s, %s", files["sw.js"].outName(), files["index.html"].outName())
	}
	if again := linked(t, "body { margin: 1px }"); string(again["sw.js"].data) == got {
		t.Error("a changed stylesheet left sw.js the same")
	}
}
