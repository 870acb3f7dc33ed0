// Command build builds the Cloudflare Worker into server/workers/dist, as
// wrangler.toml's [build] command (so wrangler dev and wrangler deploy run
// it) and the Workers test do:
//
//	dist/worker/   worker.mjs, runtime.mjs, wasm_exec.js (github.com/syumai/workers'
//	               workers-assets-gen) and app.wasm (GOOS=js GOARCH=wasm go build ..)
//	dist/assets/   the page from web/dist for Workers' static assets, without the
//	               .br/.gz siblings (Cloudflare compresses by itself), and a _headers
//	               file that caches content-hashed names as immutable
//
// Run it from anywhere in the module: go run ./server/workers/build.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"playground/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

// tagsEnv names the build tags of the worker, for its test build only.
const tagsEnv = "PLAYGROUND_WORKER_TAGS"

func run() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "server", "workers")
	dist := filepath.Join(dir, "dist")
	worker := filepath.Join(dist, "worker")
	// workers-assets-gen empties its output folder first.
	if err := goCmd(root, nil, "tool", "workers-assets-gen", "-mode=go", "-o", worker); err != nil {
		return err
	}
	wasm := filepath.Join(worker, "app.wasm")
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", wasm}
	if tags := os.Getenv(tagsEnv); tags != "" {
		args = append(args, "-tags", tags) // workers_test: playgroundtest
	}
	if err := goCmd(root, []string{"GOOS=js", "GOARCH=wasm"}, append(args, "./server/workers")...); err != nil {
		return err
	}
	return stageAssets(filepath.Join(root, "web", "dist"), filepath.Join(dist, "assets"))
}

// moduleRoot is the folder of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the playground module")
	}
	return filepath.Dir(mod), nil
}

func goCmd(dir string, env []string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// stageAssets copies the page's files from src into a fresh dst and
// writes dst/_headers.
func stageAssets(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	var headers, sw strings.Builder
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == src {
			return fs.SkipAll // the page is not built: the worker shows a placeholder
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if name == "README.md" || strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
			return nil
		}
		if cc := server.ImmutableCacheControl(name); cc != "" {
			// Content-hashed names, cached as the server caches them.
			fmt.Fprintf(&headers, "/%s\n  Cache-Control: %s\n", name, cc)
		}
		if name == "sw.js" {
			// The service worker, revalidated as the server does, so a
			// deploy replaces it (after the hashed names: the test reads
			// the first line as one).
			fmt.Fprintf(&sw, "/%s\n  Cache-Control: no-cache\n", name)
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	if err != nil {
		return fmt.Errorf("staging %s: %w", src, err)
	}
	return os.WriteFile(filepath.Join(dst, "_headers"), []byte(headers.String()+sw.String()), 0o644)
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
