package lang

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// maxFormatPasses bounds how often Format reruns the formatter to reach a
// fixed point. hclwrite.Format settles in one pass on almost every input;
// the loop makes "formatting formatted text changes nothing" hold by
// construction for the rest.
const maxFormatPasses = 4

// Format returns src (a *.hcl configuration file or a *.pipevars variables
// file) in canonical layout: `pipectl fmt`. The source is parsed first, so
// that a syntax error comes back as diagnostics pointing into filename
// instead of being formatted into something worse; the result is then nil.
//
// Format is idempotent: Format(Format(src)) == Format(src). The result ends
// with exactly one line ending (an empty file stays empty).
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	_, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	out := src
	for range maxFormatPasses {
		next := formatOnce(out)
		if bytes.Equal(next, out) {
			break
		}
		out = next
	}
	return out, diags
}

func formatOnce(src []byte) []byte {
	out := hclwrite.Format(src)
	// One line ending at the end of the file, none for an empty one. A file
	// written with CRLF line endings keeps them (hclwrite does too).
	eol := "\n"
	if i := bytes.IndexByte(out, '\n'); i > 0 && out[i-1] == '\r' {
		eol = "\r\n"
	}
	out = bytes.TrimRight(out, "\r\n")
	if len(out) == 0 {
		return []byte{}
	}
	return append(out, eol...)
}
