package spec

import "testing"

// oldSpecs are specs as written before fields said what they mean (zero
// read as "unset"), with what Normalize made of them then: partial specs
// as a user writes them, and every preset's table entry. They must
// normalize to the same canonical JSON forever (checkpoints store it, and
// Decode insists on it).
var oldSpecs = []struct{ in, want string }{
	{`{"dataset":{"kind":"circle"},"model":{"layers":[{"units":4,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"sgd","lr":0.1}}`,
		`{"seed":0,"dataset":{"kind":"circle","samples":1000,"noise":0,"test_ratio":0,"features":["x","y"]},"model":{"layers":[{"units":4,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.1},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`{"seed":3,"dataset":{"kind":"spiral","noise":0.2},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"adam","lr":0.01}}`,
		`{"seed":3,"dataset":{"kind":"spiral","samples":1000,"noise":0.2,"test_ratio":0,"features":["x","y"]},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"adam","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`{"dataset":{"kind":"xor","features":["x","xy"]},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"adamw","lr":0.01},"schedule":{"kind":"cosine","warmup":10,"total":100}}`,
		`{"seed":0,"dataset":{"kind":"xor","samples":1000,"noise":0,"test_ratio":0,"features":["x","xy"]},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"adamw","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.01},"schedule":{"kind":"cosine","warmup":10,"total":100},"regularization":{"kind":"none"},"batch_size":10}`},
	{`{"dataset":{"kind":"gauss","samples":200,"test_ratio":0.5},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"rmsprop","lr":0.001},"regularization":{"kind":"l2","rate":0.01},"batch_size":5}`,
		`{"seed":0,"dataset":{"kind":"gauss","samples":200,"noise":0,"test_ratio":0.5,"features":["x","y"]},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"rmsprop","lr":0.001,"alpha":0.99,"eps":1e-8},"schedule":{"kind":"constant"},"regularization":{"kind":"l2","rate":0.01},"batch_size":5}`},
	{`{"dataset":{"kind":"regression"},"loss":"mse","model":{"layers":[{"units":1,"activation":"linear"}]},"optimizer":{"kind":"adam","lr":0.01,"beta1":0.8,"beta2":0.99,"eps":1e-6,"weight_decay":0.001}}`,
		`{"seed":0,"dataset":{"kind":"regression","samples":1000,"noise":0,"test_ratio":0,"features":["x","y"]},"model":{"layers":[{"units":1,"activation":"linear"}]},"loss":"mse","optimizer":{"kind":"adam","lr":0.01,"beta1":0.8,"beta2":0.99,"eps":0.000001,"weight_decay":0.001},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`{"dataset":{"kind":"digits","samples":100},"model":{"layers":[{"units":10,"activation":"softmax"}]},"optimizer":{"kind":"sgd","lr":0.1,"momentum":0.9,"nesterov":true,"weight_decay":0.0001},"schedule":{"kind":"step","step_size":10,"gamma":0.5}}`,
		`{"seed":0,"dataset":{"kind":"digits","samples":100,"noise":0,"test_ratio":0},"model":{"layers":[{"units":10,"activation":"softmax"}]},"loss":"softmax_ce","optimizer":{"kind":"sgd","lr":0.1,"momentum":0.9,"nesterov":true,"weight_decay":0.0001},"schedule":{"kind":"step","step_size":10,"gamma":0.5},"regularization":{"kind":"none"},"batch_size":10}`},
	{`{"dataset":{"kind":"circle"},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"optimizer":{"kind":"adamw","lr":0.01,"weight_decay":0.05,"eps":1e-7},"regularization":{"kind":"none","rate":0.5}}`,
		`{"seed":0,"dataset":{"kind":"circle","samples":1000,"noise":0,"test_ratio":0,"features":["x","y"]},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"adamw","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-7,"weight_decay":0.05},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`{"name":"circle-sgd","seed":1,"dataset":{"kind":"circle","samples":1000,"noise":0.1,"test_ratio":0.5},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":16,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.03},"schedule":{"kind":"constant"},"regularization":{"kind":""},"batch_size":10}`,
		`{"name":"circle-sgd","seed":1,"dataset":{"kind":"circle","samples":1000,"noise":0.1,"test_ratio":0.5,"features":["x","y"]},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":16,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.03},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`{"name":"spiral-adam","seed":2,"dataset":{"kind":"spiral","samples":1000,"noise":0.1,"test_ratio":0.5,"features":["x","y","x2","y2","xy","sinx","siny"]},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":16,"activation":"tanh"},{"units":8,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"adam","lr":0.01},"schedule":{"kind":"cosine","warmup":100,"total":20000,"min_lr":0.0005},"regularization":{"kind":""},"batch_size":10}`,
		`{"name":"spiral-adam","seed":2,"dataset":{"kind":"spiral","samples":1000,"noise":0.1,"test_ratio":0.5,"features":["x","y","x2","y2","xy","sinx","siny"]},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":16,"activation":"tanh"},{"units":8,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"adam","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8},"schedule":{"kind":"cosine","warmup":100,"total":20000,"min_lr":0.0005},"regularization":{"kind":"none"},"batch_size":10}`},
	{`{"name":"xor-momentum","seed":3,"dataset":{"kind":"xor","samples":600,"noise":0.05,"test_ratio":0.3},"model":{"layers":[{"units":8,"activation":"relu"},{"units":8,"activation":"relu"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.03,"momentum":0.9},"schedule":{"kind":"step","step_size":1000,"gamma":0.5},"regularization":{"kind":"l2","rate":0.001},"batch_size":16}`,
		`{"name":"xor-momentum","seed":3,"dataset":{"kind":"xor","samples":600,"noise":0.05,"test_ratio":0.3,"features":["x","y"]},"model":{"layers":[{"units":8,"activation":"relu"},{"units":8,"activation":"relu"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.03,"momentum":0.9},"schedule":{"kind":"step","step_size":1000,"gamma":0.5},"regularization":{"kind":"l2","rate":0.001},"batch_size":16}`},
	{`{"name":"gauss-nesterov","seed":4,"dataset":{"kind":"gauss","samples":500,"noise":0.3,"test_ratio":0.2},"model":{"layers":[{"units":4,"activation":"sigmoid"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.05,"momentum":0.8,"nesterov":true},"schedule":{"kind":"constant"},"regularization":{"kind":"l1","rate":0.0005},"batch_size":25}`,
		`{"name":"gauss-nesterov","seed":4,"dataset":{"kind":"gauss","samples":500,"noise":0.3,"test_ratio":0.2,"features":["x","y"]},"model":{"layers":[{"units":4,"activation":"sigmoid"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.05,"momentum":0.8,"nesterov":true},"schedule":{"kind":"constant"},"regularization":{"kind":"l1","rate":0.0005},"batch_size":25}`},
	{`{"name":"spiral-rmsprop","seed":5,"dataset":{"kind":"spiral","samples":800,"noise":0.2,"test_ratio":0.25,"features":["x","y","sinx","siny"]},"model":{"layers":[{"units":24,"activation":"leaky_relu"},{"units":12,"activation":"leaky_relu"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"rmsprop","lr":0.003},"schedule":{"kind":"step","step_size":2000,"gamma":0.7},"regularization":{"kind":""},"batch_size":20}`,
		`{"name":"spiral-rmsprop","seed":5,"dataset":{"kind":"spiral","samples":800,"noise":0.2,"test_ratio":0.25,"features":["x","y","sinx","siny"]},"model":{"layers":[{"units":24,"activation":"leaky_relu"},{"units":12,"activation":"leaky_relu"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"rmsprop","lr":0.003,"alpha":0.99,"eps":1e-8},"schedule":{"kind":"step","step_size":2000,"gamma":0.7},"regularization":{"kind":"none"},"batch_size":20}`},
	{`{"name":"regression-adamw","seed":6,"dataset":{"kind":"regression","samples":1000,"noise":0.1,"test_ratio":0.3},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":8,"activation":"tanh"},{"units":1,"activation":"linear"}]},"loss":"mse","optimizer":{"kind":"adamw","lr":0.01,"weight_decay":0.01},"schedule":{"kind":"cosine","warmup":50,"total":5000},"regularization":{"kind":""},"batch_size":32}`,
		`{"name":"regression-adamw","seed":6,"dataset":{"kind":"regression","samples":1000,"noise":0.1,"test_ratio":0.3,"features":["x","y"]},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":8,"activation":"tanh"},{"units":1,"activation":"linear"}]},"loss":"mse","optimizer":{"kind":"adamw","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.01},"schedule":{"kind":"cosine","warmup":50,"total":5000},"regularization":{"kind":"none"},"batch_size":32}`},
	{`{"name":"digits","seed":7,"dataset":{"kind":"digits","samples":3000,"noise":0.2,"test_ratio":0.2},"model":{"layers":[{"units":64,"activation":"relu"},{"units":32,"activation":"relu"},{"units":10,"activation":"softmax"}]},"loss":"softmax_ce","optimizer":{"kind":"adam","lr":0.001},"schedule":{"kind":"constant"},"regularization":{"kind":""},"batch_size":32}`,
		`{"name":"digits","seed":7,"dataset":{"kind":"digits","samples":3000,"noise":0.2,"test_ratio":0.2},"model":{"layers":[{"units":64,"activation":"relu"},{"units":32,"activation":"relu"},{"units":10,"activation":"softmax"}]},"loss":"softmax_ce","optimizer":{"kind":"adam","lr":0.001,"beta1":0.9,"beta2":0.999,"eps":1e-8},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":32}`},
}

func TestOldSpecsNormalizeTheSame(t *testing.T) {
	for _, c := range oldSpecs {
		s, err := ParseSpec([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := string(s.JSON()); got != c.want {
			t.Errorf("%s\nnormalizes to %s\nwant         %s", c.in, got, c.want)
		}
		// The canonical form is a fixed point.
		if again, err := ParseSpec([]byte(c.want)); err != nil || string(again.JSON()) != c.want {
			t.Errorf("%s does not parse back to itself: %v", c.want, err)
		}
	}
}
