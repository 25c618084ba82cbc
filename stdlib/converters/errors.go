package converters

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxQuoted caps how much of a key or value an error message quotes, so
// that a bad record does not end up whole in logs, task status and
// dead-letter headers.
const maxQuoted = 64

// maxQuotedText caps the length of the quoted text itself.
const maxQuotedText = 96

// Error is a converter error about one key or value: which converter, what
// it was doing, what is wrong, and where. It never holds more than
// maxQuoted bytes of the data.
type Error struct {
	Converter string // "json", "string" or "bytes"
	Op        string // "encode", "decode" or "check"
	Reason    string // what is wrong, e.g. `unexpected character 'x'`
	// Offset is the byte offset of the problem in the input of a decode or
	// check, -1 when there is none.
	Offset int
	// Near is the input around Offset (or its start), at most maxQuoted
	// bytes; empty for encode errors.
	Near string
	// Size is the length of the input in bytes.
	Size int
}

func (e *Error) Error() string {
	msg := e.Converter + " converter: cannot " + e.Op + ": " + e.Reason
	if e.Offset >= 0 {
		msg += " at byte " + strconv.Itoa(e.Offset)
	}
	if e.Near != "" || e.Offset >= 0 {
		msg += fmt.Sprintf(" of %d near %s", e.Size, e.Near)
	}
	return msg
}

// inputError builds the Error of a decode or check that failed at offset
// off of b.
func inputError(conv, op string, b []byte, off int, reason string) *Error {
	return &Error{Converter: conv, Op: op, Reason: reason, Offset: off, Near: near(b, off), Size: len(b)}
}

// encodeError builds the Error of an encode.
func encodeError(conv, reason string) *Error {
	return &Error{Converter: conv, Op: "encode", Reason: reason, Offset: -1}
}

// near quotes at most maxQuoted bytes of b around off, with "…" where it
// was cut.
func near(b []byte, off int) string {
	start := max(0, off-maxQuoted/2)
	end := min(len(b), start+maxQuoted)
	if end-start < maxQuoted {
		start = max(0, end-maxQuoted)
	}
	// Do not cut a UTF-8 sequence at the edges.
	for start > 0 && start < end && !utf8.RuneStart(b[start]) {
		start++
	}
	for end < len(b) && end > start && !utf8.RuneStart(b[end]) && end-start > 1 {
		end--
	}
	q := strconv.Quote(string(b[start:end]))
	// Escapes (\xff) can make the quote four times longer than the
	// bytes: drop runes at the end, then at the start, keeping the byte at
	// off, until it fits.
	for len(q) > maxQuotedText && (end > off+1 && end > start+1 || start < off) {
		if end > off+1 && end > start+1 {
			_, size := utf8.DecodeLastRune(b[start:end])
			end -= size
		} else {
			_, size := utf8.DecodeRune(b[start:end])
			start += size
		}
		q = strconv.Quote(string(b[start:end]))
	}
	if start > 0 {
		q = "…" + q
	}
	if end < len(b) {
		q += "…"
	}
	return q
}

// describe names a value's type for an error message without printing it.
func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case bool:
		return "a bool"
	case int64, int, int32, uint64:
		return "an int"
	case float64:
		return "a float"
	}
	return fmt.Sprintf("a value of Go type %T", v)
}
