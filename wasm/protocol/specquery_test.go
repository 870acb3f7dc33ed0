package protocol

import (
	"net/url"
	"strings"
	"testing"

	"playground/spec"
)

// Every preset survives the trip through a URL, readably; a bad link says
// what is wrong with it.
func TestSpecQueryRoundTrip(t *testing.T) {
	for _, name := range spec.PresetNames() {
		s, _ := spec.Preset(name)
		q := EncodeSpecQuery(s)
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		back, err := SpecFromQuery(v)
		if err != nil {
			t.Errorf("%s: %v (%s)", name, err, q)
			continue
		}
		if string(back.JSON()) != string(s.JSON()) {
			t.Errorf("%s does not round-trip:\n%s\n%s", name, s.JSON(), back.JSON())
		}
		if strings.Contains(q, "%2C") || strings.Contains(q, "%3A") {
			t.Errorf("%s: query not readable: %s", name, q)
		}
	}
	for q, want := range map[string]string{
		"dataset=moon":                   "unknown dataset",
		"dataset=circle&lr=x":            "not a number",
		"dataset=circle&layers=4:tanh,1": "units:activation",
		"seed=1":                         "names no dataset",
	} {
		v, _ := url.ParseQuery(q)
		if _, err := SpecFromQuery(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", q, err, want)
		}
	}
}

// A link's query never panics the page; a spec it yields is valid and
// survives the trip through a URL again.
func FuzzSpecFromQuery(f *testing.F) {
	for _, name := range spec.PresetNames() {
		s, _ := spec.Preset(name)
		f.Add(EncodeSpecQuery(s))
	}
	f.Add("dataset=circle&layers=4:tanh,1&lr=-1&seed=99999999999999999999")
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		s, err := SpecFromQuery(v)
		if err != nil {
			return
		}
		if _, err := spec.ParseSpec(s.JSON()); err != nil {
			t.Fatalf("%q gave a spec that does not parse: %v", q, err)
		}
		back, err := url.ParseQuery(EncodeSpecQuery(s))
		if err != nil {
			t.Fatal(err)
		}
		if s2, err := SpecFromQuery(back); err != nil || string(s2.JSON()) != string(s.JSON()) {
			t.Fatalf("%q: the spec does not survive its own query: %v", q, err)
		}
	})
}
