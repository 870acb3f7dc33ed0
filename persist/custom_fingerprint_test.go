package persist_test

import (
	"os"
	"testing"

	"playground/dataset"
	"playground/engine"
	"playground/persist"
	"playground/spec"
)

// customFingerprints pins, for each CSV of testdata/datasets, the
// dataset's name and the fingerprint after 300 steps from step 0 of the
// default spec on it (seed 5; test_ratio 0.2 without a split column). The
// same test runs natively and under Node (make wasm-test): the same bytes
// give the same name and the same training bits on both.
var customFingerprints = map[string][2]string{
	"moons.csv":   {"f67fe4e2a788d2559d00d8c4cb86ec5b9ce4f435b952c21f2260c6aaaa1d80f8", "83aa6727d4a09131fa88d31dcb0d8d26b3f4de27ed9f39e7c062a91c952f8712"},
	"surface.csv": {"e7650eafebd05fc723d1ac2f3d6b194c7b4b441da2b474c1cf817e6af947a4d2", "35b301da94d729f7242d488627729b30e9136ff5208128f5745fb5e2bf6d2ad4"},
}

func TestCustomFingerprints(t *testing.T) {
	for file, want := range customFingerprints {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/datasets/" + file)
			if err != nil {
				t.Fatal(err)
			}
			tab, err := dataset.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Name() != want[0] {
				t.Errorf("name %s, want %s", tab.Name(), want[0])
			}
			s := tab.Apply(spec.Spec{Seed: 5, Dataset: spec.DatasetSpec{TestRatio: 0.2}})
			tr, err := engine.NewTrainerWith(s, tab)
			if err != nil {
				t.Fatal(err)
			}
			for range 300 {
				tr.TrainStep()
			}
			if got := persist.Fingerprint(tr.State()); got != want[1] {
				t.Errorf("fingerprint at step 300 is %s, want %s", got, want[1])
			}
		})
	}
}
