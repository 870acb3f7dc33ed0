package engine

import "slices"

// sameMaths lists the engine versions whose runs this engine continues bit
// for bit: Version and every earlier version since the last change to the
// bits a training step computes (kernels' rounding, the order of a sum, an
// activation's polynomial, the data generators, the RNG's use). A release
// that changes none of them adds its Version here; one that changes any of
// them bumps Version and resets this list to it alone, so checkpoints of
// earlier maths are refused with a reason instead of continued with
// different bits (persist/testdata/golden keeps one per version to prove it).
var sameMaths = []string{Version}

// ContinuesExactly reports whether a checkpoint written by engine version v
// resumes on this engine bit-identically to a run that never stopped.
func ContinuesExactly(v string) bool { return slices.Contains(sameMaths, v) }
