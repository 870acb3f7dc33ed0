package wasmsimd

import (
	"encoding/base64"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite simd.js with the assembly of kernels.wat")

//go:generate go test -run TestLoaderCarriesTheKernels -update .

var moduleLine = regexp.MustCompile(`(?m)^  const MODULE = '[A-Za-z0-9+/=]*';$`)

// simd.js carries exactly the assembly of kernels.wat.
func TestLoaderCarriesTheKernels(t *testing.T) {
	wat, err := os.ReadFile("kernels.wat")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := Assemble(string(wat))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("simd.js")
	if err != nil {
		t.Fatal(err)
	}
	want := "  const MODULE = '" + base64.StdEncoding.EncodeToString(bin) + "';"
	got := moduleLine.Find(js)
	if got == nil {
		t.Fatal("simd.js has no line `  const MODULE = '...';`")
	}
	if string(got) == want {
		return
	}
	if !*update {
		t.Fatal("simd.js does not carry the assembly of kernels.wat: run go generate ./engine/wasmsimd")
	}
	js = moduleLine.ReplaceAll(js, []byte(want))
	if err := os.WriteFile("simd.js", js, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The FMA guard of the wasm kernels: every instruction of the module simd.js
// carries is one the assembler knows, and none fuses a multiply with an add
// (f32x4.relaxed_madd and the like, or anything else) or is relaxed.
func TestNoFusedOrRelaxedInstructions(t *testing.T) {
	js, err := os.ReadFile("simd.js")
	if err != nil {
		t.Fatal(err)
	}
	line := moduleLine.Find(js)
	if line == nil {
		t.Fatal("simd.js has no module")
	}
	b64 := strings.TrimSuffix(strings.TrimPrefix(string(line), "  const MODULE = '"), "';")
	bin, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	names, err := Instructions(bin)
	if err != nil {
		t.Fatal(err)
	}
	muls, adds := 0, 0
	for _, n := range names {
		if strings.Contains(n, "relaxed") || strings.Contains(n, "madd") || strings.Contains(n, "nmadd") || strings.Contains(n, "fma") {
			t.Errorf("fused or relaxed instruction %s", n)
		}
		switch n {
		case "f32x4.mul":
			muls++
		case "f32x4.add":
			adds++
		}
	}
	if muls == 0 || muls != adds {
		t.Errorf("%d f32x4.mul and %d f32x4.add: want as many of each, one add per rounded product", muls, adds)
	}
	// A relaxed opcode (0xfd 0x100-0x113) is refused by the decoder.
	relaxed := []byte("\x00asm\x01\x00\x00\x00\x0a\x07\x01\x05\x00\xfd\x85\x02\x0b")
	if _, err := Instructions(relaxed); err == nil {
		t.Error("the decoder accepted f32x4.relaxed_madd")
	}
}

// Errors in the text say what is wrong.
func TestAssembleErrors(t *testing.T) {
	for _, src := range []string{
		``,
		`(module (func (export "f") f32x4.relaxed_madd))`,
		`(module (func (local $x i32) local.get $y))`,
		`(module (func block br $nowhere end))`,
		`(module (func loop))`,
		`(module (import "env" "other" (memory 1)))`,
		`(module (func (param $x i33)))`,
	} {
		if _, err := Assemble(src); err == nil {
			t.Errorf("Assemble(%q) succeeded", src)
		}
	}
}

func FuzzInstructions(f *testing.F) {
	wat, _ := os.ReadFile("kernels.wat")
	bin, _ := Assemble(string(wat))
	f.Add(bin)
	f.Fuzz(func(t *testing.T, b []byte) {
		Instructions(b) // must not panic
	})
}
