package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"strconv"
	"testing"

	"playground/engine"
	"playground/engine/enginetest"
)

// Unrestorable returns checkpoints made from good (a valid checkpoint file
// at a step below 2^53) that a careless or hostile writer could produce:
// each has a correct checksum but a training state no engine restores.
// Every verifier must refuse them and every resume fall back past them.
// Names: "empty-rng", "inconsistent-step" (step one past what epoch and
// batch say), "step-max" (step 2^64-1), "optimizer-step" (optimizer.step
// differs from step).
func Unrestorable(tb testing.TB, good []byte) map[string][]byte {
	tb.Helper()
	n := binary.LittleEndian.Uint64(good)
	header, data := bytes.TrimRight(good[8:8+n], " "), good[8+n:]
	m := regexp.MustCompile(`"step":"([0-9]+)"`).FindSubmatch(header)
	if m == nil {
		tb.Fatal("no step in the header")
	}
	step, _ := strconv.ParseUint(string(m[1]), 10, 64)
	set := func(key, value string) []byte {
		re := regexp.MustCompile(`"` + key + `":"[^"]*"`)
		if !re.Match(header) {
			tb.Fatalf("no %s in the header", key)
		}
		return re.ReplaceAll(header, []byte(`"`+key+`":"`+value+`"`))
	}
	optStep := bytes.Clone(data)
	binary.LittleEndian.PutUint64(optStep[len(optStep)-8:], step+1)
	return map[string][]byte{
		"empty-rng":         seal(set("rng", ""), data),
		"inconsistent-step": seal(set("step", strconv.FormatUint(step+1, 10)), data),
		"step-max":          seal(set("step", "18446744073709551615"), data),
		"optimizer-step":    seal(header, optStep),
	}
}

// seal writes a file of header (canonical, unpadded) and data with the
// checksum recomputed by the format's rule: the SHA-256 of the header
// without its checksum key, then the data.
func seal(header, data []byte) []byte {
	key := regexp.MustCompile(`"checksum":"sha256:[0-9a-f]{64}",?`)
	unsigned := key.ReplaceAll(header, nil)
	unsigned = bytes.Replace(unsigned, []byte(`,}`), []byte(`}`), 1) // checksum was the last key
	h := sha256.New()
	h.Write(unsigned)
	h.Write(data)
	sum := []byte(`"checksum":"sha256:` + hex.EncodeToString(h.Sum(nil)) + `"`)
	header = regexp.MustCompile(`"checksum":"sha256:[0-9a-f]{64}"`).ReplaceAll(header, sum)
	pad := (8 - (8+len(header))%8) % 8
	header = append(header, bytes.Repeat([]byte(" "), pad)...)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

// NewTrainer is a fresh trainer of the named preset: what the suites and
// the backends' own tests train to make real checkpoints.
func NewTrainer(tb testing.TB, preset string) *engine.Trainer {
	tb.Helper()
	return enginetest.PresetTrained(tb, preset, 0)
}
