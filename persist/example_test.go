package persist_test

import (
	"errors"
	"fmt"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/spec"
)

func ExampleDecode() {
	spec, _ := spec.Preset("circle-sgd")
	tr, _ := engine.NewTrainer(spec)
	for range 100 {
		tr.TrainStep()
	}
	b, err := persist.Encode(&persist.Checkpoint{
		Meta: persist.Meta{
			RunID:         persist.NewRunID(spec.Name),
			ID:            persist.NewID(tr.Step),
			Created:       time.Now(),
			EngineVersion: engine.Version,
			Kind:          persist.KindAutosave,
		},
		State: tr.State(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	c, err := persist.Decode(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("step", c.State.Step, c.Kind)
	fmt.Println("same state:", persist.Fingerprint(c.State) == persist.Fingerprint(tr.State()))

	b[len(b)-1] ^= 1 // one flipped bit in the last tensor
	_, err = persist.Decode(b)
	fmt.Println("corrupt:", errors.Is(err, persist.ErrCorrupt))
	_, err = persist.Decode(b[:len(b)/2])
	fmt.Println("truncated:", errors.Is(err, persist.ErrTruncated))
	// Output:
	// step 100 autosave
	// same state: true
	// corrupt: true
	// truncated: true
}

func ExampleFingerprint() {
	spec, _ := spec.Preset("xor-momentum")
	a, _ := engine.NewTrainer(spec)
	b, _ := engine.NewTrainer(spec)
	fmt.Println(persist.Fingerprint(a.State()) == persist.Fingerprint(b.State()))
	a.TrainStep()
	fmt.Println(persist.Fingerprint(a.State()) == persist.Fingerprint(b.State()))
	// Output:
	// true
	// false
}

func ExampleStepOfID() {
	id := persist.NewID(12480)
	step, ok := persist.StepOfID(id)
	fmt.Println(id[:13], step, ok)
	// Output: 000000012480- 12480 true
}
