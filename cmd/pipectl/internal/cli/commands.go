package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pipectl/pipectl/lang"
)

// command is one pipectl subcommand.
type command struct {
	name     string
	synopsis string // one line for `pipectl help`
	usage    string // the full text of `pipectl NAME -h`
	run      func(m *meta, cmd *command, args []string) int
}

// commands lists every subcommand in the order `pipectl help` shows them.
// A new command (plan, apply, worker, broker, dev, ...) is one more entry.
var commands = []*command{
	validateCommand,
	testCommand,
	fmtCommand,
	planCommand,
	applyCommand,
	destroyCommand,
	showCommand,
	graphCommand,
	schemaCommand,
	devCommand,
	workerCommand,
	statusCommand,
	workersCommand,
	pauseCommand,
	stopCommand,
	resumeCommand,
	restartCommand,
	offsetsCommand,
	mirrorCommand,
	importCommand,
	brokerCommand,
	versionCommand,
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

// mainUsage is the text of `pipectl help`.
func mainUsage() string {
	var sb strings.Builder
	sb.WriteString("Usage: pipectl <command> [options] [args]\n\n")
	sb.WriteString("  pipectl manages Kafka pipelines written as HCL files: it validates them,\n")
	sb.WriteString("  plans the changes and applies them to a fleet of workers.\n\n")
	sb.WriteString("Commands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&sb, "  %-*s  %s\n", width, c.name, c.synopsis)
	}
	sb.WriteString("\nRun \"pipectl <command> -h\" for the options of a command.\n")
	return sb.String()
}

// newFlagSet returns a flag set for cmd with the flags every command takes
// (-no-color). Errors and usage are printed by parse, not by the flag
// package.
func (m *meta) newFlagSet(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&m.noColor, "no-color", false, "")
	return fs
}

// parse parses args with fs the way Terraform does: single-dash long flags
// (-json), --json accepted too, -name=value or -name value, and flags
// before, between and after positional arguments; "--" ends the flags. It
// returns the positional arguments. When ok is false the command must
// return code: usage was printed (-h, exit 0) or an error was (exit 1).
func (m *meta) parse(cmd *command, fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	positional, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		m.view().Help(cmd.usage)
		return nil, exitOK, false
	case err != nil:
		m.view().UsageError("Invalid command-line arguments", err.Error()+".", cmd.usage)
		return nil, exitError, false
	}
	return positional, exitOK, true
}

func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(positional, args[i+1:]...), nil
		}
		if len(arg) < 2 || arg[0] != '-' {
			positional = append(positional, arg) // "-" too: stdin
			continue
		}
		// One flag at a time, with its value when it takes one and it
		// was not written as -name=value.
		chunk := []string{arg}
		name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
		if name, _, hasValue := strings.Cut(name, "="); !hasValue {
			if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
				chunk = append(chunk, args[i+1])
				i++
			}
		}
		if err := fs.Parse(chunk); err != nil {
			return nil, err
		}
	}
	return positional, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// varFlags collects -var and -var-file in command-line order.
type varFlags struct {
	args []lang.VarArg
}

func (v *varFlags) register(fs *flag.FlagSet) {
	fs.Var(varValue{v, false}, "var", "")
	fs.Var(varValue{v, true}, "var-file", "")
}

type varValue struct {
	to   *varFlags
	file bool
}

func (v varValue) String() string { return "" }

func (v varValue) Set(s string) error {
	if v.file {
		if s == "" {
			return errors.New("the file name is empty")
		}
		v.to.args = append(v.to.args, lang.VarArg{File: s})
		return nil
	}
	if name, _, ok := strings.Cut(s, "="); !ok || strings.TrimSpace(name) == "" {
		return errors.New("want NAME=VALUE")
	}
	v.to.args = append(v.to.args, lang.VarArg{Raw: s})
	return nil
}

// dirArg returns the configuration directory from the positional arguments:
// "." without one, an error with more than one.
func (m *meta) dirArg(cmd *command, positional []string) (dir string, code int, ok bool) {
	switch len(positional) {
	case 0:
		return ".", exitOK, true
	case 1:
		return positional[0], exitOK, true
	}
	m.view().UsageError("Too many command-line arguments",
		fmt.Sprintf("%s takes one configuration directory; got %s.", cmd.name, strings.Join(quoteAll(positional), ", ")), cmd.usage)
	return "", exitError, false
}

func quoteAll(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return q
}
