package views

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/mitchellh/go-wordwrap"
)

const (
	// detailWidth is the column at which a diagnostic's detail is wrapped.
	detailWidth = 78
	// maxSnippetLines is how many source lines of a subject are shown.
	maxSnippetLines = 3
)

// formatDiagnostics renders diags in the human form:
//
//	Error: Unknown transform
//
//	  on main.hcl:12:17, in source "generator" "orders":
//	  12:   transforms = [transform.drop_smal]
//	                      ^^^^^^^^^^^^^^^^^^^
//
//	There is no transform named "drop_smal". Did you mean "drop_small"?
//
// with a blank line between two diagnostics.
func formatDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File, color bool) string {
	var sb strings.Builder
	for i, d := range diags {
		if i > 0 {
			sb.WriteByte('\n')
		}
		writeDiagnostic(&sb, d, files, color)
	}
	return sb.String()
}

func writeDiagnostic(sb *strings.Builder, d *hcl.Diagnostic, files map[string]*hcl.File, color bool) {
	label, tone := "Error:", ansiRed
	if d.Severity == hcl.DiagWarning {
		label, tone = "Warning:", ansiYellow
	}
	sb.WriteString(paint(color, label, ansiBold, tone))
	sb.WriteByte(' ')
	sb.WriteString(paint(color, d.Summary, ansiBold))
	sb.WriteByte('\n')
	if d.Subject != nil {
		sb.WriteByte('\n')
		writeLocation(sb, *d.Subject, files, color, tone)
	}
	if d.Detail != "" {
		sb.WriteByte('\n')
		sb.WriteString(wrapDetail(d.Detail, detailWidth))
		sb.WriteByte('\n')
	}
}

// writeLocation writes "  on FILE:LINE:COL, in CONTEXT:" and the subject's
// source lines, each underlined with ^ where the subject covers it.
func writeLocation(sb *strings.Builder, r hcl.Range, files map[string]*hcl.File, color bool, tone string) {
	fmt.Fprintf(sb, "  on %s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
	sn := newSnippet(r, files[r.Filename])
	if sn == nil {
		sb.WriteByte('\n')
		return
	}
	if sn.context != "" {
		fmt.Fprintf(sb, ", in %s", sn.context)
	}
	sb.WriteString(":\n")

	lines := sn.lines
	more := 0
	if len(lines) > maxSnippetLines {
		more = len(lines) - maxSnippetLines
		lines = lines[:maxSnippetLines]
	}
	width := len(strconv.Itoa(sn.startLine + len(lines) - 1))
	gutter := strings.Repeat(" ", 2+width+2) // "  12: "
	for i, l := range lines {
		line := fmt.Sprintf("  %*d: %s", width, sn.startLine+i, l.text)
		sb.WriteString(strings.TrimRight(line, " \t"))
		sb.WriteByte('\n')
		if !l.highlight {
			continue
		}
		carets := max(utf8.RuneCountInString(l.text[l.from:l.to]), 1)
		sb.WriteString(gutter)
		sb.WriteString(blankLike(l.text[:l.from]))
		sb.WriteString(paint(color, strings.Repeat("^", carets), ansiBold, tone))
		sb.WriteByte('\n')
	}
	if more > 0 {
		fmt.Fprintf(sb, "  %*s  (and %d more %s)\n", width, "", more, plural(more, "line", "lines"))
	}
}

// blankLike returns s with every character but tabs turned into a space, so
// that an underline lines up under s whatever the tab width.
func blankLike(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r == '\t' {
			sb.WriteRune('\t')
		} else {
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// wrapDetail wraps each line of detail at width columns. Lines that start
// with a space or a tab are preformatted and kept as they are.
func wrapDetail(detail string, width uint) string {
	lines := strings.Split(strings.TrimRight(detail, "\n"), "\n")
	for i, l := range lines {
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		lines[i] = wordwrap.WrapString(l, width)
	}
	return strings.Join(lines, "\n")
}

// snippet is the part of a source file a diagnostic's subject covers.
type snippet struct {
	context   string // the enclosing block, `source "generator" "orders"`; "" when unknown
	startLine int    // 1-based number of lines[0]
	lines     []snippetLine

	// code is the covered lines joined with "\n"; hlStart and hlEnd are
	// the subject's byte offsets within code.
	code           string
	hlStart, hlEnd int
}

type snippetLine struct {
	text      string // without its line ending
	highlight bool
	from, to  int // byte offsets in text of the highlighted part
}

// newSnippet extracts the lines of r from f; nil when f or its source is
// unknown or r lies outside it.
func newSnippet(r hcl.Range, f *hcl.File) *snippet {
	if f == nil || f.Bytes == nil {
		return nil
	}
	src := f.Bytes
	starts := lineStarts(src)
	if r.Start.Line < 1 || r.Start.Line > len(starts) {
		return nil
	}
	start := offsetOf(src, starts, r.Start)
	end := offsetOf(src, starts, r.End)
	endLine := min(max(r.End.Line, r.Start.Line), len(starts))
	if end < start {
		end, endLine = start, r.Start.Line
	}
	// A range that ends at the very start of a line does not cover it.
	if endLine > r.Start.Line && end <= starts[endLine-1] {
		endLine--
	}

	sn := &snippet{startLine: r.Start.Line}
	if cs, ok := f.Nav.(interface{ ContextString(int) string }); ok {
		sn.context = cs.ContextString(start)
	}
	var code []string
	for ln := r.Start.Line; ln <= endLine; ln++ {
		ls := starts[ln-1]
		text := lineText(src, starts, ln)
		from := max(start-ls, 0)
		if ln > r.Start.Line {
			from = len(text) - len(strings.TrimLeft(text, " \t"))
		}
		from = min(from, len(text))
		to := min(max(end-ls, 0), len(text))
		l := snippetLine{text: text, from: from, to: max(from, to)}
		// Highlight what the subject covers on the line. The first line
		// always gets at least one caret where the subject starts, even
		// when it has no width or covers only the line ending.
		l.highlight = to > from || ln == r.Start.Line
		sn.lines = append(sn.lines, l)
		code = append(code, text)
	}
	sn.code = strings.Join(code, "\n")
	codeStart := starts[r.Start.Line-1]
	sn.hlStart = min(start-codeStart, len(sn.code))
	sn.hlEnd = min(max(end-codeStart, sn.hlStart), len(sn.code))
	return sn
}

// lineStarts returns the byte offset at which each line of src starts. The
// empty line after a final newline counts, so that an error at the end of
// the file can be shown.
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, b := range src {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineText is line ln (1-based) of src without its line ending.
func lineText(src []byte, starts []int, ln int) string {
	end := len(src)
	if ln < len(starts) {
		end = starts[ln] - 1
	}
	text := string(src[starts[ln-1]:end])
	text = strings.TrimSuffix(text, "\n")
	return strings.TrimSuffix(text, "\r")
}

// offsetOf turns pos into a byte offset of src. pos.Byte is trusted when it
// lies on pos.Line; otherwise (a hand-made range) the column is counted in
// characters from the start of the line.
func offsetOf(src []byte, starts []int, pos hcl.Pos) int {
	if pos.Line < 1 {
		return 0
	}
	if pos.Line > len(starts) {
		return len(src)
	}
	ls := starts[pos.Line-1]
	le := len(src)
	if pos.Line < len(starts) {
		le = starts[pos.Line] - 1 // the '\n'
	}
	if pos.Byte >= ls && pos.Byte <= le {
		return pos.Byte
	}
	off := ls
	for col := 1; col < pos.Column && off < le; col++ {
		_, size := utf8.DecodeRune(src[off:le])
		off += size
	}
	return off
}

// JSON form, the shape of `terraform validate -json`.

type jsonDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *jsonRange   `json:"range,omitempty"`
	Snippet  *jsonSnippet `json:"snippet,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonSnippet struct {
	Context              *string `json:"context"`
	Code                 string  `json:"code"`
	StartLine            int     `json:"start_line"`
	HighlightStartOffset int     `json:"highlight_start_offset"`
	HighlightEndOffset   int     `json:"highlight_end_offset"`
}

func newJSONDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) []jsonDiagnostic {
	out := make([]jsonDiagnostic, 0, len(diags))
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if r := d.Subject; r != nil {
			jd.Range = &jsonRange{
				Filename: r.Filename,
				Start:    jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:      jsonPos{r.End.Line, r.End.Column, r.End.Byte},
			}
			if sn := newSnippet(*r, files[r.Filename]); sn != nil {
				js := &jsonSnippet{
					Code:                 sn.code,
					StartLine:            sn.startLine,
					HighlightStartOffset: sn.hlStart,
					HighlightEndOffset:   sn.hlEnd,
				}
				if sn.context != "" {
					js.Context = &sn.context
				}
				jd.Snippet = js
			}
		}
		out = append(out, jd)
	}
	return out
}

func countDiagnostics(diags hcl.Diagnostics) (errors, warnings int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			warnings++
		} else {
			errors++
		}
	}
	return errors, warnings
}
