package protocol

import (
	"net/url"
	"strings"
	"testing"

	"playground/spec"
)

// oldLinks are shared links as written before fields said what they mean
// (zero values left out), with the spec they gave then: they must give the
// same spec forever.
var oldLinks = []struct{ query, want string }{
	{`dataset=circle&layers=4:tanh,1:sigmoid&optimizer=adamw&lr=0.01`,
		`{"seed":0,"dataset":{"kind":"circle","samples":1000,"noise":0,"test_ratio":0,"features":["x","y"]},"model":{"layers":[{"units":4,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"adamw","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.01},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`dataset=spiral&layers=1:sigmoid&optimizer=rmsprop&lr=0.01&batch=5`,
		`{"seed":0,"dataset":{"kind":"spiral","samples":1000,"noise":0,"test_ratio":0,"features":["x","y"]},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"rmsprop","lr":0.01,"alpha":0.99,"eps":1e-8},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":5}`},
	{`dataset=xor&layers=1:sigmoid&optimizer=adam&lr=0.01&beta1=0.5`,
		`{"seed":0,"dataset":{"kind":"xor","samples":1000,"noise":0,"test_ratio":0,"features":["x","y"]},"model":{"layers":[{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"adam","lr":0.01,"beta1":0.5,"beta2":0.999,"eps":1e-8},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`name=circle-sgd&seed=1&dataset=circle&samples=1000&noise=0.1&test=0.5&features=x,y&layers=16:tanh,16:tanh,1:sigmoid&loss=bce&optimizer=sgd&lr=0.03&schedule=constant&batch=10`,
		`{"name":"circle-sgd","seed":1,"dataset":{"kind":"circle","samples":1000,"noise":0.1,"test_ratio":0.5,"features":["x","y"]},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":16,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.03},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`name=spiral-adam&seed=2&dataset=spiral&samples=1000&noise=0.1&test=0.5&features=x,y,x2,y2,xy,sinx,siny&layers=16:tanh,16:tanh,8:tanh,1:sigmoid&loss=bce&optimizer=adam&lr=0.01&beta1=0.9&beta2=0.999&eps=1e-08&schedule=cosine&warmup=100&total=20000&minLR=0.0005&batch=10`,
		`{"name":"spiral-adam","seed":2,"dataset":{"kind":"spiral","samples":1000,"noise":0.1,"test_ratio":0.5,"features":["x","y","x2","y2","xy","sinx","siny"]},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":16,"activation":"tanh"},{"units":8,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"adam","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8},"schedule":{"kind":"cosine","warmup":100,"total":20000,"min_lr":0.0005},"regularization":{"kind":"none"},"batch_size":10}`},
	{`name=xor-momentum&seed=3&dataset=xor&samples=600&noise=0.05&test=0.3&features=x,y&layers=8:relu,8:relu,1:sigmoid&loss=bce&optimizer=sgd&lr=0.03&momentum=0.9&schedule=step&stepSize=1000&gamma=0.5&reg=l2&regRate=0.001&batch=16`,
		`{"name":"xor-momentum","seed":3,"dataset":{"kind":"xor","samples":600,"noise":0.05,"test_ratio":0.3,"features":["x","y"]},"model":{"layers":[{"units":8,"activation":"relu"},{"units":8,"activation":"relu"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.03,"momentum":0.9},"schedule":{"kind":"step","step_size":1000,"gamma":0.5},"regularization":{"kind":"l2","rate":0.001},"batch_size":16}`},
	{`name=gauss-nesterov&seed=4&dataset=gauss&samples=500&noise=0.3&test=0.2&features=x,y&layers=4:sigmoid,1:sigmoid&loss=bce&optimizer=sgd&lr=0.05&momentum=0.8&nesterov=1&schedule=constant&reg=l1&regRate=0.0005&batch=25`,
		`{"name":"gauss-nesterov","seed":4,"dataset":{"kind":"gauss","samples":500,"noise":0.3,"test_ratio":0.2,"features":["x","y"]},"model":{"layers":[{"units":4,"activation":"sigmoid"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"sgd","lr":0.05,"momentum":0.8,"nesterov":true},"schedule":{"kind":"constant"},"regularization":{"kind":"l1","rate":0.0005},"batch_size":25}`},
	{`name=spiral-rmsprop&seed=5&dataset=spiral&samples=800&noise=0.2&test=0.25&features=x,y,sinx,siny&layers=24:leaky_relu,12:leaky_relu,1:sigmoid&loss=bce&optimizer=rmsprop&lr=0.003&alpha=0.99&eps=1e-08&schedule=step&stepSize=2000&gamma=0.7&batch=20`,
		`{"name":"spiral-rmsprop","seed":5,"dataset":{"kind":"spiral","samples":800,"noise":0.2,"test_ratio":0.25,"features":["x","y","sinx","siny"]},"model":{"layers":[{"units":24,"activation":"leaky_relu"},{"units":12,"activation":"leaky_relu"},{"units":1,"activation":"sigmoid"}]},"loss":"bce","optimizer":{"kind":"rmsprop","lr":0.003,"alpha":0.99,"eps":1e-8},"schedule":{"kind":"step","step_size":2000,"gamma":0.7},"regularization":{"kind":"none"},"batch_size":20}`},
	{`name=regression-adamw&seed=6&dataset=regression&samples=1000&noise=0.1&test=0.3&features=x,y&layers=16:tanh,8:tanh,1:linear&loss=mse&optimizer=adamw&lr=0.01&beta1=0.9&beta2=0.999&eps=1e-08&decay=0.01&schedule=cosine&warmup=50&total=5000&batch=32`,
		`{"name":"regression-adamw","seed":6,"dataset":{"kind":"regression","samples":1000,"noise":0.1,"test_ratio":0.3,"features":["x","y"]},"model":{"layers":[{"units":16,"activation":"tanh"},{"units":8,"activation":"tanh"},{"units":1,"activation":"linear"}]},"loss":"mse","optimizer":{"kind":"adamw","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.01},"schedule":{"kind":"cosine","warmup":50,"total":5000},"regularization":{"kind":"none"},"batch_size":32}`},
	{`name=digits&seed=7&dataset=digits&samples=3000&noise=0.2&test=0.2&layers=64:relu,32:relu,10:softmax&loss=softmax_ce&optimizer=adam&lr=0.001&beta1=0.9&beta2=0.999&eps=1e-08&schedule=constant&batch=32`,
		`{"name":"digits","seed":7,"dataset":{"kind":"digits","samples":3000,"noise":0.2,"test_ratio":0.2},"model":{"layers":[{"units":64,"activation":"relu"},{"units":32,"activation":"relu"},{"units":10,"activation":"softmax"}]},"loss":"softmax_ce","optimizer":{"kind":"adam","lr":0.001,"beta1":0.9,"beta2":0.999,"eps":1e-8},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":32}`},
	// The presets of TensorFlow Playground's regression sets (the second
	// with a data seed of its own).
	{`name=plane-sgd&seed=8&dataset=plane&samples=1000&noise=0.1&test=0.5&features=x,y&layers=4:tanh,2:tanh,1:linear&loss=mse&optimizer=sgd&lr=0.01&schedule=constant&batch=10`,
		`{"name":"plane-sgd","seed":8,"dataset":{"kind":"plane","samples":1000,"noise":0.1,"test_ratio":0.5,"features":["x","y"]},"model":{"layers":[{"units":4,"activation":"tanh"},{"units":2,"activation":"tanh"},{"units":1,"activation":"linear"}]},"loss":"mse","optimizer":{"kind":"sgd","lr":0.01},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
	{`name=multi-gaussian-adam&seed=9&dataset=multi-gaussian&dataSeed=11&samples=1000&noise=0.05&test=0.5&features=x,y,x2,y2,sinx,siny&layers=12:tanh,8:tanh,1:linear&loss=mse&optimizer=adam&lr=0.01&beta1=0.9&beta2=0.999&eps=1e-08&schedule=constant&batch=10`,
		`{"name":"multi-gaussian-adam","seed":9,"dataset":{"kind":"multi-gaussian","seed":11,"samples":1000,"noise":0.05,"test_ratio":0.5,"features":["x","y","x2","y2","sinx","siny"]},"model":{"layers":[{"units":12,"activation":"tanh"},{"units":8,"activation":"tanh"},{"units":1,"activation":"linear"}]},"loss":"mse","optimizer":{"kind":"adam","lr":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-8},"schedule":{"kind":"constant"},"regularization":{"kind":"none"},"batch_size":10}`},
}

func TestOldLinksGiveTheSameSpec(t *testing.T) {
	for _, c := range oldLinks {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		s, err := SpecFromQuery(q)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		if got := string(s.JSON()); got != c.want {
			t.Errorf("%s\ngives %s\nwant  %s", c.query, got, c.want)
		}
	}
}

// A preset's link reads as it did.
func TestPresetLinksUnchanged(t *testing.T) {
	old := oldLinks[len(oldLinks)-len(spec.PresetNames()):]
	for i, name := range spec.PresetNames() {
		s, _ := spec.Preset(name)
		if got := EncodeSpecQuery(s); got != old[i].query {
			t.Errorf("%s: link %s, was %s", name, got, old[i].query)
		}
	}
}

// A zero in a link is honoured where absence means a default, and the
// link of such a spec carries it.
func TestLinkZeros(t *testing.T) {
	q, _ := url.ParseQuery("dataset=circle&layers=1:sigmoid&optimizer=adamw&lr=0.1&beta1=0&eps=0&decay=0")
	s, err := SpecFromQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	if o := s.Optimizer; o.Beta1 != 0 || o.Beta2 != 0.999 || o.Eps != 0 || o.WeightDecay != 0 {
		t.Fatalf("optimizer %+v", o)
	}
	link := EncodeSpecQuery(s)
	for _, want := range []string{"beta1=0&", "eps=0&", "decay=0&"} {
		if !strings.Contains(link, want) {
			t.Errorf("link %s lacks %s", link, want)
		}
	}
	back, _ := url.ParseQuery(link)
	if s2, err := SpecFromQuery(back); err != nil || string(s2.JSON()) != string(s.JSON()) {
		t.Errorf("%s does not round-trip: %v", link, err)
	}
	for q, want := range map[string]string{
		"dataset=circle&layers=1:sigmoid&optimizer=sgd&lr=NaN":         "not a finite number",
		"dataset=circle&layers=1:sigmoid&optimizer=sgd&lr=0.1&batch=0": "batch size 0",
	} {
		v, _ := url.ParseQuery(q)
		if _, err := SpecFromQuery(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", q, err, want)
		}
	}
}
