package persist

import (
	"regexp"
	"testing"
)

// idPattern is ValidID's definition as a regular expression; ValidID
// itself is written out so the wasm binary does not carry package regexp.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"", "a", ".", "..", "-a", "_a", ".a", "a.b-c_d", "A", "run/1", "a b", "é",
		"0123456789012345678901234567890123456789012345678901234567890123",
		"01234567890123456789012345678901234567890123456789012345678901234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidID(s), idPattern.MatchString(s); got != want {
			t.Fatalf("ValidID(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
