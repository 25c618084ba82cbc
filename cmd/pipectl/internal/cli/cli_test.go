package cli

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang"
)

// ctyEqual compares the evaluated values of lang.VarArg.
var ctyEqual = cmp.Comparer(func(a, b cty.Value) bool {
	if a == cty.NilVal || b == cty.NilVal {
		return a == b
	}
	return a.RawEquals(b)
})

func noEnv(string) (string, bool) { return "", false }

// runCLI runs pipectl in-process with the given arguments.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb, noEnv)
	return code, out.String(), errb.String()
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		positional []string
		json       bool
		vars       []lang.VarArg
		err        string
	}{
		{name: "none", args: nil, positional: nil},
		{name: "flag before", args: []string{"-json", "dir"}, positional: []string{"dir"}, json: true},
		{name: "flag after", args: []string{"dir", "-json"}, positional: []string{"dir"}, json: true},
		{name: "double dash", args: []string{"dir", "--json"}, positional: []string{"dir"}, json: true},
		{name: "bool with value", args: []string{"-json=false", "dir"}, positional: []string{"dir"}},
		{name: "bool does not eat the next argument", args: []string{"-json", "a", "b"}, positional: []string{"a", "b"}, json: true},
		{
			name:       "vars keep their order across positionals",
			args:       []string{"-var", "a=1", "dir", "-var-file=x.pipevars", "--var=b=2", "-var-file", "y.pipevars"},
			positional: []string{"dir"},
			vars:       []lang.VarArg{{Raw: "a=1"}, {File: "x.pipevars"}, {Raw: "b=2"}, {File: "y.pipevars"}},
		},
		{name: "-- ends flags", args: []string{"-json", "--", "-var", "x"}, positional: []string{"-var", "x"}, json: true},
		{name: "- is positional", args: []string{"-", "-json"}, positional: []string{"-"}, json: true},
		{name: "a var value may start with a dash", args: []string{"-var", "-x=1"}, vars: []lang.VarArg{{Raw: "-x=1"}}},
		{name: "unknown flag", args: []string{"dir", "-nope"}, err: "flag provided but not defined: -nope"},
		{name: "missing value", args: []string{"-var"}, err: "flag needs an argument: -var"},
		{name: "bad var", args: []string{"-var", "x"}, err: `invalid value "x" for flag -var: want NAME=VALUE`},
		{name: "help", args: []string{"dir", "-h"}, err: flag.ErrHelp.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			jsonOut := fs.Bool("json", false, "")
			var vars varFlags
			vars.register(fs)
			positional, err := parseInterspersed(fs, tt.args)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.positional, positional); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if *jsonOut != tt.json {
				t.Errorf("json = %v; want %v", *jsonOut, tt.json)
			}
			if diff := cmp.Diff(tt.vars, vars.args, ctyEqual); diff != "" {
				t.Errorf("vars (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnknownCommandDetail checks that an unknown command gets the nearest
// command name (configschema.Nearest's rule, tested there) and a far one none.
func TestUnknownCommandDetail(t *testing.T) {
	for in, want := range map[string]string{
		"valdate": `Did you mean "validate"? `,
		"shcema":  `Did you mean "schema"? `,
		"x":       "",
		"apply":   "",
	} {
		got := unknownCommandDetail(in)
		if !strings.HasPrefix(got, want+`Run "pipectl help"`) {
			t.Errorf("unknownCommandDetail(%q) = %q; want it to start with %q", in, got, want)
		}
	}
}

// TestPanicIsReported checks that a panicking command gives a short notice
// and a crash report file, never a stack trace on the terminal.
func TestPanicIsReported(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	saved := commands
	t.Cleanup(func() { commands = saved })
	commands = append(commands, &command{
		name: "boom",
		run:  func(*meta, *command, []string) int { panic("kaboom") },
	})

	code, stdout, stderr := runCLI(t, "boom", "-var", "password=hunter2")
	if code != exitError {
		t.Errorf("exit code = %d; want %d", code, exitError)
	}
	if stdout != "" {
		t.Errorf("stdout = %q; want nothing", stdout)
	}
	if !strings.HasPrefix(stderr, "pipectl: internal error: kaboom\n") {
		t.Errorf("stderr does not start with the notice:\n%s", stderr)
	}
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, ".go:") {
		t.Errorf("stderr shows a stack trace:\n%s", stderr)
	}
	reports, _ := filepath.Glob(filepath.Join(tmp, "pipectl-crash-*.log"))
	if len(reports) != 1 {
		t.Fatalf("found %d crash reports in %s; want 1", len(reports), tmp)
	}
	if !strings.Contains(stderr, reports[0]) {
		t.Errorf("stderr does not name the report %s:\n%s", reports[0], stderr)
	}
	report, err := os.ReadFile(reports[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"panic: kaboom", "goroutine", "cli_test.go", Version} {
		if !strings.Contains(string(report), want) {
			t.Errorf("crash report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(string(report), "hunter2") {
		t.Error("crash report contains a -var value")
	}
}

func TestNoColourOffTerminal(t *testing.T) {
	// Buffers are not terminals: no escape codes even without NO_COLOR.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("fleet {\n  name = \"x\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "validate", dir)
	if code != exitError {
		t.Errorf("exit code = %d; want 1", code)
	}
	if strings.Contains(stdout+stderr, "\x1b[") {
		t.Errorf("output contains escape codes:\n%s%s", stdout, stderr)
	}

	f, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file counts as a terminal")
	}
}

func TestUseColor(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	tests := []struct {
		name string
		env  func(string) (string, bool)
		want bool
	}{
		{"plain", env(), true},
		{"NO_COLOR set", env("NO_COLOR", "1"), false},
		{"NO_COLOR empty", env("NO_COLOR", ""), true},
		{"dumb terminal", env("TERM", "dumb"), false},
	}
	for _, tt := range tests {
		if got := useColor(tt.env); got != tt.want {
			t.Errorf("%s: useColor = %v; want %v", tt.name, got, tt.want)
		}
	}
}

// TestEveryCommandHasHelp checks the command table: usage text that names
// the command, a synopsis, and -h that succeeds.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		if c.synopsis == "" || !strings.HasPrefix(c.usage, "Usage: pipectl "+c.name) {
			t.Errorf("command %s: missing synopsis or usage", c.name)
		}
		code, stdout, stderr := runCLI(t, c.name, "-h")
		if code != exitOK || stdout != c.usage || stderr != "" {
			t.Errorf("%s -h: code %d, stdout %q, stderr %q", c.name, code, stdout, stderr)
		}
	}
}
