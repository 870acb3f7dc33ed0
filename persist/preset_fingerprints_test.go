package persist_test

import (
	"slices"
	"testing"

	"playground/engine/enginetest"
	"playground/persist"
	"playground/spec"
)

// presetFingerprints is every preset's fingerprint after 400 steps trained
// natively from step 0. It was computed once and must never change: a
// refactoring of the spec, the engine or the format that moves any bit of
// any preset's training state fails here.
var presetFingerprints = map[string]string{
	"circle-sgd":       "ab72b6a08a7d872d5665927a916b91b2b3190379003103e50a6d05a0a32aa7fd",
	"spiral-adam":      "552376e74dd8da2143a69eb345f00bd49548eaa7d88e2974e41acc97bd42284f",
	"xor-momentum":     "be40534a61d1390b71a009bee226378b30340af76726722d7f871821ce0f522d",
	"gauss-nesterov":   "d1f87a9cdd647a924c2a0cda479a46f3b3af687a039fd6fb79072c03deb329ae",
	"spiral-rmsprop":   "0e6ab6ba66c54434d0f998b27d9e252a14c68bc29038e3a708a16411ed051134",
	"regression-adamw": "76cb624737fe9de8d67c916de0ee7763eb28a70ff7f5a5ce8a0af145f097a12c",
	"digits":           "6f569c45aade095281a34a7e283fb730d0610c4b4f223279bef90959f495899f",
	// Added with the plane and multi-gaussian datasets.
	"plane-sgd":           "c8af2b4938ce09b3b8d234563b39cb63dd41cd1c4e68378ed7c9c432e4178e8a",
	"multi-gaussian-adam": "93a83628afcb9a698849457128d964ba3c8cc4fc6ffcbc9aa0323f95a7867aa4",
}

func TestPresetFingerprintsAt400(t *testing.T) {
	names := spec.PresetNames()
	var keys []string
	for k := range presetFingerprints {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, slices.Sorted(slices.Values(names))) {
		t.Errorf("the table covers %v, the presets are %v", keys, names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			tr := enginetest.PresetTrained(t, name, 400)
			got := persist.Fingerprint(tr.State())
			if want := presetFingerprints[name]; got != want {
				t.Errorf("fingerprint at step 400 is %s, want %s", got, want)
			}
		})
	}
}
