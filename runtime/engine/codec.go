package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/pipectl/pipectl/runtime/connector"
)

// rawBytes returns the wire bytes of an Encoded record's key or value.
func rawBytes(v any) ([]byte, error) {
	if b, ok := connector.WireBytes(v); ok {
		return b, nil
	}
	return nil, fmt.Errorf("an Encoded record holds bytes, not %s", describe(v))
}

// fromBytes turns consumed bytes into what transforms and sinks see:
// Decode when a transform needs the structure (DecodeWithSchema, with the
// schema the bytes carry, when the converter is a connector.SchemaDecoder),
// else the converter's cheaper Check, through CheckWire and bx when the
// converter is a WireChecker. nil (a null key, a tombstone) stays nil.
func fromBytes(c connector.Converter, bx *boxes, b []byte, decode bool) (any, *connector.Schema, error) {
	switch {
	case b == nil:
		return nil, nil, nil
	case decode:
		if sd, ok := c.(connector.SchemaDecoder); ok {
			return sd.DecodeWithSchema(b)
		}
		v, err := c.Decode(b)
		return v, nil, err
	}
	if wc, ok := c.(connector.WireChecker); ok && bx != nil {
		t, err := wc.CheckWire(b)
		if err != nil {
			return nil, nil, err
		}
		if v, ok := bx.box(t, b); ok {
			return v, nil, nil
		}
		// A type this engine does not know: Check builds the value.
	}
	v, err := c.Check(b)
	return v, nil, err
}

// toBytes encodes a key or value written to topic with its schema s (nil:
// schemaless): EncodeFor when the converter is a connector.TopicEncoder,
// EncodeWithSchema when there is a schema and the converter is a
// connector.SchemaEncoder, else Encode. A nil value without a schema stays
// nil (a tombstone); with one it is the schema's null, as Kafka Connect
// writes it.
func toBytes(c connector.Converter, topic string, v any, s *connector.Schema) ([]byte, error) {
	if v == nil && s == nil {
		return nil, nil
	}
	if te, ok := c.(connector.TopicEncoder); ok {
		return te.EncodeFor(topic, v, s)
	}
	if s != nil {
		if se, ok := c.(connector.SchemaEncoder); ok {
			return se.EncodeWithSchema(v, s)
		}
	}
	if v == nil {
		return nil, nil
	}
	return c.Encode(v)
}

// unraw decodes JSON text a source handed over undecoded
// (json.RawMessage), for transforms that look inside it. Numbers follow
// the json converter: int64 for an integer literal that fits, float64
// otherwise.
func unraw(v any) (any, error) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		return v, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("invalid JSON: text after the value")
	}
	return numbers(out), nil
}

// numbers replaces the json.Numbers of a decoded value.
func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	}
	return v
}

// render is the JSON rendering of a value that the pipeline's converter
// could not encode, for the dead-letter topic.
func render(v any) []byte {
	switch v := v.(type) {
	case nil:
		return nil
	case []byte:
		return v
	case json.RawMessage:
		return v
	}
	if b, err := json.Marshal(v); err == nil {
		return b
	}
	return fmt.Appendf(nil, "%v", v)
}

// deepCopy copies the maps and lists of a structured value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
