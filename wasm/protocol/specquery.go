package protocol

import (
	"fmt"
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
// Parameters a spec does not use are left out; other parameters of the
// page (preset, autostart, pauseAt, …) are not part of it.

// specKeys are the query parameters SpecQuery writes, in order.
var specKeys = []string{
	"name", "seed", "dataset", "samples", "noise", "test", "features", "layers", "loss",
	"optimizer", "lr", "momentum", "nesterov", "beta1", "beta2", "alpha", "eps", "decay",
	"schedule", "stepSize", "gamma", "warmup", "total", "minLR",
	"reg", "regRate", "batch",
}

// IsSpecKey reports whether k is a query parameter of a spec.
func IsSpecKey(k string) bool { return slices.Contains(specKeys, k) }

// HasSpec reports whether a query carries a spec (it names a dataset).
func HasSpec(q url.Values) bool { return q.Get("dataset") != "" }

// SpecQuery encodes a normalized spec as query parameters.
func SpecQuery(s spec.Spec) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	num := func(k string, v float64) {
		if v != 0 {
			q.Set(k, strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	integer := func(k string, v int) {
		if v != 0 {
			q.Set(k, strconv.Itoa(v))
		}
	}
	set("name", s.Name)
	q.Set("seed", strconv.FormatUint(s.Seed, 10))
	d := s.Dataset
	set("dataset", d.Kind)
	integer("samples", d.Samples)
	q.Set("noise", strconv.FormatFloat(d.Noise, 'g', -1, 64))
	q.Set("test", strconv.FormatFloat(d.TestRatio, 'g', -1, 64))
	set("features", strings.Join(d.Features, ","))
	layers := make([]string, len(s.Model.Layers))
	for i, l := range s.Model.Layers {
		layers[i] = fmt.Sprintf("%d:%s", l.Units, l.Activation)
	}
	set("layers", strings.Join(layers, ","))
	set("loss", s.Loss)
	o := s.Optimizer
	set("optimizer", o.Kind)
	num("lr", o.LR)
	num("momentum", o.Momentum)
	if o.Nesterov {
		q.Set("nesterov", "1")
	}
	num("beta1", o.Beta1)
	num("beta2", o.Beta2)
	num("alpha", o.Alpha)
	num("eps", o.Eps)
	num("decay", o.WeightDecay)
	sc := s.Schedule
	set("schedule", sc.Kind)
	integer("stepSize", sc.StepSize)
	num("gamma", sc.Gamma)
	integer("warmup", sc.Warmup)
	integer("total", sc.Total)
	num("minLR", sc.MinLR)
	r := s.Regularization
	if r.Kind != "none" {
		set("reg", r.Kind)
		num("regRate", r.Rate)
	}
	integer("batch", s.BatchSize)
	return q
}

// EncodeSpecQuery is SpecQuery as a string, its parameters in a fixed,
// readable order.
func EncodeSpecQuery(s spec.Spec) string {
	q := SpecQuery(s)
	var b strings.Builder
	for _, k := range specKeys {
		v, ok := q[k]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		// Commas and colons stay readable: they are legal in a query.
		b.WriteString(strings.NewReplacer("%2C", ",", "%3A", ":").Replace(url.QueryEscape(v[0])))
	}
	return b.String()
}

// SpecFromQuery decodes and normalizes the spec a query carries.
func SpecFromQuery(q url.Values) (spec.Spec, error) {
	var s spec.Spec
	var errs []string
	bad := func(k, v, why string) { errs = append(errs, fmt.Sprintf("%s=%q: %s", k, v, why)) }
	str := func(k string) string { return q.Get(k) }
	f64 := func(k string) float64 {
		v := q.Get(k)
		if v == "" {
			return 0
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			bad(k, v, "not a number")
		}
		return f
	}
	integer := func(k string) int {
		v := q.Get(k)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			bad(k, v, "not a whole number")
		}
		return n
	}
	if !HasSpec(q) {
		return s, fmt.Errorf("%w: the link names no dataset", spec.ErrSpec)
	}
	s.Name = str("name")
	if v := q.Get("seed"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			bad("seed", v, "not a whole number")
		}
		s.Seed = n
	}
	s.Dataset = spec.DatasetSpec{Kind: str("dataset"), Samples: integer("samples"), Noise: f64("noise"), TestRatio: f64("test")}
	if v := str("features"); v != "" {
		s.Dataset.Features = strings.Split(v, ",")
	}
	if v := str("layers"); v != "" {
		for _, l := range strings.Split(v, ",") {
			units, act, ok := strings.Cut(l, ":")
			n, err := strconv.Atoi(units)
			if !ok || err != nil {
				bad("layers", l, "want units:activation")
				continue
			}
			s.Model.Layers = append(s.Model.Layers, spec.LayerSpec{Units: n, Activation: act})
		}
	}
	s.Loss = str("loss")
	s.Optimizer = spec.OptimizerSpec{
		Kind: str("optimizer"), LR: f64("lr"), Momentum: f64("momentum"), Nesterov: q.Get("nesterov") == "1",
		Beta1: f64("beta1"), Beta2: f64("beta2"), Alpha: f64("alpha"), Eps: f64("eps"), WeightDecay: f64("decay"),
	}
	s.Schedule = spec.ScheduleSpec{
		Kind: str("schedule"), StepSize: integer("stepSize"), Gamma: f64("gamma"),
		Warmup: integer("warmup"), Total: integer("total"), MinLR: f64("minLR"),
	}
	s.Regularization = spec.Regularization{Kind: str("reg"), Rate: f64("regRate")}
	s.BatchSize = integer("batch")
	if len(errs) > 0 {
		return spec.Spec{}, fmt.Errorf("%w: %s", spec.ErrSpec, strings.Join(errs, "; "))
	}
	return s.Normalize()
}
