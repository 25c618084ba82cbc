package expr

import (
	"strings"
	"unicode/utf8"
)

// cel-go locates a problem by line (1-based, lines end at '\n') and column
// (0-based, counted in code points), and it keeps ranges as code point
// offsets into the whole source. A code point is one step of
// utf8.DecodeRuneInString, so an invalid byte counts as one. The functions
// below turn those into byte offsets into the source text.

// lineColumnOffset returns the byte offset of the code point at (line, col),
// or -1 when the line does not exist. A column past the end of the text
// gives len(src); a negative one (cel-go's column of the end of an empty
// source) the start of the line.
func lineColumnOffset(src string, line, col int) int {
	if line < 1 {
		return -1
	}
	col = max(col, 0)
	i := 0
	for l := 1; l < line; l++ {
		nl := strings.IndexByte(src[i:], '\n')
		if nl < 0 {
			return -1
		}
		i += nl + 1
	}
	return advanceCodePoints(src, i, col)
}

// codePointOffset returns the byte offset of code point number cp (0-based)
// of src, or len(src) when src is shorter, or -1 when cp is negative.
func codePointOffset(src string, cp int) int {
	if cp < 0 {
		return -1
	}
	return advanceCodePoints(src, 0, cp)
}

// advanceCodePoints returns the byte offset n code points after byte offset
// i, or len(src) when the text ends first.
func advanceCodePoints(src string, i, n int) int {
	for ; n > 0 && i < len(src); n-- {
		if src[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(src[i:])
		i += size
	}
	return i
}

// runeStart moves a byte offset back to the start of the code point that
// contains it, so that a range never splits a UTF-8 sequence.
func runeStart(src string, i, floor int) int {
	for i > floor && i < len(src) && !utf8.RuneStart(src[i]) {
		i--
	}
	return i
}

// celSpace is CEL's whitespace.
const celSpace = " \t\n\f\r"

// wholeSpan returns the byte range of src without leading and trailing
// whitespace: the subject of a problem with the whole expression.
func wholeSpan(src string) (start, end int) {
	start = len(src) - len(strings.TrimLeft(src, celSpace))
	end = len(strings.TrimRight(src, celSpace))
	if end < start {
		return 0, 0
	}
	return start, end
}

// nameBefore returns the start of name when name ends the text before
// offset (spaces between them allowed) and is not the tail of a longer
// identifier, or -1. cel-go locates a function call at its '(' and a
// person looks for the function's name.
func nameBefore(src string, offset int, name string) int {
	if name == "" || offset < 0 || offset > len(src) {
		return -1
	}
	before := strings.TrimRight(src[:offset], celSpace)
	if !strings.HasSuffix(before, name) {
		return -1
	}
	start := len(before) - len(name)
	if start > 0 && isIdentByte(src[start-1]) {
		return -1
	}
	return start
}

// fieldAfter returns the range of the field name of the selection whose
// '.' is at offset, or ok false. cel-go locates a field selection at its
// '.' and a person looks for the field's name.
func fieldAfter(src string, offset int) (start, end int, ok bool) {
	if offset < 0 || offset >= len(src) || src[offset] != '.' {
		return 0, 0, false
	}
	start = offset + 1
	for start < len(src) && strings.IndexByte(celSpace, src[start]) >= 0 {
		start++
	}
	end = start
	for end < len(src) && isIdentByte(src[end]) {
		end++
	}
	return start, end, end > start
}

func isIdentByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
