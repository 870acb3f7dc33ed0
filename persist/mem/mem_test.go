package mem_test

import (
	"testing"

	"playground/persist"
	"playground/persist/mem"
	"playground/persist/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) persist.Store { return mem.New() })
}

func TestDataConformance(t *testing.T) {
	storetest.RunData(t, func(*testing.T) persist.DataStore { return mem.New() })
}
