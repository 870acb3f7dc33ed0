package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"playground/spec"
)

// The whole spec travels in the page's URL as readable query parameters,
// as TensorFlow Playground's setup does, so a link reproduces the setup
// (and, with the same seed, the run bit for bit):
//
//	?dataset=spiral&noise=0.1&test=0.5&features=x,y,x2&layers=16:tanh,8:tanh,1:sigmoid
//	 &optimizer=adam&lr=0.01&schedule=cosine&warmup=100&total=20000&batch=10&seed=2
//
// Custom data (dataset=csv) is named by its SHA-256 (data=…) with its
// shape (inputs, classes, split, testRows), never carried: a page that
// lacks it gets it from its server or asks for the file.
//
// Parameters a spec does not use are left out; other parameters of the
// page (preset, autostart, pauseAt, …) are not part of it.

// A link carries what the spec's canonical JSON carries (spec.Spec.JSON:
// a zero is written where absence would mean a default), one parameter
// per JSON field; the layers are one parameter, units:activation each.

// param is one query parameter: the JSON field it stands for (in the
// object obj, "" for the spec itself) and the type of its value.
type param struct {
	key, obj, field string
	kind            byte // 's' string, 'f' float, 'i' int, 'u' uint, 'b' bool ("1"), 'l' list, 'L' layers
}

// params are the query parameters of a spec, in the order links write
// them.
var params = []param{
	{"name", "", "name", 's'}, {"seed", "", "seed", 'u'},
	{"dataset", "dataset", "kind", 's'}, {"dataSeed", "dataset", "seed", 'u'}, {"samples", "dataset", "samples", 'i'},
	{"noise", "dataset", "noise", 'f'}, {"test", "dataset", "test_ratio", 'f'},
	{"features", "dataset", "features", 'l'},
	{"data", "dataset", "sha256", 's'}, {"inputs", "dataset", "inputs", 'i'},
	{"classes", "dataset", "classes", 'i'}, {"split", "dataset", "split", 'b'},
	{"testRows", "dataset", "test", 'i'},
	{"layers", "model", "layers", 'L'}, {"loss", "", "loss", 's'},
	{"optimizer", "optimizer", "kind", 's'}, {"lr", "optimizer", "lr", 'f'},
	{"momentum", "optimizer", "momentum", 'f'}, {"nesterov", "optimizer", "nesterov", 'b'},
	{"beta1", "optimizer", "beta1", 'f'}, {"beta2", "optimizer", "beta2", 'f'},
	{"alpha", "optimizer", "alpha", 'f'}, {"eps", "optimizer", "eps", 'f'},
	{"decay", "optimizer", "weight_decay", 'f'},
	{"schedule", "schedule", "kind", 's'}, {"stepSize", "schedule", "step_size", 'i'},
	{"gamma", "schedule", "gamma", 'f'}, {"warmup", "schedule", "warmup", 'i'},
	{"total", "schedule", "total", 'i'}, {"minLR", "schedule", "min_lr", 'f'},
	{"reg", "regularization", "kind", 's'}, {"regRate", "regularization", "rate", 'f'},
	{"batch", "", "batch_size", 'i'},
}

// IsSpecKey reports whether k is a query parameter of a spec.
func IsSpecKey(k string) bool {
	return slices.ContainsFunc(params, func(p param) bool { return p.key == k })
}

// HasSpec reports whether a query carries a spec (it names a dataset).
func HasSpec(q url.Values) bool { return q.Get("dataset") != "" }

// SpecQuery encodes a normalized spec as query parameters: those its
// canonical JSON carries (no regularization when it is none).
func SpecQuery(s spec.Spec) url.Values {
	dec := json.NewDecoder(bytes.NewReader(s.JSON()))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		panic(err) // JSON of a Spec always decodes
	}
	q := url.Values{}
	for _, p := range params {
		v, ok := field(obj, p)
		if !ok || (p.key == "reg" && v == "none") {
			continue
		}
		switch p.kind {
		case 's':
			if v != "" {
				q.Set(p.key, v.(string))
			}
		case 'f':
			f, _ := v.(json.Number).Float64()
			q.Set(p.key, strconv.FormatFloat(f, 'g', -1, 64))
		case 'i', 'u':
			q.Set(p.key, v.(json.Number).String())
		case 'b':
			if v == true {
				q.Set(p.key, "1")
			}
		case 'l':
			if l := joinAny(v.([]any), func(x any) string { return x.(string) }); l != "" {
				q.Set(p.key, l)
			}
		case 'L':
			q.Set(p.key, joinAny(v.([]any), func(x any) string {
				l := x.(map[string]any)
				return fmt.Sprintf("%s:%s", l["units"], l["activation"])
			}))
		}
	}
	return q
}

// field is the value p stands for in the JSON object obj.
func field(obj map[string]any, p param) (any, bool) {
	if p.obj != "" {
		o, ok := obj[p.obj].(map[string]any)
		if !ok {
			return nil, false
		}
		obj = o
	}
	v, ok := obj[p.field]
	return v, ok
}

func joinAny(vs []any, f func(any) string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return strings.Join(out, ",")
}

// EncodeSpecQuery is SpecQuery as a string, its parameters in a fixed,
// readable order.
func EncodeSpecQuery(s spec.Spec) string {
	q := SpecQuery(s)
	var b strings.Builder
	for _, p := range params {
		v, ok := q[p.key]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		// Commas and colons stay readable: they are legal in a query.
		b.WriteString(strings.NewReplacer("%2C", ",", "%3A", ":").Replace(url.QueryEscape(v[0])))
	}
	return b.String()
}

// SpecFromQuery decodes and normalizes the spec a query carries: a
// parameter present (and not empty) is honoured, zero included; an absent
// one takes its default, as the field of a JSON spec does.
func SpecFromQuery(q url.Values) (spec.Spec, error) {
	if !HasSpec(q) {
		return spec.Spec{}, fmt.Errorf("%w: the link names no dataset", spec.ErrSpec)
	}
	obj := map[string]any{}
	var errs []string
	for _, p := range params {
		text := q.Get(p.key)
		if text == "" {
			continue
		}
		v, why := paramValue(p, text)
		if why != "" {
			errs = append(errs, fmt.Sprintf("%s=%q: %s", p.key, text, why))
			continue
		}
		if v == nil {
			continue
		}
		dst := obj
		if p.obj != "" {
			o, ok := obj[p.obj].(map[string]any)
			if !ok {
				o = map[string]any{}
				obj[p.obj] = o
			}
			dst = o
		}
		dst[p.field] = v
	}
	if len(errs) > 0 {
		return spec.Spec{}, fmt.Errorf("%w: %s", spec.ErrSpec, strings.Join(errs, "; "))
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return spec.Spec{}, fmt.Errorf("%w: %v", spec.ErrSpec, err)
	}
	return spec.ParseSpec(b)
}

// paramValue is the JSON value of parameter p's text (nil: none), or why
// the text is not one.
func paramValue(p param, text string) (any, string) {
	switch p.kind {
	case 'f':
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, "not a number"
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, "not a finite number"
		}
		return f, ""
	case 'i':
		n, err := strconv.Atoi(text)
		if err != nil {
			return nil, "not a whole number"
		}
		return n, ""
	case 'u':
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return nil, "not a whole number"
		}
		return n, ""
	case 'b':
		if text == "1" {
			return true, ""
		}
		return nil, ""
	case 'l':
		return strings.Split(text, ","), ""
	case 'L':
		var layers []spec.LayerSpec
		for _, l := range strings.Split(text, ",") {
			units, act, ok := strings.Cut(l, ":")
			n, err := strconv.Atoi(units)
			if !ok || err != nil {
				return nil, fmt.Sprintf("layer %q: want units:activation", l)
			}
			layers = append(layers, spec.LayerSpec{Units: n, Activation: act})
		}
		return layers, ""
	}
	return text, ""
}
