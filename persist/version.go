package persist

import (
	"fmt"

	"playground/engine"
)

// A checkpoint carries two versions, and a build resumes it only if both
// are ones it continues bit for bit; otherwise every reader (Decode,
// ReadHeader, VerifyReader, Encode) refuses it with ErrVersion and says
// which version differs:
//
//   - format_version: the file layout. This build reads FormatVersion only;
//     a build that changes the layout must keep reading every earlier
//     version or refuse it here.
//   - engine_version: the maths of a training step. A build reads the
//     versions engine.ContinuesExactly accepts: those whose runs it
//     continues bit-identically.
//
// persist/testdata/golden holds checkpoints of every released pair;
// TestGolden resumes each or checks that it is refused.

// checkEngine refuses a checkpoint written by an engine whose maths this
// one does not reproduce.
func checkEngine(v string) error {
	if engine.ContinuesExactly(v) {
		return nil
	}
	return fmt.Errorf("%w: written by engine version %s, whose maths this engine (%s) does not reproduce bit for bit: it cannot continue the run exactly",
		ErrVersion, quote(v), engine.Version)
}
