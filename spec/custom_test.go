package spec

import (
	"strings"
	"testing"
)

const customJSON = `{"seed":3,"dataset":{"kind":"csv","samples":100,"noise":0,"test_ratio":0,` +
	`"sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","inputs":4,"classes":3,"split":true,"test":20},` +
	`"model":{"layers":[{"units":8,"activation":"tanh"},{"units":3,"activation":"softmax"}]},` +
	`"loss":"softmax_ce","optimizer":{"kind":"adam","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`

func TestCustomSpec(t *testing.T) {
	s, err := ParseSpec([]byte(customJSON))
	if err != nil {
		t.Fatal(err)
	}
	if s.Inputs() != 4 || s.Outputs() != 3 || s.Dataset.TestSamples() != 20 || s.Dataset.TrainSamples() != 80 {
		t.Fatalf("inputs %d outputs %d test %d", s.Inputs(), s.Outputs(), s.Dataset.TestSamples())
	}
	if got := string(s.JSON()); got != customJSON {
		t.Fatalf("JSON does not round-trip:\n%s\n%s", got, customJSON)
	}
	again, err := ParseSpec(s.JSON())
	if err != nil || string(again.JSON()) != customJSON {
		t.Fatalf("re-parse: %v", err)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"sha256":"0123`, `"sha256":"X123`, "needs sha256"},
		{`"samples":100`, `"samples":3`, "samples 3 out of range"},
		{`,"samples":100`, ``, "needs its samples"},
		{`"inputs":4`, `"inputs":0`, "inputs 0 out of range"},
		{`"inputs":4`, `"inputs":1025`, "inputs 1025 out of range"},
		{`"classes":3`, `"classes":1`, "classes 1"},
		{`"classes":3`, `"classes":65`, "classes 65"},
		{`"noise":0`, `"noise":0.1`, "takes no noise"},
		{`"test_ratio":0`, `"test_ratio":0.2`, "takes no test_ratio"},
		{`"test":20`, `"test":100`, "test rows 100 out of range"},
		{`"split":true,"test":20`, `"test":20`, "needs a split column"},
		{`"loss":"softmax_ce"`, `"loss":"mse"`, "needs loss \"softmax_ce\""},
		{`{"units":3,"activation":"softmax"}`, `{"units":2,"activation":"softmax"}`, "output layer has 2 units"},
		{`"batch_size":10`, `"batch_size":81`, "batch size 81 out of range [1, 80"},
		{`"kind":"csv"`, `"kind":"circle"`, "sha256, inputs, classes, split and test are for csv"},
	} {
		b := strings.Replace(customJSON, c.from, c.to, 1)
		if b == customJSON {
			t.Fatalf("%q is not in the spec", c.from)
		}
		if _, err := ParseSpec([]byte(b)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
	for classes, loss := range map[int]string{0: "mse", 2: "bce", 5: "softmax_ce"} {
		if got := customLoss(classes); got != loss {
			t.Errorf("classes %d: loss %s, want %s", classes, got, loss)
		}
	}
}
