#include "textflag.h"

// func gemmAVX2(c *float32, ldc int, a *float32, ars, acs int, b *float32, ldb, m, n, k int)
//
// C[i][j] = Σ_p A[i][p]·B[p][j] for i < m (a multiple of 4), j < n (a
// multiple of 16), k >= 1; C[i][j] at c[i*ldc+j], A[i][p] at
// a[i*ars+p*acs], B[p][j] at b[p*ldb+j]. Each lane of Y0-Y7 is one element
// of a 4 × 16 tile: a running sum from +0 over p in order, each product
// rounded by VMULPS before VADDPS adds it. No fused multiply-add.
TEXT ·gemmAVX2(SB), NOSPLIT, $0-80
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R8
	SHLQ $2, R8
	MOVQ a+16(FP), SI
	MOVQ ars+24(FP), R9
	SHLQ $2, R9
	MOVQ acs+32(FP), R10
	SHLQ $2, R10
	MOVQ b+40(FP), DX
	MOVQ ldb+48(FP), R11
	SHLQ $2, R11
	MOVQ n+64(FP), R13
	SHLQ $2, R13
	MOVQ k+72(FP), R14

rows:
	XORQ BX, BX // j, in bytes

cols:
	MOVQ SI, AX              // A[i][p]
	LEAQ (SI)(R9*2), R12
	ADDQ R9, R12             // A[i+3][p]
	LEAQ (DX)(BX*1), CX      // B[p][j]
	MOVQ R14, R15            // p counter
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

dot:
	VMOVUPS (CX), Y8
	VMOVUPS 32(CX), Y9
	VBROADCASTSS (AX), Y10
	VMULPS Y8, Y10, Y11
	VADDPS Y11, Y0, Y0
	VMULPS Y9, Y10, Y12
	VADDPS Y12, Y1, Y1
	VBROADCASTSS (AX)(R9*1), Y10
	VMULPS Y8, Y10, Y11
	VADDPS Y11, Y2, Y2
	VMULPS Y9, Y10, Y12
	VADDPS Y12, Y3, Y3
	VBROADCASTSS (AX)(R9*2), Y10
	VMULPS Y8, Y10, Y11
	VADDPS Y11, Y4, Y4
	VMULPS Y9, Y10, Y12
	VADDPS Y12, Y5, Y5
	VBROADCASTSS (R12), Y10
	VMULPS Y8, Y10, Y11
	VADDPS Y11, Y6, Y6
	VMULPS Y9, Y10, Y12
	VADDPS Y12, Y7, Y7
	ADDQ R10, AX
	ADDQ R10, R12
	ADDQ R11, CX
	DECQ R15
	JNZ  dot

	LEAQ (DI)(BX*1), CX
	VMOVUPS Y0, (CX)
	VMOVUPS Y1, 32(CX)
	ADDQ R8, CX
	VMOVUPS Y2, (CX)
	VMOVUPS Y3, 32(CX)
	ADDQ R8, CX
	VMOVUPS Y4, (CX)
	VMOVUPS Y5, 32(CX)
	ADDQ R8, CX
	VMOVUPS Y6, (CX)
	VMOVUPS Y7, 32(CX)

	ADDQ $64, BX
	CMPQ BX, R13
	JLT  cols

	LEAQ (SI)(R9*4), SI // next 4 rows
	LEAQ (DI)(R8*4), DI
	SUBQ $4, m+56(FP)
	JGT  rows
	VZEROUPPER
	RET

// func hasAVX2() bool
TEXT ·hasAVX2(SB), NOSPLIT, $0-1
	MOVB $0, ret+0(FP)
	MOVL $0, AX
	CPUID
	CMPL AX, $7
	JLT  no
	MOVL $1, AX
	CPUID
	ANDL $0x18000000, CX // OSXSAVE and AVX
	CMPL CX, $0x18000000
	JNE  no
	MOVL $0, CX
	XGETBV
	ANDL $6, AX // XMM and YMM state saved by the OS
	CMPL AX, $6
	JNE  no
	MOVL $7, AX
	MOVL $0, CX
	CPUID
	BTL  $5, BX // AVX2
	JCC  no
	MOVB $1, ret+0(FP)

no:
	RET
