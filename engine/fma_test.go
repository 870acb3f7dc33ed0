//go:build !js

package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The determinism contract forbids fused multiply-adds in the engine: arm64
// fuses s+a*b unless the product is rounded explicitly (float32(a*b)), and
// so does amd64 built with GOAMD64=v3. Compile the engine for both and fail
// on any fused instruction in its code, or in the code of the packages of
// the training path it imports (the spec's schedules, the portable
// trigonometry, the digits' pen).
// fmaGuarded matches a listing line of the guarded packages' code.
var fmaGuarded = regexp.MustCompile(`\b(engine|spec|internal/mathf|internal/pen)/[a-z_]+\.go:`)

func TestNoFusedMultiplyAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the engine")
	}
	cases := []struct {
		env []string
		op  *regexp.Regexp
	}{
		{[]string{"GOOS=linux", "GOARCH=arm64"}, regexp.MustCompile(`\bF(N)?M(ADD|SUB)[SD]\b`)},
		{[]string{"GOOS=linux", "GOARCH=amd64", "GOAMD64=v3"}, regexp.MustCompile(`\bVF(N)?M(ADD|SUB)\d+[SP][SD]\b`)},
	}
	for _, c := range cases {
		// -a: the listing is printed only when the engine really compiles.
		cmd := exec.Command("go", "build", "-a", "-gcflags=playground/engine=-S",
			"-gcflags=playground/spec=-S", "-gcflags=playground/internal/mathf=-S", "-gcflags=playground/internal/pen=-S", "-o", os.DevNull, ".")
		cmd.Env = append(os.Environ(), c.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", c.env, err, out)
		}
		fn := ""
		n := 0
		for _, line := range strings.Split(string(out), "\n") {
			if i := strings.Index(line, " STEXT"); i > 0 {
				fn = strings.Fields(line)[0]
			}
			if c.op.MatchString(line) && fmaGuarded.MatchString(line) {
				t.Errorf("%v: fused multiply-add in %s: %s", c.env, fn, strings.TrimSpace(line))
				n++
			}
		}
		if !strings.Contains(string(out), "STEXT") {
			t.Fatalf("%v: no assembly listing produced", c.env)
		}
		t.Logf("%v: %d fused instructions", c.env, n)
	}
}

// The engine's assembly (the AVX2 kernel) is not in the compiler's listing:
// scan its source for any fused multiply-add, of any architecture. (The
// wasm SIMD module has its own guard: engine/wasmsimd.)
func TestNoFusedMultiplyAddInAssembly(t *testing.T) {
	files, err := filepath.Glob("*.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly found (%v)", err)
	}
	fused := regexp.MustCompile(`(?i)\bV?F(N)?M(ADD|SUB)|\bVFMADDSUB|\bVFMSUBADD|\bV4FMADD`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if fused.MatchString(code) {
				t.Errorf("%s:%d: fused multiply-add: %s", f, i+1, strings.TrimSpace(line))
			}
		}
		if !strings.Contains(string(b), "VMULPS") {
			t.Errorf("%s: no VMULPS: is this still the kernel the guard means to check?", f)
		}
	}
}
