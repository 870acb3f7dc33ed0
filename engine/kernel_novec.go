//go:build !(js && wasm) && !amd64

package engine

// probeVector finds no vector kernel: this runtime uses the scalar kernels.
func probeVector() *vecKernel { return nil }
