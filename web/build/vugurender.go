package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// vuguRender is vugu's DOM renderer script (domrender/renderer-js-script.js
// of the vugu module in go.mod, its debug lines left out) changed to write
// an attribute, a property or an innerHTML only when it differs from what
// the element has. vugu's renderer sends every attribute and every vg-content of the
// page on every render; writing an unchanged value still costs style and
// layout work (and, for a canvas's size, clears it). The page loads this
// script before the UI starts, so vugu keeps it (its own only installs
// itself when no window.vuguRender exists).
func vuguRender() ([]byte, error) {
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	dir, err := exec.Command(gobin, "list", "-m", "-f", "{{.Dir}}", "github.com/vugu/vugu").Output()
	if err != nil {
		return nil, fmt.Errorf("locating the vugu module: %w", err)
	}
	path := filepath.Join(strings.TrimSpace(string(dir)), "domrender", "renderer-js-script.js")
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("// vugu's DOM renderer (" + filepath.Base(filepath.Dir(filepath.Dir(path))) + "), changed by web/build/vugurender.go to skip writes of unchanged values.\n")
	for _, line := range bytes.SplitAfter(src, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if bytes.HasPrefix(t, []byte("/*DEBUG*/")) || bytes.Equal(t, []byte("/*DEBUG OPCODE STRINGS*/")) {
			continue
		}
		b.Write(line)
	}
	out := b.String()
	for _, p := range [][2]string{
		{"el.setAttribute(attrName, attrValue);", "if (el.getAttribute(attrName) !== attrValue) el.setAttribute(attrName, attrValue);"},
		{"el.setAttributeNS(attrNamespace, attrName, attrValue);", "if (el.getAttributeNS(attrNamespace, attrName) !== attrValue) el.setAttributeNS(attrNamespace, attrName, attrValue);"},
		// A property too: writing an input's value back while it is typed
		// in breaks the typing (a number input reports "0." as "", and
		// writing "" clears the "0." shown, so "0.05" typed key by key
		// became 50).
		{"el[propName] = JSON.parse(propValueJSON);", "{ const v = JSON.parse(propValueJSON); if (el[propName] !== v) el[propName] = v; }"},
		{`state.el.innerHTML = (state.bufferedInnerHTML || "") + html;`, `{ const h = (state.bufferedInnerHTML || "") + html; if (state.el.innerHTML !== h) state.el.innerHTML = h; }`},
	} {
		if n := strings.Count(out, p[0]); n != 1 {
			return nil, fmt.Errorf("%s: %q appears %d times, want once (a new vugu version? see web/build/vugurender.go)", path, p[0], n)
		}
		out = strings.Replace(out, p[0], p[1], 1)
	}
	return []byte(out), nil
}
