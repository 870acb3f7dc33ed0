// Package engine trains small neural networks as a pure function of
// (spec, seed, step), bit for bit the same natively on amd64 and arm64 and
// compiled to WebAssembly.
//
// A Trainer owns one Model (every parameter in one flat Arena, tensors are
// views into it), one Optimizer (its state arenas have the parameters'
// length) and one Dataset, generated from the spec's seed. The data order
// of epoch e depends on (seed, e) only, so a trainer restored from a State
// at any step (Restore) continues exactly as one that never stopped.
//
// The rules that keep the bits equal everywhere: no math.Exp, Log, Tanh or
// Pow in the training path (the engine has portable float32 versions: Exp,
// Log, Tanh, Sigmoid, Powi); every product that an FMA could fuse is
// rounded explicitly (float32(a*b)); every element of a matrix product is
// one float32 sum over k in order, whatever the blocking or the number of
// goroutines (MatMul); normals come from the engine's own transform. The
// tests check them: TestMatMulBitsMatchReference, the FMA guard in
// fma_test.go, and the cross-runtime fingerprints of cmd/playground.
//
// engine imports nothing of the project's; persist writes its State as a
// checkpoint.
package engine
