//go:build js && wasm

// Command playground is the page's one wasm binary, in three roles chosen
// at start-up by its first argument (web/loader.js sets it): "page", the UI
// on the page's main thread (wasm/ui); "engine", the training session in
// the engine worker (wasm/worker); "writer", the worker the engine hands
// its IndexedDB writes to (wasm/worker). One binary is downloaded and
// compiled once: the page compiles it and posts the module to the workers.
package main

import (
	"fmt"
	"os"

	"playground/wasm/ui"
	"playground/wasm/worker"
)

func main() {
	role := ""
	if len(os.Args) > 1 {
		role = os.Args[1]
	}
	switch role {
	case "page":
		ui.Run()
	case "engine":
		worker.Engine()
	case "writer":
		worker.Writer()
	default:
		fmt.Fprintf(os.Stderr, "playground: unknown role %q (want page, engine or writer)\n", role)
		os.Exit(2)
	}
}
