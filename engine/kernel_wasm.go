//go:build js && wasm

package engine

import "unsafe"

// The SIMD128 kernel of engine/wasmsimd (kernels.wat), which the loader of
// the Go program (engine/wasmsimd/simd.js) instantiates over Go's own
// memory and provides as the "simd" imports: the kernel reads and writes
// Go's slices where they lie (Go pointers are offsets in that memory, and
// Go's collector does not move heap objects). Where SIMD128 is missing the
// loader's available() answers 0, and the scalar kernels do the work.

//go:wasmimport simd available
func simdAvailable() int32

//go:wasmimport simd gemm
func simdGemm(c unsafe.Pointer, ldc int32, a unsafe.Pointer, ars, acs int32, b unsafe.Pointer, ldb, m, n, k int32)

func probeVector() *vecKernel {
	if simdAvailable() == 0 {
		return nil
	}
	return &vecKernel{name: "wasm-simd128", cols: 8, minMACs: 1 << 12, gemm: gemmSIMD128}
}

func gemmSIMD128(c []float32, ldc int, a view, b []float32, ldb, m, n, k int) {
	simdGemm(unsafe.Pointer(&c[0]), int32(ldc), unsafe.Pointer(&a.d[0]), int32(a.rs), int32(a.cs),
		unsafe.Pointer(&b[0]), int32(ldb), int32(m), int32(n), int32(k))
}
