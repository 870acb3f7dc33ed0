package persist

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"playground/engine"
)

// Fingerprint is the hex SHA-256 over the little-endian bytes of every
// tensor of s in file order (F32 as 4 bytes, I64 as 8; no names or
// shapes), which is also the hash of a checkpoint file's data section.
func Fingerprint(s engine.State) string {
	h := sha256.New()
	var buf [32 << 10]byte
	for _, t := range s.Tensors {
		for v := t.F32; len(v) > 0; {
			n := min(len(v), len(buf)/4)
			putF32(buf[:4*n], v[:n])
			h.Write(buf[:4*n])
			v = v[n:]
		}
		for v := t.I64; len(v) > 0; {
			n := min(len(v), len(buf)/8)
			putI64(buf[:8*n], v[:n])
			h.Write(buf[:8*n])
			v = v[n:]
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// NewID returns a checkpoint id for the state at step; ids sort by step.
func NewID(step uint64) string {
	return fmt.Sprintf("%012d-%s", step, randHex())
}

// NewRunID returns a run id: a sanitized prefix of name (a-z 0-9 -, at
// most 40 characters, "run" if nothing is left) and 8 random hex digits.
func NewRunID(name string) string {
	var b []byte
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b = append(b, byte(r))
		case len(b) > 0 && b[len(b)-1] != '-':
			b = append(b, '-')
		}
		if len(b) == 40 {
			break
		}
	}
	s := strings.Trim(string(b), "-")
	if s == "" {
		s = "run"
	}
	return s + "-" + randHex()
}

// StepOfID parses the step from an id made by NewID.
func StepOfID(id string) (uint64, bool) {
	digits, suffix, ok := strings.Cut(id, "-")
	if !ok || len(suffix) != 8 || strings.Trim(suffix, "0123456789abcdef") != "" || len(digits) < 12 {
		return 0, false
	}
	step, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || fmt.Sprintf("%012d", step) != digits {
		return 0, false
	}
	return step, true
}

func randHex() string {
	var b [4]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}
