package session

import (
	"encoding/json"
	"net/url"
	"strings"

	"playground/wasm/protocol"
)

// specFromQuery makes the spec in an open command's URL query its spec
// (a shared link), reporting a link that does not hold a valid one.
func (l *loop) specFromQuery(c *protocol.Command) {
	q, err := url.ParseQuery(strings.TrimPrefix(c.Query, "?"))
	if err != nil || !protocol.HasSpec(q) {
		return
	}
	spec, err := protocol.SpecFromQuery(q)
	if err != nil {
		l.warn(c.Seq, "the link's setup is not valid (%v); opening without it", err)
		return
	}
	c.Spec, c.Preset = json.RawMessage(spec.JSON()), ""
}
