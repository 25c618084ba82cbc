package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib"
)

// Version is pipectl's version, overridden at build time with -ldflags "-X".
var Version = "v0.1.0-dev"

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan -detailed-exitcode: changes present
	exitFmt     = 3 // fmt -check: files need formatting
)

// Main runs pipectl with the process's arguments (without the program name)
// and standard streams, and returns the exit code. Every command sees the
// built-in plugins and those that register adds (a custom build's plugins:
// see package cmd/pipectl/custom).
func Main(args []string, register ...func(*connector.Registry) error) int {
	return runWith(args, os.Stdin, os.Stdout, os.Stderr, os.LookupEnv, register)
}

// meta is what every command gets: the streams, the environment and the
// plugin registry.
type meta struct {
	stdin     io.Reader
	streams   views.Streams
	lookupEnv func(string) (string, bool)
	// noColor is set by the -no-color flag every command takes.
	noColor bool
	// newRegistry builds the plugin registry; tests and custom builds may
	// replace it.
	newRegistry func() (*connector.Registry, error)
	// brokers are the seed brokers of the cluster the command talks to,
	// once known, for the errors that say it cannot be reached.
	brokers []string
}

// view returns the base view, honouring -no-color.
func (m *meta) view() *views.View {
	v := views.NewView(m.streams)
	if m.noColor {
		v.NoColor()
	}
	return v
}

// registry returns the plugin registry with every built-in plugin.
func (m *meta) registry() (*connector.Registry, error) {
	return m.newRegistry()
}

func builtinRegistry() (*connector.Registry, error) {
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		return nil, err
	}
	return reg, nil
}

// run is Main with everything it touches passed in, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) (code int) {
	return runWith(args, stdin, stdout, stderr, lookupEnv, nil)
}

func runWith(args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), register []func(*connector.Registry) error) (code int) {
	m := &meta{
		stdin:     stdin,
		lookupEnv: lookupEnv,
		newRegistry: func() (*connector.Registry, error) {
			reg, err := builtinRegistry()
			for _, r := range register {
				if err != nil {
					break
				}
				err = r(reg)
			}
			return reg, err
		},
	}
	color := useColor(lookupEnv)
	m.streams = views.Streams{
		Stdout:      stdout,
		Stderr:      stderr,
		StdoutColor: color && isTerminal(stdout),
		StderrColor: color && isTerminal(stderr),
	}
	defer func() {
		if r := recover(); r != nil {
			path, err := writeCrashReport(r, debug.Stack())
			views.NewView(m.streams).Crash(r, path, err)
			code = exitError
		}
	}()
	return dispatch(m, args)
}

// dispatch picks the command named by args[0].
func dispatch(m *meta, args []string) int {
	if len(args) == 0 {
		m.view().UsageError("No command given", "", mainUsage())
		return exitError
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return runHelp(m, rest)
	case "-v", "-version", "--version":
		name = "version"
	}
	cmd := lookupCommand(name)
	if cmd == nil {
		v := m.view()
		if strings.HasPrefix(name, "-") {
			v.UsageError("Unknown global flag", fmt.Sprintf("pipectl takes no flag %s before the command name; flags go after it.", name), mainUsage())
			return exitError
		}
		v.Error(fmt.Sprintf("Unknown command %q", name), unknownCommandDetail(name))
		return exitError
	}
	return cmd.run(m, cmd, rest)
}

// runHelp is `pipectl help [COMMAND]`.
func runHelp(m *meta, args []string) int {
	v := m.view()
	switch len(args) {
	case 0:
		v.Help(mainUsage())
		return exitOK
	case 1:
		if cmd := lookupCommand(args[0]); cmd != nil {
			v.Help(cmd.usage)
			return exitOK
		}
		v.Error(fmt.Sprintf("Unknown command %q", args[0]), unknownCommandDetail(args[0]))
		return exitError
	}
	v.UsageError("Too many arguments", "help takes at most one command name.", mainUsage())
	return exitError
}

func unknownCommandDetail(name string) string {
	detail := `Run "pipectl help" for the list of commands.`
	if s := configschema.Nearest(name, commandNames()); s != "" {
		detail = fmt.Sprintf("Did you mean %q? ", s) + detail
	}
	return detail
}

// useColor says whether the environment allows colour at all: not with
// NO_COLOR set to anything but "" (https://no-color.org), not on a dumb
// terminal.
func useColor(lookupEnv func(string) (string, bool)) bool {
	if v, _ := lookupEnv("NO_COLOR"); v != "" {
		return false
	}
	if term, _ := lookupEnv("TERM"); term == "dumb" {
		return false
	}
	return true
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// writeCrashReport saves a panic's value and stack to a new temporary file
// and returns its path. The command line is left out: -var values may be
// secrets.
func writeCrashReport(value any, stack []byte) (string, error) {
	f, err := os.CreateTemp("", "pipectl-crash-*.log")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(f, "pipectl %s crash report\n%s %s/%s\n\npanic: %v\n\n%s", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, value, stack)
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}
