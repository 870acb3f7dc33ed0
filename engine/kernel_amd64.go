package engine

// The AVX2 kernel of kernel_amd64.s: tiles of 4 rows × 16 columns, eight
// 8-lane sums, VMULPS then VADDPS (never VFMADD: TestNoFusedMultiplyAdd
// scans the assembly too). Used when the CPU and the OS support AVX2.

//go:noescape
func gemmAVX2(c *float32, ldc int, a *float32, ars, acs int, b *float32, ldb, m, n, k int)

// hasAVX2 reports whether the CPU has AVX2 and the OS saves the YMM
// registers (CPUID and XGETBV).
func hasAVX2() bool

func probeVector() *vecKernel {
	if !hasAVX2() {
		return nil
	}
	return &vecKernel{name: "amd64-avx2", cols: 16, minMACs: 1 << 12, gemm: func(c []float32, ldc int, a view, b []float32, ldb, m, n, k int) {
		gemmAVX2(&c[0], ldc, &a.d[0], a.rs, a.cs, &b[0], ldb, m, n, k)
	}}
}
