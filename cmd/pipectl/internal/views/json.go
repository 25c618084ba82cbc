package views

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// jsonFormatVersion is the format_version of every JSON document pipectl
// prints. The minor version grows with additions; the major version changes
// only when a field changes meaning or goes away.
const jsonFormatVersion = "1.0"

// json prints doc as indented JSON to stdout. HTML characters are left as
// they are: CEL expressions are full of < > &.
func (v *View) json(doc any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		// Every document is plain data; failing to encode one is a bug.
		panic(fmt.Sprintf("encode JSON output: %v", err))
	}
	v.streams.Stdout.Write(buf.Bytes())
}
