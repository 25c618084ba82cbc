package httpconn

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// bodyError is a request body the source refuses as a whole: the client
// gets 400 with its message, and none of the body's records is written.
type bodyError struct{ msg string }

func (e *bodyError) Error() string { return e.msg }

// splitBody cuts a request body into record values by format: "json" is
// one JSON document, "ndjson" one JSON document a line (blank lines and a
// final line without a newline are allowed; \r\n line ends too), "raw" the
// body's bytes as they are. Every value is validated before any is
// returned, so that a bad body gives no record. The values alias body.
func splitBody(format string, body []byte) ([][]byte, error) {
	switch format {
	case "raw":
		return [][]byte{body}, nil
	case "ndjson":
		var out [][]byte
		line := 0
		for rest := body; len(rest) > 0; {
			line++
			var l []byte
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				l, rest = rest[:i], rest[i+1:]
			} else {
				l, rest = rest, nil
			}
			l = bytes.TrimSpace(l)
			if len(l) == 0 {
				continue
			}
			if !json.Valid(l) {
				return nil, &bodyError{fmt.Sprintf("line %d is not a JSON document: %s", line, jsonProblem(l))}
			}
			out = append(out, l)
		}
		if len(out) == 0 {
			return nil, &bodyError{"the body holds no JSON document"}
		}
		return out, nil
	default: // json
		b := bytes.TrimSpace(body)
		if len(b) == 0 {
			return nil, &bodyError{"the body is empty"}
		}
		if !json.Valid(b) {
			return nil, &bodyError{"the body is not one JSON document: " + jsonProblem(b)}
		}
		return [][]byte{b}, nil
	}
}

// jsonProblem says what is wrong with text that is not valid JSON.
func jsonProblem(b []byte) string {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&v); err != nil {
		return err.Error()
	}
	if d.More() {
		return fmt.Sprintf("more than one document (the first ends at byte %d)", d.InputOffset())
	}
	return "invalid JSON"
}
