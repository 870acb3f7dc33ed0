;; The engine's SIMD128 matrix kernel, called by engine/kernel_wasm.go on
;; Go's own memory. Every lane of every accumulator is one element of C: a
;; float32 running sum from +0 over p = 0..k-1 in order, each product
;; rounded (f32x4.mul) before it is added (f32x4.add). No fused or relaxed
;; instruction, so each lane has the bits of the scalar kernels.
(module
  (import "env" "mem" (memory 1))

  ;; gemm sets C[i][j] = sum over p of A[i][p]*B[p][j] for i < m, j < n,
  ;; m a multiple of 4 and n of 8, k >= 1, with C[i][j] at c + 4*(i*ldc + j),
  ;; A[i][p] at a + 4*(i*ars + p*acs) and B[p][j] at b + 4*(p*ldb + j):
  ;; tiles of 4 rows by 8 columns (eight f32x4 sums), B's rows contiguous.
  (func (export "gemm")
    (param $c i32) (param $ldc i32) (param $a i32) (param $ars i32) (param $acs i32)
    (param $b i32) (param $ldb i32) (param $m i32) (param $n i32) (param $k i32)
    (local $j i32) (local $p i32) (local $pb i32) (local $pc i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $x v128) (local $y0 v128) (local $y1 v128) (local $zero v128)
    (local $c00 v128) (local $c01 v128)
    (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128)
    (local $c30 v128) (local $c31 v128)
    ;; element strides to bytes
    local.get $ldc i32.const 2 i32.shl local.set $ldc
    local.get $ars i32.const 2 i32.shl local.set $ars
    local.get $acs i32.const 2 i32.shl local.set $acs
    local.get $ldb i32.const 2 i32.shl local.set $ldb
    local.get $n i32.const 2 i32.shl local.set $n
    loop $rows
      i32.const 0 local.set $j
      loop $cols
        local.get $a local.tee $a0
        local.get $ars i32.add local.tee $a1
        local.get $ars i32.add local.tee $a2
        local.get $ars i32.add local.set $a3
        local.get $b local.get $j i32.add local.set $pb
        local.get $zero local.set $c00
        local.get $zero local.set $c01
        local.get $zero local.set $c10
        local.get $zero local.set $c11
        local.get $zero local.set $c20
        local.get $zero local.set $c21
        local.get $zero local.set $c30
        local.get $zero local.set $c31
        local.get $k local.set $p
        loop $dot
          local.get $pb v128.load local.set $y0
          local.get $pb v128.load offset=16 local.set $y1
          local.get $a0 v128.load32_splat local.set $x
          local.get $c00 local.get $x local.get $y0 f32x4.mul f32x4.add local.set $c00
          local.get $c01 local.get $x local.get $y1 f32x4.mul f32x4.add local.set $c01
          local.get $a1 v128.load32_splat local.set $x
          local.get $c10 local.get $x local.get $y0 f32x4.mul f32x4.add local.set $c10
          local.get $c11 local.get $x local.get $y1 f32x4.mul f32x4.add local.set $c11
          local.get $a2 v128.load32_splat local.set $x
          local.get $c20 local.get $x local.get $y0 f32x4.mul f32x4.add local.set $c20
          local.get $c21 local.get $x local.get $y1 f32x4.mul f32x4.add local.set $c21
          local.get $a3 v128.load32_splat local.set $x
          local.get $c30 local.get $x local.get $y0 f32x4.mul f32x4.add local.set $c30
          local.get $c31 local.get $x local.get $y1 f32x4.mul f32x4.add local.set $c31
          local.get $a0 local.get $acs i32.add local.set $a0
          local.get $a1 local.get $acs i32.add local.set $a1
          local.get $a2 local.get $acs i32.add local.set $a2
          local.get $a3 local.get $acs i32.add local.set $a3
          local.get $pb local.get $ldb i32.add local.set $pb
          local.get $p i32.const 1 i32.sub local.tee $p
          br_if $dot
        end
        local.get $c local.get $j i32.add local.tee $pc
        local.get $c00 v128.store
        local.get $pc local.get $c01 v128.store offset=16
        local.get $pc local.get $ldc i32.add local.tee $pc
        local.get $c10 v128.store
        local.get $pc local.get $c11 v128.store offset=16
        local.get $pc local.get $ldc i32.add local.tee $pc
        local.get $c20 v128.store
        local.get $pc local.get $c21 v128.store offset=16
        local.get $pc local.get $ldc i32.add local.tee $pc
        local.get $c30 v128.store
        local.get $pc local.get $c31 v128.store offset=16
        local.get $j i32.const 32 i32.add local.tee $j
        local.get $n i32.lt_u
        br_if $cols
      end
      local.get $a local.get $ars i32.const 2 i32.shl i32.add local.set $a
      local.get $c local.get $ldc i32.const 2 i32.shl i32.add local.set $c
      local.get $m i32.const 4 i32.sub local.tee $m
      br_if $rows
    end)
)
