package converters

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"
)

// AppendJSON appends the JSON text of v to dst. It is the encoder of the
// json converter, shared with the sinks that write JSON:
//
//   - nil → null; bool; string → a JSON string (no HTML escaping; invalid
//     UTF-8 becomes U+FFFD);
//   - integers → digits; float64 → the shortest text that reads back the
//     same, always with a fraction or an exponent (3.0, not 3) so that it
//     decodes back to a float64; NaN and infinities are errors;
//   - []byte → a JSON string holding the standard base64 of the bytes, as
//     encoding/json writes them (it decodes back as that string);
//   - json.RawMessage → its text, which must be valid JSON;
//   - map[string]any and map[string]string → an object with sorted keys;
//     []any and []string → an array;
//   - anything else (time.Time, typed slices, …) → what encoding/json.Marshal
//     writes for it.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	e := encoderPool.Get().(*encoder)
	defer func() {
		e.keys = e.keys[:0]
		encoderPool.Put(e)
	}()
	return e.append(dst, v)
}

type encoder struct {
	keys []string // stack of sorted map keys, one run per nesting level
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

func (e *encoder) append(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendString(b, v), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		return appendFloat(b, v)
	case []byte:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v)
		return append(b, '"'), nil
	case json.RawMessage:
		if !json.Valid(v) {
			return b, encodeError("json", "a json.RawMessage inside the value is not valid JSON")
		}
		return append(b, v...), nil
	case map[string]any:
		return e.appendMap(b, v)
	case map[string]string:
		start := len(e.keys)
		for k := range v {
			e.keys = append(e.keys, k)
		}
		sort.Strings(e.keys[start:])
		b = append(b, '{')
		for i := start; i < len(e.keys); i++ {
			if i > start {
				b = append(b, ',')
			}
			b = appendString(b, e.keys[i])
			b = append(b, ':')
			b = appendString(b, v[e.keys[i]])
		}
		e.keys = e.keys[:start]
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.append(b, x); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b, encodeError("json", "cannot encode "+describe(v)+": "+err.Error())
	}
	return append(b, out...), nil
}

func (e *encoder) appendMap(b []byte, m map[string]any) ([]byte, error) {
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	sort.Strings(e.keys[start:])
	end := len(e.keys)
	b = append(b, '{')
	for i := start; i < end; i++ {
		if i > start {
			b = append(b, ',')
		}
		// Nested maps push their keys after ours and pop them before
		// returning, so e.keys[start:end] stays ours (it may move when
		// the slice grows: index it afresh each time).
		k := e.keys[i]
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = e.append(b, m[k]); err != nil {
			e.keys = e.keys[:start]
			return b, err
		}
	}
	e.keys = e.keys[:start]
	return append(b, '}'), nil
}

// appendFloat writes f as encoding/json does (the shortest decimal that
// reads back the same, exponent form below 1e-6 and from 1e21) and adds
// ".0" to an integral value written without exponent, so that it stays a
// float when decoded again.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, encodeError("json", "cannot encode "+strconv.FormatFloat(f, 'g', -1, 64)+": JSON has no NaN or infinity")
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
		return b, nil
	}
	for _, c := range b[start:] {
		if c == '.' {
			return b, nil
		}
	}
	return append(b, '.', '0'), nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string: quotes, backslashes and control
// characters escaped, U+2028 and U+2029 escaped (for JavaScript readers),
// invalid UTF-8 replaced by U+FFFD; no HTML escaping.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
