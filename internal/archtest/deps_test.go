//go:build !js

package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// The page's wasm carries no engine: the UI and the protocol build on the
// spec package alone, and the data they draw come from the worker.
func TestNoEngineInTheUI(t *testing.T) {
	for _, pkg := range []string{"playground/ui", "playground/wasm/protocol"} {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 2 {
			t.Fatalf("go list -deps %s listed %q", pkg, out)
		}
		for _, d := range deps {
			if d == "playground/engine" || strings.HasPrefix(d, "playground/engine/") {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
}
