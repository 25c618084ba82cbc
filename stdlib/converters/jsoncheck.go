package converters

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// validJSON reports whether decodeJSON accepts b, much faster than
// decodeJSON(b, false, …): it is what JSON.Check runs on every record no
// transform looks at. It must accept exactly what decodeJSON accepts;
// FuzzJSONCheck holds it to that. It says nothing about why b is not JSON:
// decodeJSON, run again on the (rare) bad input, says that.
//
// Where it differs from decodeJSON is how: a loop with a stack of one bit
// per open object or array instead of recursion, string bodies scanned
// eight bytes at a time, and numbers given to strconv only when they could
// be out of the range of float64 (with an exponent, or 300 characters
// long). As in decodeJSON, any byte from 0x80 up
// may appear in a string (invalid UTF-8 decodes to U+FFFD), a \u escape
// needs four hex digits whatever it encodes (a lone surrogate decodes to
// U+FFFD), and objects and arrays nest at most maxDepth deep.
func validJSON(b []byte) bool {
	// Bit d%64 of open[d/64] is 1 when the container at depth d+1 is an
	// object, 0 when it is an array. Four words cover 256 levels without
	// an allocation; deeper input grows the slice.
	var inline [4]uint64
	open := inline[:]
	depth := 0
	object := false // the innermost open container is an object
	key := false    // an object key comes next, not a value

	i := skipSpaces(b, 0)
	for {
		// A value, or with key an object key, starts at i.
		if i >= len(b) {
			return false
		}
		c := b[i]
		if key && c != '"' {
			return false
		}
		switch c {
		case '{', '[':
			if depth == maxDepth {
				return false
			}
			w, bit := depth>>6, uint64(1)<<(depth&63)
			if w == len(open) {
				open = append(open, 0)
			}
			object = c == '{'
			if object {
				open[w] |= bit
			} else {
				open[w] &^= bit
			}
			depth++
			i = skipSpaces(b, i+1)
			if i >= len(b) || b[i] != c+2 { // '{'+2 is '}', '['+2 is ']'
				key = object
				continue
			}
			// An empty container is a complete value; the loop below
			// closes it.
		case '"':
			// The body: runs of plain bytes, eight at a time while
			// eight remain, up to the closing quote, and escapes.
			i++
			for {
				if len(b)-i >= 8 {
					stops := stringStops(binary.LittleEndian.Uint64(b[i:]))
					if stops == 0 {
						i += 8
						continue
					}
					i += bits.TrailingZeros64(stops) / 8 // little endian: the lowest byte comes first
				} else if i = tailStop(b, i); i == len(b) {
					return false
				}
				if b[i] == '"' {
					i++
					break
				}
				if i = escapeEnd(b, i); i < 0 {
					return false
				}
			}
			if key {
				i = skipSpaces(b, i)
				if i >= len(b) || b[i] != ':' {
					return false
				}
				i = skipSpaces(b, i+1)
				key = false
				continue
			}
		case 't':
			if len(b)-i < 4 || string(b[i:i+4]) != "true" {
				return false
			}
			i += 4
		case 'f':
			if len(b)-i < 5 || string(b[i:i+5]) != "false" {
				return false
			}
			i += 5
		case 'n':
			if len(b)-i < 4 || string(b[i:i+4]) != "null" {
				return false
			}
			i += 4
		default:
			if i = numberEnd(b, i); i < 0 {
				return false
			}
		}

		// A value ends at i (or, after an empty container, its closing
		// bracket is at i): close the containers that end here, then
		// move past the comma to the next key or value.
		for {
			i = skipSpaces(b, i)
			if depth == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			c := b[i]
			i++
			if c == ',' {
				i = skipSpaces(b, i)
				key = object
				break
			}
			if object && c != '}' || !object && c != ']' {
				return false
			}
			depth--
			if d := depth - 1; d >= 0 {
				object = open[d>>6]>>(d&63)&1 != 0
			}
		}
	}
}

// spaces has bit c set for each byte c that JSON allows between tokens.
const spaces uint64 = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r'

// skipSpaces returns the index of the first byte from i on that is not
// whitespace.
func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && spaces&(1<<b[i]) != 0 {
		i++
	}
	return i
}

// tailStop returns the index of the first '"', '\\' or control character
// from i on, or len(b); stringStops does the same eight bytes at a time.
func tailStop(b []byte, i int) int {
	for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
		i++
	}
	return i
}

// escapeEnd returns the index after the escape at i, or -1 when there is
// none: b[i] is a '\\' or a control character.
func escapeEnd(b []byte, i int) int {
	if b[i] != '\\' || i+1 >= len(b) {
		return -1
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
			return -1
		}
		return i + 6
	}
	return -1
}

// Broadcasts of a byte to the eight bytes of a word.
const (
	ones       = 0x0101010101010101
	highBits   = 0x8080808080808080
	quotes     = '"' * ones
	backslashs = '\\' * ones
)

// stringStops sets the high bit of the lowest byte of w (a little-endian
// word of a string's body) that is '"', '\\' or a control character (below
// 0x20); it returns 0 when there is none.
//
// These are the tricks of "Bit Twiddling Hacks" (haszero, hasless): in
// (w - n*ones) &^ w & highBits the high bit of a byte is set when the byte
// is below n (n <= 0x80), and only the lowest such byte is sure: the
// borrow out of it may set bytes above it too. So the lowest byte set in
// the union of the three tests is a true stop, which is all that is used.
// Bytes from 0x80 up are never set, and below 1 means zero, hence the XOR
// to find '"' and '\\'.
func stringStops(w uint64) uint64 {
	q, s := w^quotes, w^backslashs
	return ((q-ones)&^q | (s-ones)&^s | (w-0x20*ones)&^w) & highBits
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// numberEnd checks the number starting at i and returns the index after
// it, or -1 when there is none or it is out of the range of float64.
func numberEnd(b []byte, i int) int {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++ // no leading zeros: what follows is not part of the number
	case '1' <= b[i] && b[i] <= '9':
		i = digitsEnd(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digitsEnd(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	exponent := false
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		exponent = true
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digitsEnd(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	// Without an exponent, fewer than 309 digits always fit in a float64
	// (as in decodeJSON, which parses from 300 characters on).
	if exponent || i-start >= 300 {
		if _, err := strconv.ParseFloat(string(b[start:i]), 64); err != nil {
			return -1
		}
	}
	return i
}

// digitsEnd returns the index of the first byte from i on that is not a
// decimal digit.
func digitsEnd(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
