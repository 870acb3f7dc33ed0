package protocol

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDecodeCommand(t *testing.T) {
	good := []string{
		`{"type":"open","preset":"circle-sgd","autostart":true,"pauseAt":5000,"marks":[{"run":"r-1","step":12,"running":true,"time":1}]}`,
		`{"type":"pause","seq":3}`,
		`{"type":"start","spec":{"seed":1}}`,
		`{"type":"fork","run":"r","id":"000000000001-aaaaaaaa","spec":{}}`,
		`{"type":"save","kind":"pinned"}`,
		`{"type":"settings","autosave":{"everyMillis":500,"keep":3},"pauseAt":0}`,
		`{"type":"compare","compare":{"base":{"run":"r","id":"000000000001-aaaaaaaa","step":1,"epoch":0,"kind":"","size":0},"param":"lr","steps":5,"children":[{"value":"0.1","spec":{}}],"done":false}}`,
	}
	for _, s := range good {
		c, err := DecodeCommand([]byte(s))
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if c2, err := DecodeCommand(Encode(c)); err != nil || c2.Type != c.Type {
			t.Errorf("%s does not round-trip: %v", s, err)
		}
	}
	bad := map[string]string{
		`{"type":"nope"}`:                            "unknown command",
		`{"type":"pause","extra":1}`:                 "unknown field",
		`{"type":"restore","run":"r"}`:               "needs run and id",
		`{"type":"start"}`:                           "exactly one of preset and spec",
		`{"type":"save","kind":"final"}`:             "kind",
		`{"type":"settings","autosave":{"keep":-1}}`: "negative",
		`{"type":"pause"} {}`:                        "trailing",
		`{"type":"compare"}`:                         "needs compare",
		`{"type":"compare","compare":{"base":{"run":"r","id":"i"},"steps":0,"children":[{"spec":{}}]}}`:   "needs steps",
		`{"type":"compare","compare":{"base":{"run":"r","id":"i"},"steps":1,"children":[]}}`:              "0 children",
		`{"type":"compare","compare":{"base":{"run":"r","id":"i"},"steps":1,"children":[{"value":"x"}]}}`: "no spec",
		`[`: "command",
	}
	for s, want := range bad {
		_, err := DecodeCommand([]byte(s))
		if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want ErrProtocol mentioning %q", s, err, want)
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	ev := Event{Type: EvProgress, Progress: &Progress{Run: "r", Step: 7, Loss: Float(math.NaN()), TestLoss: Float(0.5), StepsPerSec: 1e4}}
	got, err := DecodeEvent(Encode(ev))
	if err != nil {
		t.Fatal(err)
	}
	if got.Progress.Step != 7 || got.Progress.Loss != nil || *got.Progress.TestLoss != 0.5 {
		t.Errorf("got %+v", got.Progress)
	}
	if _, err := DecodeEvent([]byte(`{}`)); err == nil {
		t.Error("event without type accepted")
	}
	if Float(math.Inf(1)) != nil || Float(math.Inf(-1)) != nil {
		t.Error("Float kept an infinity")
	}
}

// Any message never panics the worker; a command that decodes is valid
// and encodes back to one that decodes the same.
func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{
		`{"type":"open","preset":"circle-sgd","autostart":true,"pauseAt":5000,"marks":[{"run":"r-1","step":12,"running":true,"time":1}]}`,
		`{"type":"settings","sync":{"autoPush":true,"token":"x"}}`,
		`{"type":"pull","run":"r"}`,
		`{"type":"fork","run":"r","id":"000000000001-aaaaaaaa","spec":{}}`,
		`{"type":"scrub","at":18446744073709551615}`,
		`{"type":"edit","edit":{"layer":1,"unit":2,"from":-1,"value":0.75}}`,
		`{"type":"predict","input":[0,0.25,1e-7,3.4e38],"travel":true,"run":"r","at":3}`,
		`{"type":"compare","compare":{"base":{"run":"r","id":"000000000001-aaaaaaaa","step":1,"epoch":0,"kind":"","size":0},"param":"lr","steps":5,"children":[{"value":"0.1","spec":{}}],"done":false}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("decoded an invalid command: %v", err)
		}
		c2, err := DecodeCommand(Encode(c))
		if err != nil || string(Encode(c2)) != string(Encode(c)) {
			t.Fatalf("%s does not round-trip: %v", b, err)
		}
	})
}

// An edit names a layer from 1, a unit from 0 and from -1 (the bias) or a
// unit from 0; anything else is refused before the worker sees it.
func TestEditCommand(t *testing.T) {
	if _, err := DecodeCommand([]byte(`{"type":"edit","edit":{"layer":2,"unit":0,"from":3,"value":-1.5}}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"type":"edit"}`,
		`{"type":"edit","edit":{"layer":0,"unit":0,"from":0,"value":1}}`,
		`{"type":"edit","edit":{"layer":1,"unit":-1,"from":0,"value":1}}`,
		`{"type":"edit","edit":{"layer":1,"unit":0,"from":-2,"value":1}}`,
		`{"type":"edit","edit":{"layer":1,"unit":0,"from":0,"value":1e39}}`,
	} {
		if _, err := DecodeCommand([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// Floats carry values that are not finite as null and read them back as
// NaN; finite ones keep their bits.
func TestFloatsJSON(t *testing.T) {
	in := Floats{1.5, float32(math.NaN()), float32(math.Inf(1)), -0.1, 3.4e38}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "[1.5,null,null,-0.1,3.4e+38]" {
		t.Fatalf("encoded %s", b)
	}
	var out Floats
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if i == 1 || i == 2 {
			if !math.IsNaN(float64(v)) {
				t.Errorf("[%d] = %v, want NaN", i, v)
			}
		} else if math.Float32bits(v) != math.Float32bits(in[i]) {
			t.Errorf("[%d] = %v, want %v", i, v, in[i])
		}
	}
	if err := json.Unmarshal([]byte(`[1,"x"]`), &out); err == nil {
		t.Error("a string read as a float")
	}
}

// The built-in 2-D datasets train at a pace to watch by default; digits
// and custom data at full speed.
func TestDefaultPace(t *testing.T) {
	for kind, want := range map[string]int{"circle": PaceWatch, "spiral": PaceWatch, "plane": PaceWatch, "digits": PaceFull, "csv": PaceFull} {
		if got := DefaultPace(kind); got != want {
			t.Errorf("%s: %d, want %d", kind, got, want)
		}
	}
}
