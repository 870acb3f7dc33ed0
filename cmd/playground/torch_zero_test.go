//go:build !js

package main

import "testing"

// Settings of zero are honoured, not replaced by defaults: AdamW without
// weight decay, Adam with beta1 0 and RMSprop with alpha 0 train as
// PyTorch does with those values (the optimizer settings stored in the
// checkpoint are the ones asked for, and PyTorch, built from them,
// reproduces the engine's run).
func TestPyTorchZeroSettings(t *testing.T) {
	torchPython(t)
	const base = `{"seed":3,"dataset":{"kind":"spiral","samples":600,"noise":0.1,"test_ratio":0.3,"features":["x","y","sinx","siny"]},
		"model":{"layers":[{"units":12,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"batch_size":20,"optimizer":`
	for _, tc := range []torchCase{
		{name: "adamw-weight-decay-0", spec: base + `{"kind":"adamw","lr":0.01,"weight_decay":0}}`},
		{name: "adam-beta1-0", spec: base + `{"kind":"adam","lr":0.005,"beta1":0}}`},
		{name: "rmsprop-alpha-0", spec: base + `{"kind":"rmsprop","lr":0.001,"alpha":0}}`},
	} {
		t.Run(tc.name, func(t *testing.T) { continueInTorch(t, tc) })
	}
}
