package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"playground/spec"
)

// The determinism contract across runtimes, on arm64: the binary built for
// linux/arm64 (where Go fuses multiply-adds unless the engine prevents it,
// and the engine keeps its scalar kernels) and run under qemu-aarch64 trains
// every preset to the same bits as this machine's native build, SIMD on or
// off. make test installs Debian's qemu-user and sets PLAYGROUND_REQUIRE_ARM64.
func TestArm64MatchesNative(t *testing.T) {
	qemu, err := exec.LookPath("qemu-aarch64")
	if err != nil {
		if os.Getenv("PLAYGROUND_REQUIRE_ARM64") != "" {
			t.Fatal("qemu-aarch64 is required (Debian's qemu-user)")
		}
		t.Skip("no qemu-aarch64: the arm64 build is not run")
	}
	bin := filepath.Join(t.TempDir(), "playground-arm64")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("arm64 build: %v\n%s", err, out)
	}
	for _, name := range spec.PresetNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			n := ok(t, playground(t, "train", "--preset", name, "--steps", "400", "--every", "0", "--out", filepath.Join(dir, "native")), "native train")
			a := ok(t, runCmd(t, exec.Command(qemu, bin, "train", "--preset", name, "--steps", "400", "--every", "0", "--out", filepath.Join(dir, "arm64"))), "arm64 train")
			if fn, fa := fingerprint(t, n.lastLine()), fingerprint(t, a.lastLine()); fn != fa {
				t.Fatalf("fingerprint native %s, arm64 %s", fn, fa)
			}
			if d := playground(t, "ckpt", "diff", n.lastLine(), a.lastLine()); d.code != 0 {
				t.Fatalf("diff: %s", d.stderr)
			}
		})
	}
}
