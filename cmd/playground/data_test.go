//go:build !js

package main

// End-to-end tests of runs on a CSV file: train --data, push, train
// --resume URL, pull, and the errors of a missing or malformed dataset.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"playground/dataset"
)

// moons is a CSV of three classes with a split column.
func moons(t *testing.T) (path string, tab *dataset.Table) {
	t.Helper()
	b := readFile(t, filepath.Join("..", "..", "persist", "testdata", "datasets", "moons.csv"))
	path = filepath.Join(t.TempDir(), "moons.csv")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := dataset.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return path, tab
}

// The same CSV trains to the same bits natively and under Node, and the
// dataset is stored once in the store, never in a checkpoint.
func TestTrainDataNativeAndWasm(t *testing.T) {
	csv, tab := moons(t)
	dir := t.TempDir()
	a := ok(t, playground(t, "train", "--data", csv, "--steps", "120", "--every", "50", "--out", filepath.Join(dir, "native")), "native")
	w := ok(t, playgroundWasm(t, "train", "--data", csv, "--steps", "120", "--every", "0", "--out", filepath.Join(dir, "wasm")), "wasm")
	if d := playground(t, "ckpt", "diff", a.lastLine(), w.lastLine()); d.code != 0 {
		t.Fatalf("native and wasm runs on the same CSV differ: %s", d.stderr)
	}
	for _, store := range []string{"native", "wasm"} {
		b := readFile(t, filepath.Join(dir, store, "_datasets", tab.Name()+".csv"))
		if !bytes.Equal(b, tab.Canonical()) {
			t.Fatalf("%s: the stored dataset is not the canonical bytes", store)
		}
	}
	files := checkpoints(t, filepath.Join(dir, "native"))
	if len(files) != 3 {
		t.Fatalf("checkpoints %v", files)
	}
	for _, f := range files {
		noDataIn(t, f, tab)
	}
	ev := ok(t, playground(t, "eval", "--ckpt", a.lastLine()), "eval")
	if !strings.Contains(ev.stdout, "(240 samples)") || !strings.Contains(ev.stdout, "(60 samples)") {
		t.Fatalf("eval: %s", ev.stdout)
	}
}

// noDataIn fails if a checkpoint file holds the dataset's canonical bytes
// or any of its rows.
func noDataIn(t *testing.T, file string, tab *dataset.Table) {
	t.Helper()
	b := readFile(t, file)
	lines := bytes.Split(tab.Canonical(), []byte("\n"))
	if bytes.Contains(b, tab.Canonical()) || bytes.Contains(b, bytes.Join(lines[1:4], []byte("\n"))) {
		t.Fatalf("%s holds the dataset's bytes", file)
	}
}

// train --data, push (the dataset once), train --resume URL on another
// data dir (which fetches it), pull: bit-identical to an uninterrupted
// run; a dataset that is nowhere is named with every place looked in.
func TestDataServerRoundTrip(t *testing.T) {
	csv, tab := moons(t)
	dir := t.TempDir()
	const token = "data-token"
	env := []string{tokenEnv + "=" + token}
	srvDir := filepath.Join(dir, "server")
	srv := serve(t, srvDir, "--token", token)
	ref := ok(t, playground(t, "train", "--data", csv, "--steps", "300", "--every", "0", "--out", filepath.Join(dir, "ref")), "ref")

	local := filepath.Join(dir, "local")
	ok(t, playground(t, "train", "--data", csv, "--steps", "100", "--every", "40", "--out", local), "train to 100")
	push := ok(t, playgroundEnv(t, env, "push", local, "--server", srv.url), "push")
	if !strings.Contains(push.stderr, "pushed dataset "+tab.Name()) {
		t.Fatalf("push: %s", push.stderr)
	}
	runURL := push.lastLine()
	again := ok(t, playgroundEnv(t, env, "push", local, "--server", srv.url), "push again")
	if !strings.Contains(again.stderr, "dataset "+tab.Name()+" already on the server") || strings.Contains(again.stderr, "pushed dataset") {
		t.Fatalf("second push: %s", again.stderr)
	}

	other := filepath.Join(dir, "other")
	res := ok(t, playground(t, "train", "--resume", runURL, "--steps", "300", "--every", "100", "--token", token, "--out", other), "resume from URL")
	if d := playground(t, "ckpt", "diff", ref.lastLine(), res.lastLine()); d.code != 0 {
		t.Fatalf("resumed from the server: differs from the uninterrupted run: %s", d.stderr)
	}
	if b := readFile(t, filepath.Join(other, "_datasets", tab.Name()+".csv")); !bytes.Equal(b, tab.Canonical()) {
		t.Fatal("train --resume URL did not keep the dataset in --out")
	}
	pulled := filepath.Join(dir, "pulled")
	pull := ok(t, playgroundEnv(t, env, "pull", runURL, "--out", pulled), "pull")
	if d := playground(t, "ckpt", "diff", ref.lastLine(), pull.lastLine()); d.code != 0 {
		t.Fatalf("pulled head differs: %s", d.stderr)
	}
	if b := readFile(t, filepath.Join(pulled, "_datasets", tab.Name()+".csv")); !bytes.Equal(b, tab.Canonical()) {
		t.Fatal("pull did not fetch the dataset")
	}

	// The server holds the dataset once and 5 checkpoints, none with it.
	ds, _ := filepath.Glob(filepath.Join(srvDir, "_datasets", "*"))
	files := checkpoints(t, srvDir)
	if len(ds) != 1 || len(files) != 5 {
		t.Fatalf("the server holds datasets %v and checkpoints %v", ds, files)
	}
	for _, f := range files {
		noDataIn(t, f, tab)
	}

	// Without the dataset anywhere, the error names it and where it looked.
	os.Remove(ds[0])
	lost := filepath.Join(dir, "lost")
	r := playground(t, "train", "--resume", runURL, "--steps", "400", "--token", token, "--out", lost)
	wantLocal := filepath.Join(lost, "_datasets", tab.Name()+".csv")
	wantURL := srv.url + "/api/datasets/" + tab.Name()
	if r.code == 0 || !strings.Contains(r.stderr, "dataset "+tab.Name()) || !strings.Contains(r.stderr, wantLocal) || !strings.Contains(r.stderr, wantURL) {
		t.Fatalf("missing dataset: exit %d, %s; want the hash, %s and %s", r.code, r.stderr, wantLocal, wantURL)
	}
	file := filepath.Join(dir, "alone", filepath.Base(res.lastLine()))
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, readFile(t, res.lastLine()), 0o644)
	if r := playground(t, "eval", "--ckpt", file); r.code == 0 || !strings.Contains(r.stderr, tab.Name()) || !strings.Contains(r.stderr, filepath.Join(dir, "_datasets", tab.Name()+".csv")) {
		t.Fatalf("eval of a lone checkpoint: exit %d, %s", r.code, r.stderr)
	}
}

// A malformed CSV is refused with its line, and nothing is stored.
func TestTrainDataMalformed(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ csv, want string }{
		"text":    {"a,b,class\n1,2,0\n3,x,1\n", `line 3, column 2: "x" is not a number`},
		"ragged":  {"1,2,0\n3,4\n", "line 2: 2 cells, want 3"},
		"empty":   {"", "line 1: the file is empty"},
		"outside": {"a,class:2\n1,0\n2,5\n", "line 3, column 2: label 5 is outside the classes 0..1"},
	} {
		csv := filepath.Join(dir, name+".csv")
		os.WriteFile(csv, []byte(c.csv), 0o644)
		out := filepath.Join(dir, "out-"+name)
		r := playground(t, "train", "--data", csv, "--steps", "10", "--out", out)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, %s; want %q", name, r.code, r.stderr, c.want)
		}
		if ents, _ := os.ReadDir(out); len(ents) != 0 {
			t.Errorf("%s: the store holds %v", name, ents)
		}
	}
}
