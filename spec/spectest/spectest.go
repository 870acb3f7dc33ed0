// Package spectest holds the spec fixtures tests share.
package spectest

import (
	"testing"

	"playground/spec"
)

// Preset returns the named built-in spec, failing tb when there is none.
func Preset(tb testing.TB, name string) spec.Spec {
	tb.Helper()
	s, err := spec.Preset(name)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
