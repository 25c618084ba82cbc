package converters

import (
	"encoding/json"

	"github.com/pipectl/pipectl/runtime/connector"
)

// JSON is the "json" converter. It is safe for concurrent use.
//
// Decode yields map[string]any, []any, string, bool, nil, int64 for an
// integer literal (no fraction, no exponent) that fits in 64 bits and
// float64 for every other number. Encode writes what AppendJSON writes; a
// json.RawMessage at the top passes through unchanged (not even
// validated: it comes from Check), a []byte becomes a base64 JSON string.
// A nil key or value (a Kafka tombstone) stays nil both ways; an empty,
// non-nil input is not JSON.
type JSON struct {
	connector.UnimplementedConverter
	// InvalidAsString (on_invalid = "string") turns input that is not
	// JSON into a string of its bytes instead of an error. Encode of that
	// string gives a JSON string, not the input back.
	InvalidAsString bool
}

// Encode returns the JSON text of v.
func (c *JSON) Encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return v, nil
	}
	buf := bufPool.Get().(*[]byte)
	b, err := AppendJSON((*buf)[:0], v)
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= maxPooledBuf {
		*buf = b[:0]
		bufPool.Put(buf)
	}
	return out, err
}

// Decode parses b.
func (c *JSON) Decode(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	v, err := decodeJSON(b, true, "decode")
	if err != nil {
		if c.InvalidAsString {
			return string(b), nil
		}
		return nil, err
	}
	return v, nil
}

// Check validates b and returns it as a json.RawMessage (sharing b's
// memory), which Encode gives back unchanged. It accepts exactly what
// Decode accepts.
func (c *JSON) Check(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	t, err := c.CheckWire(b)
	if err != nil {
		return nil, err
	}
	return t.Of(b), nil
}

// CheckWire is Check without building its result
// (connector.WireChecker): JSON text, or a string for invalid JSON with
// InvalidAsString.
func (c *JSON) CheckWire(b []byte) (connector.WireType, error) {
	if validJSON(b) {
		return connector.WireAsJSON, nil
	}
	// Rare: let the decoder say what is wrong and where.
	if _, err := decodeJSON(b, false, "check"); err != nil {
		if c.InvalidAsString {
			return connector.WireAsString, nil
		}
		return 0, err
	}
	return connector.WireAsJSON, nil
}
