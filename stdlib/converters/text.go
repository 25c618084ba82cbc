package converters

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pipectl/pipectl/runtime/connector"
)

// maxPooledBuf is the largest encode buffer kept for reuse.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// String is the "string" converter: UTF-8 text ⇄ string.
//
// Decode and Check return the text as a string; invalid UTF-8 is an error.
// Encode accepts a string or []byte (valid UTF-8, else an error), a
// json.RawMessage (its text), bool, integers and float64 (their shortest
// text: "true", "42", "0.5", "1e+21"), and time.Time (RFC 3339 with
// nanoseconds); maps and lists are errors: encode them with json. nil stays
// nil both ways.
type String struct {
	connector.UnimplementedConverter
}

// Encode returns the UTF-8 bytes of v.
func (String) Encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if !utf8.ValidString(v) {
			return nil, encodeError("string", "the string is not valid UTF-8")
		}
		return []byte(v), nil
	case []byte:
		if !utf8.Valid(v) {
			return nil, encodeError("string", "the bytes are not valid UTF-8")
		}
		return v, nil
	case json.RawMessage:
		return v, nil
	case bool:
		return strconv.AppendBool(nil, v), nil
	case int64:
		return strconv.AppendInt(nil, v, 10), nil
	case int:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case uint64:
		return strconv.AppendUint(nil, v, 10), nil
	case float64:
		return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
	case time.Time:
		return v.AppendFormat(nil, time.RFC3339Nano), nil
	}
	return nil, encodeError("string", "cannot encode "+describe(v)+" as text; use the json converter for structured values")
}

// Decode returns b as a string.
func (s String) Decode(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	if _, err := s.CheckWire(b); err != nil {
		return nil, err
	}
	return string(b), nil
}

// Check is Decode.
func (s String) Check(b []byte) (any, error) { return s.Decode(b) }

// CheckWire is Check without building its result (connector.WireChecker).
func (String) CheckWire(b []byte) (connector.WireType, error) {
	if !utf8.Valid(b) {
		return 0, inputError("string", "decode", b, firstInvalid(b), "invalid UTF-8")
	}
	return connector.WireAsString, nil
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// Bytes is the "bytes" converter: the bytes pass through untouched.
//
// Decode and Check return b itself ([]byte, sharing its memory). Encode
// accepts []byte and json.RawMessage (returned as they are) and string (its
// bytes); anything else is an error. nil stays nil both ways; an empty
// value stays empty.
type Bytes struct {
	connector.UnimplementedConverter
}

// Encode returns the bytes of v.
func (Bytes) Encode(v any) ([]byte, error) {
	if b, ok := connector.WireBytes(v); ok {
		return b, nil
	}
	return nil, encodeError("bytes", "cannot encode "+describe(v)+"; the bytes converter takes bytes or a string")
}

// Decode returns b.
func (Bytes) Decode(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return b, nil
}

// Check is Decode.
func (c Bytes) Check(b []byte) (any, error) { return c.Decode(b) }

// CheckWire accepts any bytes (connector.WireChecker).
func (Bytes) CheckWire([]byte) (connector.WireType, error) { return connector.WireAsBytes, nil }
