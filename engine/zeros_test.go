package engine

import (
	"slices"
	"testing"

	"playground/spec"
)

// A zero in a spec is honoured by training: AdamW with weight_decay 0 is
// Adam (its decay step multiplies by 1 - lr·0, and the engine skips it),
// bit for bit, and differs from AdamW's default 0.01; Adam with beta1 0
// differs from its default 0.9; RMSprop with alpha 0 trains.
func TestZeroSettingsTrainAsAsked(t *testing.T) {
	const model = `"seed":5,"dataset":{"kind":"circle","samples":200,"test_ratio":0.2},"model":{"layers":[{"units":8,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]}`
	params := func(optimizer string) [][]uint32 {
		t.Helper()
		s, err := spec.ParseSpec([]byte(`{` + model + `,"optimizer":{` + optimizer + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		tr := mustTrainer(t, s)
		for range 50 {
			tr.TrainStep()
		}
		var out [][]uint32
		for _, st := range tr.State().Tensors {
			if st.F32 != nil { // parameters and optimizer state
				out = append(out, f32bits(st.F32))
			}
		}
		return out
	}
	same := func(a, b [][]uint32) bool { return slices.EqualFunc(a, b, slices.Equal[[]uint32]) }
	adam := params(`"kind":"adam","lr":0.01`)
	adamw0 := params(`"kind":"adamw","lr":0.01,"weight_decay":0`)
	adamwDefault := params(`"kind":"adamw","lr":0.01`)
	if !same(adamw0, adam) {
		t.Error("AdamW with weight_decay 0 differs from Adam")
	}
	if same(adamwDefault, adam) {
		t.Error("AdamW with its default weight_decay 0.01 equals Adam")
	}
	if same(params(`"kind":"adam","lr":0.01,"beta1":0`), adam) {
		t.Error("Adam with beta1 0 equals Adam with beta1 0.9")
	}
	if same(params(`"kind":"rmsprop","lr":0.01,"alpha":0`), params(`"kind":"rmsprop","lr":0.01`)) {
		t.Error("RMSprop with alpha 0 equals RMSprop with alpha 0.99")
	}
}
