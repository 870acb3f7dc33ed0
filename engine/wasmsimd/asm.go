// Package wasmsimd holds the engine's WebAssembly SIMD128 kernels: their
// source (kernels.wat), a small assembler for the part of the WebAssembly
// text format they use, and the loader (simd.js) that gives a Go program
// compiled to wasm the module as its "simd" imports.
//
// The module imports Go's own linear memory ("env" "mem"), so the kernels
// work on Go's slices where they lie. It is assembled here, not by an npm
// tool, so that building the page needs only Go; simd.js carries the
// module's bytes and a test checks that they are the assembly of
// kernels.wat (go generate ./engine/wasmsimd rewrites them).
package wasmsimd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Value types.
var valTypes = map[string]byte{"i32": 0x7f, "i64": 0x7e, "f32": 0x7d, "f64": 0x7c, "v128": 0x7b}

// op is one instruction of the subset: its encoding and its immediates.
type op struct {
	code  []byte // the opcode (0xfd-prefixed ones with their LEB128 index)
	immed int    // immNone, immLocal, immI32, immLabel, immMem, immBlock
}

const (
	immNone = iota
	immLocal
	immI32
	immLabel
	immMem
	immBlock
)

func simd(n uint32) []byte { return append([]byte{0xfd}, uleb(nil, n)...) }

// ops is every instruction the assembler knows; Disassemble refuses any
// other, and no fused or relaxed instruction is among them.
var ops = map[string]op{
	"block":             {[]byte{0x02}, immBlock},
	"loop":              {[]byte{0x03}, immBlock},
	"end":               {[]byte{0x0b}, immNone},
	"br":                {[]byte{0x0c}, immLabel},
	"br_if":             {[]byte{0x0d}, immLabel},
	"local.get":         {[]byte{0x20}, immLocal},
	"local.set":         {[]byte{0x21}, immLocal},
	"local.tee":         {[]byte{0x22}, immLocal},
	"i32.const":         {[]byte{0x41}, immI32},
	"i32.lt_u":          {[]byte{0x49}, immNone},
	"i32.add":           {[]byte{0x6a}, immNone},
	"i32.sub":           {[]byte{0x6b}, immNone},
	"i32.shl":           {[]byte{0x74}, immNone},
	"v128.load":         {simd(0x00), immMem},
	"v128.load32_splat": {simd(0x09), immMem},
	"v128.store":        {simd(0x0b), immMem},
	"f32x4.add":         {simd(0xe4), immNone},
	"f32x4.mul":         {simd(0xe6), immNone},
}

// Assemble translates a module in the WebAssembly text format to its binary
// encoding. It knows what kernels.wat uses: one imported memory, functions
// with named params and locals, exports, and the flat (non-folded)
// instructions of ops, with block and loop labels.
func Assemble(src string) ([]byte, error) {
	p := &parser{toks: tokenize(src)}
	m, err := p.module()
	if err != nil {
		return nil, err
	}
	return m.encode(), nil
}

type function struct {
	name    string
	export  string
	params  []byte
	results []byte
	locals  []byte
	code    []byte
}

type module struct {
	memMin uint32
	funcs  []*function
}

type parser struct {
	toks []string
	pos  int
}

func tokenize(src string) []string {
	var toks []string
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case c == ';' && strings.HasPrefix(src[i:], ";;"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			j := strings.IndexByte(src[i+1:], '"')
			if j < 0 {
				j = len(src) - i - 1
			}
			toks = append(toks, src[i:i+j+2])
			i += j + 2
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\r\n()", rune(src[j])) {
				j++
			}
			toks = append(toks, src[i:j])
			i = j
		}
	}
	return toks
}

func (p *parser) next() string {
	if p.pos >= len(p.toks) {
		return ""
	}
	p.pos++
	return p.toks[p.pos-1]
}

func (p *parser) peek() string {
	if p.pos >= len(p.toks) {
		return ""
	}
	return p.toks[p.pos]
}

func (p *parser) expect(want string) error {
	if got := p.next(); got != want {
		return fmt.Errorf("wat: token %d: want %q, got %q", p.pos, want, got)
	}
	return nil
}

func unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", fmt.Errorf("wat: want a string, got %q", s)
	}
	return s[1 : len(s)-1], nil
}

func (p *parser) module() (*module, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	if err := p.expect("module"); err != nil {
		return nil, err
	}
	m := &module{}
	for p.peek() == "(" {
		p.next()
		switch kw := p.next(); kw {
		case "import": // (import "env" "mem" (memory N))
			mod, name := p.next(), p.next()
			if mod != `"env"` || name != `"mem"` {
				return nil, fmt.Errorf("wat: only the import \"env\" \"mem\" is known, got %s %s", mod, name)
			}
			if err := p.expect("("); err != nil {
				return nil, err
			}
			if err := p.expect("memory"); err != nil {
				return nil, err
			}
			n, err := strconv.ParseUint(p.next(), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("wat: memory size: %w", err)
			}
			m.memMin = uint32(n)
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		case "func":
			f, err := p.function()
			if err != nil {
				return nil, err
			}
			m.funcs = append(m.funcs, f)
		default:
			return nil, fmt.Errorf("wat: unknown module field %q", kw)
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("wat: text after the module")
	}
	return m, nil
}

// scope is what a function's body may name: its locals and the labels of
// the blocks around the current instruction (innermost last).
type scope struct {
	f       *function
	locals  map[string]int
	nlocals int
	labels  []string
}

func (p *parser) function() (*function, error) {
	sc := &scope{f: &function{}, locals: map[string]int{}}
	if strings.HasPrefix(p.peek(), "$") {
		sc.f.name = p.next()
	}
	for p.peek() == "(" {
		p.next()
		if err := p.funcField(sc); err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
	}
	var code []byte
	for p.peek() != ")" {
		var err error
		if code, err = p.instruction(sc, code); err != nil {
			return nil, err
		}
	}
	p.next()
	if len(sc.labels) != 0 {
		return nil, fmt.Errorf("wat: func %s: %d blocks not ended", sc.f.name, len(sc.labels))
	}
	sc.f.code = append(code, 0x0b)
	return sc.f, nil
}

// funcField parses one (export …), (param …), (local …) or (result …) of
// a function, after its "(".
func (p *parser) funcField(sc *scope) error {
	f := sc.f
	kw := p.next()
	switch kw {
	case "export":
		s, err := unquote(p.next())
		if err != nil {
			return err
		}
		f.export = s
		return nil
	case "param", "local", "result":
	default:
		return fmt.Errorf("wat: func %s: unknown field %q", f.name, kw)
	}
	for p.peek() != ")" {
		name := ""
		if strings.HasPrefix(p.peek(), "$") {
			name = p.next()
		}
		t, ok := valTypes[p.next()]
		if !ok {
			return fmt.Errorf("wat: func %s: unknown type %q", f.name, p.toks[p.pos-1])
		}
		switch kw {
		case "result":
			f.results = append(f.results, t)
			continue
		case "param":
			f.params = append(f.params, t)
		case "local":
			f.locals = append(f.locals, t)
		}
		if name != "" {
			if _, dup := sc.locals[name]; dup {
				return fmt.Errorf("wat: func %s: %s declared twice", f.name, name)
			}
			sc.locals[name] = sc.nlocals
		}
		sc.nlocals++
	}
	return nil
}

// instruction appends the next instruction, with its immediates, to code.
func (p *parser) instruction(sc *scope, code []byte) ([]byte, error) {
	f := sc.f
	name := p.next()
	if name == "" {
		return nil, fmt.Errorf("wat: func %s: unexpected end", f.name)
	}
	o, ok := ops[name]
	if !ok {
		return nil, fmt.Errorf("wat: func %s: unknown instruction %q", f.name, name)
	}
	code = append(code, o.code...)
	switch o.immed {
	case immBlock:
		label := ""
		if strings.HasPrefix(p.peek(), "$") {
			label = p.next()
		}
		sc.labels = append(sc.labels, label)
		code = append(code, 0x40) // no result
	case immLocal:
		arg := p.next()
		i, ok := sc.locals[arg]
		if !ok {
			n, err := strconv.ParseUint(arg, 10, 32)
			if err != nil || int(n) >= sc.nlocals {
				return nil, fmt.Errorf("wat: func %s: unknown local %q", f.name, arg)
			}
			i = int(n)
		}
		code = uleb(code, uint32(i))
	case immI32:
		n, err := strconv.ParseInt(p.next(), 0, 32)
		if err != nil {
			return nil, fmt.Errorf("wat: func %s: %s: %w", f.name, name, err)
		}
		code = sleb(code, n)
	case immLabel:
		depth, err := sc.labelDepth(p.next())
		if err != nil {
			return nil, err
		}
		code = uleb(code, uint32(depth))
	case immMem:
		align, offset, err := p.memArg(f, name)
		if err != nil {
			return nil, err
		}
		code = uleb(uleb(code, uint32(align)), uint32(offset))
	}
	if name == "end" {
		if len(sc.labels) == 0 {
			return nil, fmt.Errorf("wat: func %s: end without block", f.name)
		}
		sc.labels = sc.labels[:len(sc.labels)-1]
	}
	return code, nil
}

// labelDepth is the branch depth of a label, by name or by number.
func (sc *scope) labelDepth(arg string) (int, error) {
	for d := len(sc.labels) - 1; d >= 0; d-- {
		if sc.labels[d] == arg {
			return len(sc.labels) - 1 - d, nil
		}
	}
	n, err := strconv.ParseUint(arg, 10, 32)
	if err != nil || int(n) >= len(sc.labels) {
		return 0, fmt.Errorf("wat: func %s: unknown label %q", sc.f.name, arg)
	}
	return int(n), nil
}

// memArg parses a memory access's optional offset= and align=, and
// returns the alignment as its log2 (by default the access's natural one).
func (p *parser) memArg(f *function, name string) (align, offset uint64, err error) {
	align = naturalAlign(name)
	for strings.HasPrefix(p.peek(), "offset=") || strings.HasPrefix(p.peek(), "align=") {
		k, v, _ := strings.Cut(p.next(), "=")
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("wat: func %s: %s: %w", f.name, name, err)
		}
		if k == "offset" {
			offset = n
			continue
		}
		if n == 0 || n&(n-1) != 0 {
			return 0, 0, fmt.Errorf("wat: func %s: align=%d", f.name, n)
		}
		align = 0
		for 1<<align < n {
			align++
		}
	}
	return align, offset, nil
}

// naturalAlign is the log2 of an access's size, the default alignment.
func naturalAlign(name string) uint64 {
	switch {
	case name == "v128.load32_splat":
		return 2
	case strings.HasPrefix(name, "v128."):
		return 4
	}
	return 0
}

func (m *module) encode() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, body []byte) {
		out = append(out, id)
		out = uleb(out, uint32(len(body)))
		out = append(out, body...)
	}
	// One type per function (duplicates are allowed).
	var types, funcs, exports, codes []byte
	types = uleb(types, uint32(len(m.funcs)))
	funcs = uleb(funcs, uint32(len(m.funcs)))
	nexp := 0
	for i, f := range m.funcs {
		types = append(types, 0x60)
		types = uleb(types, uint32(len(f.params)))
		types = append(types, f.params...)
		types = uleb(types, uint32(len(f.results)))
		types = append(types, f.results...)
		funcs = uleb(funcs, uint32(i))
		if f.export != "" {
			nexp++
			exports = uleb(exports, uint32(len(f.export)))
			exports = append(exports, f.export...)
			exports = append(exports, 0x00)
			exports = uleb(exports, uint32(i))
		}
	}
	codes = uleb(codes, uint32(len(m.funcs)))
	for _, f := range m.funcs {
		var body []byte
		// Locals, run-length encoded by type.
		var groups [][2]uint32
		for _, t := range f.locals {
			if n := len(groups); n > 0 && groups[n-1][1] == uint32(t) {
				groups[n-1][0]++
			} else {
				groups = append(groups, [2]uint32{1, uint32(t)})
			}
		}
		body = uleb(body, uint32(len(groups)))
		for _, g := range groups {
			body = uleb(body, g[0])
			body = append(body, byte(g[1]))
		}
		body = append(body, f.code...)
		codes = uleb(codes, uint32(len(body)))
		codes = append(codes, body...)
	}
	imports := []byte{1, 3, 'e', 'n', 'v', 3, 'm', 'e', 'm', 0x02, 0x00}
	imports = uleb(imports, m.memMin)
	section(1, types)
	section(2, imports)
	section(3, funcs)
	section(7, append(uleb(nil, uint32(nexp)), exports...))
	section(10, codes)
	return out
}

func uleb(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

func sleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Instructions lists the instruction names of every function's code in the
// binary module b, decoded from the bytes: an error for any opcode the
// assembler does not know (so no fused or relaxed one can hide there).
func Instructions(b []byte) ([]string, error) {
	byCode := map[string]string{}
	for name, o := range ops {
		byCode[string(o.code)] = name
	}
	r := bytes.NewReader(b)
	head := make([]byte, 8)
	if _, err := r.Read(head); err != nil || string(head) != "\x00asm\x01\x00\x00\x00" {
		return nil, fmt.Errorf("wasm: not a wasm module")
	}
	var names []string
	for r.Len() > 0 {
		id, _ := r.ReadByte()
		size, err := binary.ReadUvarint(r)
		if err != nil || size > uint64(r.Len()) {
			return nil, fmt.Errorf("wasm: bad section size")
		}
		body := make([]byte, size)
		r.Read(body)
		if id != 10 {
			continue
		}
		c := bytes.NewReader(body)
		nfunc, err := binary.ReadUvarint(c)
		if err != nil || nfunc > uint64(c.Len()) {
			return nil, fmt.Errorf("wasm: bad code section")
		}
		for f := uint64(0); f < nfunc; f++ {
			n, err := binary.ReadUvarint(c)
			if err != nil || n > uint64(c.Len()) {
				return nil, fmt.Errorf("wasm: bad function size")
			}
			fb := make([]byte, n)
			c.Read(fb)
			fr := bytes.NewReader(fb)
			groups, err := binary.ReadUvarint(fr)
			for g := uint64(0); g < groups && err == nil; g++ {
				if _, err = binary.ReadUvarint(fr); err == nil {
					_, err = fr.ReadByte()
				}
			}
			if err != nil {
				return nil, fmt.Errorf("wasm: bad locals")
			}
			for fr.Len() > 0 {
				b0, _ := fr.ReadByte()
				code := []byte{b0}
				if b0 == 0xfd {
					v, err := binary.ReadUvarint(fr)
					if err != nil {
						return nil, fmt.Errorf("wasm: bad simd opcode")
					}
					code = simd(uint32(v))
				}
				name, ok := byCode[string(code)]
				if !ok {
					return nil, fmt.Errorf("wasm: unknown opcode % x", code)
				}
				names = append(names, name)
				var err error
				switch ops[name].immed {
				case immBlock:
					_, err = fr.ReadByte()
				case immLocal, immLabel, immI32:
					_, err = binary.ReadUvarint(fr) // LEB128 either way: only the length matters
				case immMem:
					if _, err = binary.ReadUvarint(fr); err == nil {
						_, err = binary.ReadUvarint(fr)
					}
				}
				if err != nil {
					return nil, fmt.Errorf("wasm: %s: truncated", name)
				}
			}
		}
	}
	return names, nil
}
