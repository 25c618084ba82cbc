package cli

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/linediff"
	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/lang"
)

var fmtCommand = &command{
	name:     "fmt",
	synopsis: "Rewrite configuration files in the canonical format",
	usage: `Usage: pipectl fmt [options] [DIR|FILE|-]...

  Rewrites the *.hcl and *.pipevars files of each DIR (the current
  directory by default), or each FILE, in the canonical format, and lists
  the files it changed. "-" formats standard input to standard output.

  Exit status: 0 on success; 1 when a file cannot be read or parsed; with
  -check, 3 when a file is not formatted.

Options:

  -check       Change no file; list the files that are not formatted and
               exit with status 3 if there is one.
  -diff        Show the changes as a unified diff.
  -list=false  Do not list the changed files.
  -recursive   Also format the files in subdirectories (hidden ones, whose
               names start with ".", are skipped).
  -no-color    Print diagnostics without colour.
`,
	run: runFmt,
}

// fmtExtensions are the files `pipectl fmt` formats.
var fmtExtensions = []string{".hcl", ".pipevars"}

type fmtRun struct {
	m         *meta
	view      *views.Fmt
	check     bool
	diff      bool
	recursive bool

	changed bool // a file was (or would be) reformatted
	failed  bool // a file could not be read, parsed or written
}

func runFmt(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	r := &fmtRun{m: m}
	fs.BoolVar(&r.check, "check", false, "")
	fs.BoolVar(&r.diff, "diff", false, "")
	fs.BoolVar(&r.recursive, "recursive", false, "")
	list := fs.Bool("list", true, "")
	targets, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	r.view = views.NewFmt(m.view(), *list)
	if len(targets) == 0 {
		targets = []string{"."}
	}
	for _, t := range targets {
		r.target(t)
	}
	switch {
	case r.failed:
		return exitError
	case r.check && r.changed:
		return exitFmt
	}
	return exitOK
}

func (r *fmtRun) target(path string) {
	if path == "-" {
		r.stdin()
		return
	}
	info, err := os.Stat(path)
	if err != nil {
		r.fail("Cannot read file", err.Error())
		return
	}
	if !info.IsDir() {
		if !formattable(path) {
			r.fail("Cannot format file", fmt.Sprintf("%s is not a configuration file: only %s files are formatted.", path, strings.Join(fmtExtensions, " and ")))
			return
		}
		r.file(path)
		return
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			r.fail("Cannot read directory", err.Error())
			return nil
		}
		if d.IsDir() {
			if p != path && (hidden(d.Name()) || !r.recursive) {
				return filepath.SkipDir
			}
			return nil
		}
		if !hidden(d.Name()) && formattable(p) {
			r.file(p)
		}
		return nil
	})
	if err != nil {
		r.fail("Cannot read directory", err.Error())
	}
}

func (r *fmtRun) file(path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		r.fail("Cannot read file", err.Error())
		return
	}
	out, ok := r.format(src, path)
	if !ok || bytes.Equal(src, out) {
		return
	}
	r.changed = true
	r.view.Changed(path)
	if !r.check {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			r.fail("Cannot write file", err.Error())
			return
		}
	}
	if r.diff {
		slash := filepath.ToSlash(path)
		r.view.Diff(linediff.Unified("old/"+slash, "new/"+slash, string(src), string(out)))
	}
}

// stdin formats standard input to standard output; with -check it only
// reports, with -diff it shows the diff instead.
func (r *fmtRun) stdin() {
	src, err := io.ReadAll(r.m.stdin)
	if err != nil {
		r.fail("Cannot read standard input", err.Error())
		return
	}
	out, ok := r.format(src, "<stdin>")
	if !ok {
		return
	}
	if !bytes.Equal(src, out) {
		r.changed = true
	}
	switch {
	case r.diff:
		r.view.Diff(linediff.Unified("old/<stdin>", "new/<stdin>", string(src), string(out)))
	case !r.check:
		r.view.Formatted(out)
	}
}

// format runs lang.Format and shows its diagnostics; ok is false on a
// syntax error.
func (r *fmtRun) format(src []byte, name string) ([]byte, bool) {
	out, diags := lang.Format(src, name)
	if len(diags) > 0 {
		r.view.Diagnostics(diags, map[string]*hcl.File{name: {Bytes: src}})
	}
	if diags.HasErrors() {
		r.failed = true
		return nil, false
	}
	return out, true
}

func (r *fmtRun) fail(summary, detail string) {
	r.failed = true
	r.view.Error(summary, detail)
}

func formattable(path string) bool {
	for _, ext := range fmtExtensions {
		if strings.HasSuffix(path, ext) {
			return true
		}
	}
	return false
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") && name != "." && name != ".." }
