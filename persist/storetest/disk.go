package storetest

import (
	"testing"

	"playground/persist/disk"
)

// Disk is a new disk store in a temporary directory of tb's: the store
// other packages' tests run against.
func Disk(tb testing.TB) *disk.Store {
	tb.Helper()
	s, err := disk.New(tb.TempDir(), disk.NewOptions())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
