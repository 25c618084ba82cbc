package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Streams are where a View writes, and whether each stream may carry ANSI
// colour (the caller decides: a terminal and NO_COLOR unset).
type Streams struct {
	Stdout, Stderr           io.Writer
	StdoutColor, StderrColor bool
}

// View is the base every command's view builds on: the streams, colour, and
// the printing of diagnostics, usage and crash notices.
type View struct {
	streams Streams
}

// NewView returns a View writing to s.
func NewView(s Streams) *View { return &View{streams: s} }

// NoColor turns colour off on both streams (the -no-color flag).
func (v *View) NoColor() {
	v.streams.StdoutColor = false
	v.streams.StderrColor = false
}

func (v *View) out(s string) { io.WriteString(v.streams.Stdout, s) }
func (v *View) err(s string) { io.WriteString(v.streams.Stderr, s) }

// Diagnostics prints diags in the human form to stderr, a blank line
// between two diagnostics. files gives the source for snippets; it may be
// nil or lack a file, and the diagnostic is then shown without a snippet.
func (v *View) Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) {
	v.err(formatDiagnostics(diags, files, v.streams.StderrColor))
}

// Error prints a command-line error that has no source location.
func (v *View) Error(summary, detail string) {
	v.Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail}}, nil)
}

// Help prints usage text that was asked for (-h, help) to stdout.
func (v *View) Help(text string) { v.out(ensureNewline(text)) }

// UsageError prints an error about the command line followed by the
// command's usage, to stderr.
func (v *View) UsageError(summary, detail, usage string) {
	v.Error(summary, detail)
	v.err("\n" + ensureNewline(usage))
}

// Crash tells the user that pipectl failed with an internal error and where
// the crash report with the stack trace went. It never prints the stack.
func (v *View) Crash(value any, reportPath string, writeErr error) {
	v.err(fmt.Sprintf("pipectl: internal error: %v\n", value))
	if writeErr != nil {
		v.err(fmt.Sprintf("pipectl: the crash report could not be written: %v\n", writeErr))
		return
	}
	v.err(fmt.Sprintf("pipectl: a crash report with the stack trace was written to %s; please attach it to a bug report.\n", reportPath))
}

func ensureNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// ANSI colour, used only when a stream allows it.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// paint wraps s in the given codes when color is on.
func paint(color bool, s string, codes ...string) string {
	if !color || s == "" {
		return s
	}
	return strings.Join(codes, "") + s + ansiReset
}
