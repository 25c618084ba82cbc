package converters

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is how deeply objects and arrays may nest, as in encoding/json.
const maxDepth = 10000

// decoder parses JSON text into the values transforms see: map[string]any,
// []any, string, bool, nil, and numbers as int64 when the literal is an
// integer (no fraction, no exponent) that fits, float64 otherwise. CEL's
// `value.amount >= 10` and `value.n + 1` then work on integers as written.
// With build false it only validates (Check).
//
// It accepts exactly what encoding/json accepts, with the same results for
// strings (invalid UTF-8 and lone surrogates become U+FFFD) and the same
// nesting limit; numbers out of the range of float64 are errors, as in
// json.Unmarshal into an interface.
type decoder struct {
	data    []byte
	pos     int
	depth   int
	build   bool
	op      string
	scratch []byte // unescaped string being built
	err     *Error
}

func (d *decoder) fail(off int, reason string) {
	if d.err == nil {
		d.err = inputError("json", d.op, d.data, off, reason)
	}
}

// decodeJSON decodes b, which must hold exactly one JSON value (and
// surrounding whitespace).
func decodeJSON(b []byte, build bool, op string) (any, *Error) {
	d := decoder{data: b, build: build, op: op}
	d.skipSpace()
	if d.pos == len(b) {
		if len(b) == 0 {
			d.fail(0, "empty input is not JSON")
		} else {
			d.fail(d.pos, "no JSON value")
		}
		return nil, d.err
	}
	v := d.value()
	if d.err != nil {
		return nil, d.err
	}
	d.skipSpace()
	if d.pos != len(b) {
		d.fail(d.pos, "unexpected "+quoteByte(b[d.pos])+" after the JSON value")
		return nil, d.err
	}
	return v, nil
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

func (d *decoder) skipSpace() { d.pos = skipSpaces(d.data, d.pos) }

func (d *decoder) unexpected() {
	if d.pos >= len(d.data) {
		d.fail(d.pos, "unexpected end of input")
		return
	}
	d.fail(d.pos, "unexpected "+quoteByte(d.data[d.pos]))
}

func (d *decoder) value() any {
	if d.pos >= len(d.data) {
		d.unexpected()
		return nil
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, _ := d.str()
		return s
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	}
	d.unexpected()
	return nil
}

func (d *decoder) literal(word string, v any) any {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			d.unexpected()
			return nil
		}
		d.pos++
	}
	return v
}

func (d *decoder) enter() bool {
	d.depth++
	if d.depth > maxDepth {
		d.fail(d.pos, "nesting deeper than "+strconv.Itoa(maxDepth))
		return false
	}
	return true
}

func (d *decoder) object() any {
	if !d.enter() {
		return nil
	}
	d.pos++ // {
	var m map[string]any
	if d.build {
		m = map[string]any{}
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return m
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			d.unexpected()
			return nil
		}
		k, ok := d.str()
		if !ok {
			return nil
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			d.unexpected()
			return nil
		}
		d.pos++
		d.skipSpace()
		v := d.value()
		if d.err != nil {
			return nil
		}
		if d.build {
			m[k] = v
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			d.unexpected()
			return nil
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			d.depth--
			return m
		default:
			d.unexpected()
			return nil
		}
	}
}

func (d *decoder) array() any {
	if !d.enter() {
		return nil
	}
	d.pos++ // [
	var l []any
	if d.build {
		l = []any{}
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return l
	}
	for {
		v := d.value()
		if d.err != nil {
			return nil
		}
		if d.build {
			l = append(l, v)
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			d.unexpected()
			return nil
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			d.depth--
			return l
		default:
			d.unexpected()
			return nil
		}
	}
}

// str parses a string starting at the opening quote. Without build it
// returns "" but still validates.
func (d *decoder) str() (string, bool) {
	start := d.pos + 1
	i := start
	// Fast path: plain ASCII without escapes.
	for i < len(d.data) {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			if !d.build {
				return "", true
			}
			return string(d.data[start:i]), true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	buf := append(d.scratch[:0], d.data[start:i]...)
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.scratch = buf
			if !d.build {
				return "", true
			}
			return string(buf), true
		case c < 0x20:
			d.fail(i, "control character "+quoteByte(c)+" in a string")
			return "", false
		case c == '\\':
			if i+1 >= len(d.data) {
				d.fail(i+1, "unexpected end of input")
				return "", false
			}
			switch e := d.data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
				i += 2
			case 'b':
				buf = append(buf, '\b')
				i += 2
			case 'f':
				buf = append(buf, '\f')
				i += 2
			case 'n':
				buf = append(buf, '\n')
				i += 2
			case 'r':
				buf = append(buf, '\r')
				i += 2
			case 't':
				buf = append(buf, '\t')
				i += 2
			case 'u':
				r, ok := d.hex4(i + 2)
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A surrogate pair takes two escapes; a lone half
					// becomes U+FFFD, as in encoding/json.
					if i+1 < len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
						r2, ok := d.hex4(i + 2)
						if !ok {
							return "", false
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
			default:
				d.fail(i+1, "invalid escape "+quoteByte(e)+" in a string")
				return "", false
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, d.data[i:i+size]...)
			}
			i += size
		}
	}
	d.scratch = buf
	d.fail(len(d.data), "unexpected end of input in a string")
	return "", false
}

func (d *decoder) hex4(at int) (rune, bool) {
	if at+4 > len(d.data) {
		d.fail(min(at, len(d.data)), "unexpected end of input in a \\u escape")
		return 0, false
	}
	var r rune
	for j := at; j < at+4; j++ {
		c := d.data[j]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			d.fail(j, "invalid \\u escape")
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number parses a number: int64 when the literal has no fraction and no
// exponent and fits, float64 otherwise.
func (d *decoder) number() any {
	start := d.pos
	i := d.pos
	neg := false
	if d.data[i] == '-' {
		neg = true
		i++
	}
	if i >= len(d.data) || !isDigit(d.data[i]) {
		d.pos = i
		d.unexpected()
		return nil
	}
	// Integer part, accumulated as a negative number so that MinInt64
	// fits.
	var acc int64
	overflow := false
	if d.data[i] == '0' {
		i++
	} else {
		for i < len(d.data) && isDigit(d.data[i]) {
			dig := int64(d.data[i] - '0')
			if acc < (math.MinInt64+dig)/10 {
				overflow = true
			} else {
				acc = acc*10 - dig
			}
			i++
		}
	}
	integer := true
	if i < len(d.data) && d.data[i] == '.' {
		integer = false
		i++
		if i >= len(d.data) || !isDigit(d.data[i]) {
			d.pos = i
			d.unexpected()
			return nil
		}
		i = digitsEnd(d.data, i)
	}
	hasExp := false
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		integer = false
		hasExp = true
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if i >= len(d.data) || !isDigit(d.data[i]) {
			d.pos = i
			d.unexpected()
			return nil
		}
		i = digitsEnd(d.data, i)
	}
	d.pos = i
	if integer && !overflow {
		if !neg {
			if acc == math.MinInt64 {
				overflow = true
			} else {
				acc = -acc
			}
		}
		if !overflow {
			if !d.build {
				return nil
			}
			return acc
		}
	}
	if !d.build && !hasExp && i-start < 300 {
		// Without an exponent, fewer than 309 digits always give a
		// finite float64: nothing to check.
		return nil
	}
	f, err := strconv.ParseFloat(string(d.data[start:i]), 64)
	if err != nil {
		d.fail(start, "number "+truncate(d.data[start:i])+" is out of the range of a 64-bit float")
		return nil
	}
	return f
}

func truncate(b []byte) string {
	if len(b) <= 24 {
		return string(b)
	}
	return string(b[:24]) + "…"
}
