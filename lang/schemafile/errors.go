package schemafile

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Error is a problem with a schema document. Line and Column (1-based) say
// where in the text, 0 when the problem has no single place (a type that
// has no record-schema form, a name that is not defined).
type Error struct {
	Language string // "avro", "protobuf" or "json_schema"
	Line     int
	Column   int
	Reason   string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s schema, line %d, column %d: %s", e.Language, e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("%s schema: %s", e.Language, e.Reason)
}

// jsonError turns an encoding/json error of text into an *Error with the
// place of a syntax error.
func jsonError(lang, text string, err error) *Error {
	e := &Error{Language: lang, Reason: err.Error()}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		e.Line, e.Column = position(text, syn.Offset)
	case errors.As(err, &typ):
		e.Line, e.Column = position(text, typ.Offset)
	}
	return e
}

// position returns the 1-based line and column of byte offset off of text
// (encoding/json reports the offset after the byte at fault).
func position(text string, off int64) (line, col int) {
	if off > int64(len(text)) {
		off = int64(len(text))
	}
	line, col = 1, 1
	for i := int64(0); i < off-1 && i < int64(len(text)); i++ {
		if text[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// checkJSON reports the first syntax error of a JSON document with its
// place, and text after the document.
func checkJSON(lang, text string) error {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return jsonError(lang, text, err)
	}
	return nil
}
