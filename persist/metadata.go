package persist

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"playground/curve"
	"playground/engine"
	"playground/spec"
)

const (
	keyBatch         = "batch"
	keyCheckpointID  = "checkpoint_id"
	keyChecksum      = "checksum"
	keyCreated       = "created"
	keyEdit          = "edit"  // optional: absent unless set
	keyCurve         = "curve" // optional: absent for an empty history
	keyEngineVersion = "engine_version"
	keyEpoch         = "epoch"
	keyFormat        = "format"
	keyFormatVersion = "format_version"
	keyKind          = "kind"
	keyParentID      = "parent_id"
	keyParentRun     = "parent_run"
	keyRNG           = "rng"
	keyRunID         = "run_id"
	keySpec          = "spec"
	keyStep          = "step"
)

var metaKeys = []string{
	keyBatch, keyCheckpointID, keyChecksum, keyCreated, keyEngineVersion, keyEpoch,
	keyFormat, keyFormatVersion, keyKind, keyParentID, keyParentRun, keyRNG, keyRunID,
	keySpec, keyStep,
}

// optionalMetaKeys may stand beside metaKeys (each absent when empty).
var optionalMetaKeys = []string{keyEdit, keyCurve}

// MaxMetaString bounds the free-form metadata strings (kind, engine
// version) in bytes; ids are at most 64 bytes too (ValidID), so a listing
// of checkpoints stays small whatever was uploaded.
const MaxMetaString = 128

// Info is what a checkpoint's header says, read without its data.
type Info struct {
	Meta
	Step       uint64
	Epoch      int
	Batch      int
	Checksum   string // as the file states it: "sha256:" + hex, not verified
	Spec       spec.Spec
	HeaderSize int   // bytes before the data section: 8 + the padded JSON header
	DataSize   int64 // bytes of tensor data the header describes
}

// metadataOf returns c's __metadata__ (without the checksum) after
// checking that Decode will accept it, and the normalized spec.
func metadataOf(c *Checkpoint) (map[string]string, spec.Spec, error) {
	s := &c.State
	// Normalizing through JSON stores exactly the spec Decode returns.
	js, err := json.Marshal(s.Spec)
	if err != nil {
		return nil, spec.Spec{}, fmt.Errorf("spec: %w", err)
	}
	norm, err := spec.ParseSpec(js)
	if err != nil {
		return nil, spec.Spec{}, fmt.Errorf("spec: %w", err)
	}
	if js, err = json.Marshal(norm); err != nil {
		return nil, spec.Spec{}, fmt.Errorf("spec: %w", err)
	}
	if s.Epoch < 0 || s.Batch < 0 {
		return nil, spec.Spec{}, fmt.Errorf("negative position epoch %d batch %d", s.Epoch, s.Batch)
	}
	for _, kv := range [][2]string{{"engine version", c.EngineVersion}, {"kind", c.Kind}, {"edit", c.Edit}} {
		if !utf8.ValidString(kv[1]) {
			return nil, spec.Spec{}, fmt.Errorf("%s %s is not valid UTF-8", kv[0], quote(kv[1]))
		}
	}
	meta := map[string]string{
		keyBatch:         strconv.Itoa(s.Batch),
		keyCheckpointID:  c.ID,
		keyCreated:       c.Created.UTC().Format(time.RFC3339Nano),
		keyEngineVersion: c.EngineVersion,
		keyEpoch:         strconv.Itoa(s.Epoch),
		keyFormat:        FormatName,
		keyFormatVersion: strconv.Itoa(FormatVersion),
		keyKind:          c.Kind,
		keyParentID:      c.Parent,
		keyParentRun:     c.ParentRun,
		keyRNG:           hex.EncodeToString(s.RNG),
		keyRunID:         c.RunID,
		keySpec:          string(js),
		keyStep:          strconv.FormatUint(s.Step, 10),
	}
	if c.Edit != "" {
		meta[keyEdit] = c.Edit
	}
	if enc := curve.Encode(c.Curve); enc != "" {
		meta[keyCurve] = enc
	}
	// The same checks Decode applies, so whatever Encode writes decodes.
	meta[keyChecksum] = placeholderSum
	f, err := parseFields(meta)
	delete(meta, keyChecksum)
	if err != nil {
		return nil, spec.Spec{}, err
	}
	if err := checkEngine(f.EngineVersion); err != nil {
		return nil, spec.Spec{}, err
	}
	if err := engine.CheckPosition(f.spec, s.Step, s.Epoch, s.Batch, s.RNG); err != nil {
		return nil, spec.Spec{}, err
	}
	if !f.Created.Equal(c.Created) {
		return nil, spec.Spec{}, fmt.Errorf("created time %v cannot be stored", c.Created)
	}
	return meta, f.spec, nil
}

var placeholderSum = checksumAlgo + strings.Repeat("0", 2*sha256.Size)

// checkFormat reads the header leniently for the format name and version,
// so a foreign safetensors file is ErrNotCheckpoint and one of another
// format version ErrVersion rather than ErrCorrupt.
func checkFormat(b []byte) error {
	err := checkFormatName(b)
	if errors.Is(err, ErrNotCheckpoint) && looksOurs(b) {
		// One damaged byte in "__metadata__", "format" or the name must
		// not pass for a foreign file.
		return fmt.Errorf("%w: damaged header: %s", ErrCorrupt, strings.TrimPrefix(err.Error(), ErrNotCheckpoint.Error()+": "))
	}
	return err
}

// looksOurs reports whether header b holds nearly all our metadata keys.
func looksOurs(b []byte) bool {
	n := 0
	for _, k := range metaKeys {
		if bytes.Contains(b, []byte(`"`+k+`":"`)) {
			n++
		}
	}
	return n >= len(metaKeys)-2
}

func checkFormatName(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		if !json.Valid(b) {
			return fmt.Errorf("%w: header is not valid JSON: %v", ErrCorrupt, err)
		}
		return fmt.Errorf("%w: header is not a JSON object", ErrNotCheckpoint)
	}
	raw, ok := top["__metadata__"]
	if !ok {
		return fmt.Errorf("%w: header has no __metadata__ (a plain safetensors file?)", ErrNotCheckpoint)
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(raw, &meta); err != nil {
		return fmt.Errorf("%w: __metadata__ is not an object", ErrNotCheckpoint)
	}
	var format, version string
	if raw, ok := meta[keyFormat]; !ok {
		return fmt.Errorf("%w: __metadata__ has no format (a plain safetensors file?)", ErrNotCheckpoint)
	} else if json.Unmarshal(raw, &format) != nil || format != FormatName {
		return fmt.Errorf("%w: format is %s, want %q", ErrNotCheckpoint, quote(strings.Trim(string(raw), `"`)), FormatName)
	}
	if raw, ok := meta[keyFormatVersion]; !ok {
		return fmt.Errorf("%w: __metadata__ has no format_version", ErrCorrupt)
	} else if json.Unmarshal(raw, &version) != nil {
		return fmt.Errorf("%w: format_version %s is not a string", ErrCorrupt, quote(string(raw)))
	}
	if version == strconv.Itoa(FormatVersion) {
		return nil
	}
	if v, ok := parseDecimal(version, math.MaxInt32); ok && v >= 1 {
		return fmt.Errorf("%w: file has format version %d, this build reads %d", ErrVersion, v, FormatVersion)
	}
	return fmt.Errorf("%w: format_version %s is not valid", ErrCorrupt, quote(version))
}

// paramCount is the number of model parameters spec implies.
func paramCount(spec spec.Spec) uint64 {
	var n uint64
	in := uint64(spec.Inputs())
	for _, l := range spec.Model.Layers {
		out := uint64(l.Units)
		n += in*out + out
		in = out
	}
	return n
}

// fields are the decoded __metadata__ values.
type fields struct {
	Meta
	step         uint64
	epoch, batch int
	rng          []byte
	spec         spec.Spec
	checksum     string
	curve        curve.History
}

// parseFields decodes and checks every metadata value; each must be in
// the one form Encode writes, so a decoded checkpoint re-encodes to the
// same bytes.
func parseFields(m map[string]string) (*fields, error) {
	f := &fields{}
	var ok bool
	if f.step, ok = parseDecimal(m[keyStep], math.MaxUint64); !ok {
		return nil, fmt.Errorf("step %s is not a decimal number", quote(m[keyStep]))
	}
	for _, v := range []struct {
		key string
		dst *int
	}{{keyEpoch, &f.epoch}, {keyBatch, &f.batch}} {
		n, ok := parseDecimal(m[v.key], math.MaxInt)
		if !ok {
			return nil, fmt.Errorf("%s %s is not a decimal number", v.key, quote(m[v.key]))
		}
		*v.dst = int(n)
	}
	var err error
	if f.rng, err = hex.DecodeString(m[keyRNG]); err != nil || hex.EncodeToString(f.rng) != m[keyRNG] {
		return nil, fmt.Errorf("rng %s is not lowercase hex", quote(m[keyRNG]))
	}
	js := m[keySpec]
	if f.spec, err = spec.ParseSpec([]byte(js)); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if re, err := json.Marshal(f.spec); err != nil || string(re) != js {
		return nil, errors.New("spec is not in normalized canonical form")
	}
	for _, v := range []struct {
		key   string
		dst   *string
		empty bool
	}{{keyRunID, &f.RunID, false}, {keyCheckpointID, &f.ID, false}, {keyParentID, &f.Parent, true}, {keyParentRun, &f.ParentRun, true}} {
		id := m[v.key]
		if !(v.empty && id == "") {
			if err := CheckIDs(id); err != nil {
				return nil, fmt.Errorf("%s: %w", v.key, err)
			}
		}
		*v.dst = id
	}
	c := m[keyCreated]
	if f.Created, err = time.Parse(time.RFC3339Nano, c); err != nil || f.Created.UTC().Format(time.RFC3339Nano) != c {
		return nil, fmt.Errorf("created %s is not an RFC 3339 UTC time", quote(c))
	}
	f.Created = f.Created.UTC()
	f.EngineVersion, f.Kind = m[keyEngineVersion], m[keyKind]
	edit, hasEdit := m[keyEdit]
	if hasEdit && edit == "" {
		return nil, errors.New("edit is empty (an unedited checkpoint has no edit)")
	}
	f.Edit = edit
	for _, kv := range [][2]string{{keyEngineVersion, f.EngineVersion}, {keyKind, f.Kind}, {keyEdit, f.Edit}} {
		if len(kv[1]) > MaxMetaString {
			return nil, fmt.Errorf("%s %s has %d bytes (at most %d)", kv[0], quote(kv[1]), len(kv[1]), MaxMetaString)
		}
	}
	if c, ok := m[keyCurve]; ok {
		if c == "" {
			return nil, errors.New("curve is empty (an empty history is left out)")
		}
		if f.curve, err = curve.Decode(c, f.step); err != nil {
			return nil, err
		}
	}
	f.checksum = m[keyChecksum]
	if s, ok := strings.CutPrefix(f.checksum, checksumAlgo); !ok || len(s) != 2*sha256.Size || strings.Trim(s, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("checksum %s is not %s and %d lowercase hex digits", quote(f.checksum), checksumAlgo, 2*sha256.Size)
	}
	return f, nil
}

// parseDecimal parses a canonical decimal (digits, no sign, no leading
// zero) of at most max.
func parseDecimal(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max || s[0] == '+' {
		return 0, false
	}
	return v, true
}
