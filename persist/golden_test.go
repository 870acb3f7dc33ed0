package persist

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"playground/engine"
	"playground/spec"
)

//go:generate sh -c "cd .. && sh persist/testdata/golden/generate.sh"

// golden is one committed checkpoint and the fingerprints its FINGERPRINTS
// file records: of the file's state, and of an uninterrupted run to a later
// step (both from the native binary of the version that wrote it).
type golden struct {
	dir, preset string
	format      int
	engine      string
	at, to      uint64
	atFP, toFP  string
	file        []byte
}

var goldenDir = regexp.MustCompile(`^format([1-9][0-9]*)-engine(.+)$`)

func goldens(t *testing.T) []golden {
	t.Helper()
	dirs, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	var out []golden
	for _, d := range dirs {
		m := goldenDir.FindStringSubmatch(d.Name())
		if !d.IsDir() || m == nil {
			continue
		}
		format, _ := strconv.Atoi(m[1])
		dir := filepath.Join("testdata", "golden", d.Name())
		list, err := os.ReadFile(filepath.Join(dir, "FINGERPRINTS"))
		if err != nil {
			t.Fatal(err)
		}
		byPreset := map[string]*golden{}
		var order []string
		for i, line := range strings.Split(string(list), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || strings.HasPrefix(f[0], "#") {
				continue
			}
			step, err := strconv.ParseUint(f[min(1, len(f)-1)], 10, 64)
			if len(f) != 3 || err != nil {
				t.Fatalf("%s/FINGERPRINTS:%d: %q is not `preset step fingerprint`", dir, i+1, line)
			}
			g := byPreset[f[0]]
			if g == nil {
				g = &golden{dir: dir, preset: f[0], format: format, engine: m[2], at: step, atFP: f[2]}
				byPreset[f[0]] = g
				order = append(order, f[0])
			} else {
				g.to, g.toFP = step, f[2]
			}
		}
		for _, p := range order {
			g := byPreset[p]
			if g.to <= g.at {
				t.Fatalf("%s: %s has no later step than %d", dir, p, g.at)
			}
			if g.file, err = os.ReadFile(filepath.Join(dir, p+".safetensors")); err != nil {
				t.Fatal(err)
			}
			out = append(out, *g)
		}
	}
	return out
}

// TestGolden is the compatibility promise for checkpoints users keep
// (IndexedDB outlives every deploy, files outlive every release). Every
// checkpoint in testdata/golden, written by some earlier (or this) build,
// must on this build either
//
//   - load, verify, resume and continue bit-exactly to the fingerprint of a
//     run that never stopped, when its format version and engine version
//     are ones this build continues exactly (FormatVersion,
//     engine.ContinuesExactly); or
//   - be refused by every reader with ErrVersion and an error that says
//     which version changed (format or engine maths) — never resumed with
//     different bits, never called corrupt.
//
// So when the format or the engine's maths change, bump FormatVersion or
// engine.Version, keep the old golden folders, and add the new version's
// with testdata/golden/generate.sh.
func TestGolden(t *testing.T) {
	gs := goldens(t)
	current := map[string]bool{}
	for _, g := range gs {
		t.Run(filepath.Base(g.dir)+"/"+g.preset, func(t *testing.T) {
			formatOK, engineOK := g.format == FormatVersion, engine.ContinuesExactly(g.engine)
			if g.format == FormatVersion && g.engine == engine.Version {
				current[g.preset] = true
			}
			_, rerr := ReadHeader(bytes.NewReader(g.file))
			_, serr := streamVerify(g.file)
			c, err := Decode(g.file)
			if !formatOK || !engineOK {
				want := "engine version"
				if !formatOK {
					want = "format version"
				}
				for _, e := range []error{err, rerr, serr} {
					if !errors.Is(e, ErrVersion) || !strings.Contains(e.Error(), want) {
						t.Errorf("a format %d, engine %s checkpoint on format %d, engine %s: %v; want ErrVersion saying the %s changed",
							g.format, g.engine, FormatVersion, engine.Version, e, want)
					}
				}
				return
			}
			for what, e := range map[string]error{"Decode": err, "ReadHeader": rerr, "VerifyReader": serr} {
				if e != nil {
					t.Fatalf("%s: %v", what, e)
				}
			}
			if c.EngineVersion != g.engine || c.State.Step != g.at || c.State.Spec.Name != g.preset {
				t.Fatalf("file says engine %s, step %d, preset %s; its folder and FINGERPRINTS say %s, %d, %s",
					c.EngineVersion, c.State.Step, c.State.Spec.Name, g.engine, g.at, g.preset)
			}
			if fp := Fingerprint(c.State); fp != g.atFP {
				t.Fatalf("step %d fingerprint %s, want %s", g.at, fp, g.atFP)
			}
			tr, err := engine.Restore(c.State)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			for tr.Step < g.to {
				tr.TrainStep()
			}
			if fp := Fingerprint(tr.State()); fp != g.toFP {
				t.Errorf("resumed at %d, trained to %d: fingerprint %s, an uninterrupted run's is %s", g.at, g.to, fp, g.toFP)
			}
			// What this build writes back from it decodes to the same state.
			d, err := Decode(encode(t, c))
			if err != nil || Fingerprint(d.State) != g.atFP {
				t.Errorf("re-encoded: %v", err)
			}
		})
	}
	for _, p := range spec.PresetNames() {
		if !current[p] {
			t.Errorf("no golden checkpoint of preset %s for format %d, engine %s: run `go generate ./persist`", p, FormatVersion, engine.Version)
		}
	}
}

// TestGoldenOtherVersions: a golden checkpoint that claims another format
// or engine version (checksum intact) is refused by every reader with
// ErrVersion naming the version that changed.
func TestGoldenOtherVersions(t *testing.T) {
	var g *golden
	for _, x := range goldens(t) {
		if x.format == FormatVersion && x.engine == engine.Version && x.preset == "circle-sgd" {
			g = &x
		}
	}
	if g == nil {
		t.Fatal("no current golden circle-sgd")
	}
	c, err := Decode(g.file)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		key, value, want string
	}{
		{keyEngineVersion, "0.0.1-other-maths", `written by engine version "0.0.1-other-maths", whose maths this engine (` + engine.Version + `) does not reproduce`},
		{keyEngineVersion, "", `written by engine version "", whose maths`},
		{keyFormatVersion, strconv.Itoa(FormatVersion + 1), "file has format version " + strconv.Itoa(FormatVersion+1)},
	} {
		b := reencode(t, c, func(m map[string]string) { m[tt.key] = tt.value })
		_, rerr := ReadHeader(bytes.NewReader(b))
		_, serr := streamVerify(b)
		for _, e := range []error{Verify(b), rerr, serr} {
			if !errors.Is(e, ErrVersion) || !strings.Contains(e.Error(), tt.want) {
				t.Errorf("%s %q: %v; want ErrVersion: …%s…", tt.key, tt.value, e, tt.want)
			}
		}
	}
	c.EngineVersion = "0.0.1-other-maths"
	if _, err := Encode(c); !errors.Is(err, ErrVersion) {
		t.Errorf("Encode of another engine's maths: %v, want ErrVersion", err)
	}
}
