package lang

import (
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// celSourceMap maps byte offsets of a CEL source (the string an HCL
// expression evaluated to) back to positions in the HCL file, so that CEL
// errors point inside the quoted string. Literal parts of a template map
// byte for byte, escapes included; an interpolated part maps to its
// ${...} range.
type celSourceMap struct {
	file  []byte
	whole hcl.Range
	// spans cover the CEL source in order.
	spans []celSpan
}

type celSpan struct {
	start, end int       // in the CEL source
	rng        hcl.Range // where the span came from
	offsets    []int     // for a literal: file byte offset of each source byte, plus one past the end
}

func newCELSourceMap(file []byte, e hcl.Expression, src string, ctx *hcl.EvalContext) *celSourceMap {
	m := &celSourceMap{file: file, whole: e.Range()}
	tmpl, ok := e.(*hclsyntax.TemplateExpr)
	if !ok || file == nil {
		return m
	}
	quoted := e.Range().Start.Byte < len(file) && file[e.Range().Start.Byte] == '"'
	pos := 0
	for _, part := range tmpl.Parts {
		rng := part.Range()
		if lit, ok := part.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String && lit.Val.IsKnown() && !lit.Val.IsNull() {
			val := lit.Val.AsString()
			if rng.Start.Byte < 0 || rng.End.Byte > len(file) || rng.Start.Byte > rng.End.Byte {
				return &celSourceMap{file: file, whole: e.Range()}
			}
			offs := literalOffsets(file[rng.Start.Byte:rng.End.Byte], val, quoted)
			if offs == nil {
				return &celSourceMap{file: file, whole: e.Range()}
			}
			for i := range offs {
				offs[i] += rng.Start.Byte
			}
			m.spans = append(m.spans, celSpan{start: pos, end: pos + len(val), rng: rng, offsets: offs})
			pos += len(val)
			continue
		}
		v, diags := part.Value(ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return &celSourceMap{file: file, whole: e.Range()}
		}
		v, _ = v.UnmarkDeep()
		sv, err := convert.Convert(v, cty.String)
		if err != nil || sv.IsNull() {
			return &celSourceMap{file: file, whole: e.Range()}
		}
		n := len(sv.AsString())
		m.spans = append(m.spans, celSpan{start: pos, end: pos + n, rng: rng})
		pos += n
	}
	if pos != len(src) {
		return &celSourceMap{file: file, whole: e.Range()}
	}
	return m
}

// literalOffsets returns, for each byte of val, the offset in raw (the
// literal's source text) it came from, plus one entry past the end; nil
// when they do not line up. Quoted strings have backslash escapes;
// heredocs do not. Both have $${ and %%{.
func literalOffsets(raw []byte, val string, quoted bool) []int {
	offs := make([]int, 0, len(val)+1)
	i, j := 0, 0
	for j < len(val) {
		if i >= len(raw) {
			return nil
		}
		switch {
		case (raw[i] == '$' || raw[i] == '%') && i+2 < len(raw) && raw[i+1] == raw[i] && raw[i+2] == '{' &&
			j+1 < len(val) && val[j] == raw[i] && val[j+1] == '{':
			offs = append(offs, i, i+2)
			i, j = i+3, j+2
		case quoted && raw[i] == '\\' && i+1 < len(raw):
			n := 2
			switch raw[i+1] {
			case 'u':
				n = 6
			case 'U':
				n = 10
			}
			if i+n > len(raw) {
				return nil
			}
			var produced int
			switch raw[i+1] {
			case 'u', 'U':
				r, size := utf8.DecodeRuneInString(val[j:])
				if r == utf8.RuneError && size <= 1 {
					size = 1
				}
				produced = size
			default:
				produced = 1
			}
			for k := 0; k < produced; k++ {
				offs = append(offs, i)
			}
			i, j = i+n, j+produced
		case !quoted && raw[i] != val[j] && (raw[i] == ' ' || raw[i] == '\t'):
			// Indentation a flush heredoc (<<-) removed.
			i++
		default:
			if raw[i] != val[j] {
				return nil
			}
			offs = append(offs, i)
			i, j = i+1, j+1
		}
	}
	if j != len(val) {
		return nil
	}
	return append(offs, i)
}

// rangeOf maps a CEL issue's byte span [off, end) to an HCL range.
func (m *celSourceMap) rangeOf(off, end int) hcl.Range {
	if off < 0 || len(m.spans) == 0 {
		return m.whole
	}
	start, ok := m.pos(off)
	if !ok {
		return m.whole
	}
	if end <= off {
		end = off + 1
	}
	stop, ok := m.pos(end)
	if !ok || stop.Byte < start.Byte {
		// The end falls outside the literal: underline one character.
		stop, _ = m.pos(off + 1)
		if stop.Byte <= start.Byte {
			stop = start
		}
	}
	return hcl.Range{Filename: m.whole.Filename, Start: start, End: stop}
}

// pos maps one CEL source offset (which may be one past the last byte of a
// span) to a file position.
func (m *celSourceMap) pos(off int) (hcl.Pos, bool) {
	for _, s := range m.spans {
		if off < s.start || off > s.end || (off == s.end && s.offsets == nil) {
			continue
		}
		if s.offsets == nil {
			return s.rng.Start, true
		}
		return m.posAt(s.rng.Start, s.offsets[off-s.start]), true
	}
	return hcl.Pos{}, false
}

// posAt walks the file from a known position to byte offset b.
func (m *celSourceMap) posAt(from hcl.Pos, b int) hcl.Pos {
	p := from
	for p.Byte < b && p.Byte < len(m.file) {
		r, size := utf8.DecodeRune(m.file[p.Byte:])
		p.Byte += size
		if r == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
	}
	return p
}
