package persist

import (
	"context"
	"errors"
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

// CheckCall reports a bad id before a done context, and nil when both
// are fine.
func TestCheckCall(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	if err := CheckCall(ctx, "run", "c1"); err != nil {
		t.Errorf("CheckCall(run, c1) = %v", err)
	}
	cancel()
	if err := CheckCall(ctx, "run", "../c1"); !errors.Is(err, ErrBadID) {
		t.Errorf("CheckCall(run, ../c1) after cancel = %v, want ErrBadID", err)
	}
	if err := CheckCall(ctx, "run"); !errors.Is(err, context.Canceled) {
		t.Errorf("CheckCall(run) after cancel = %v, want context.Canceled", err)
	}
}
