package cli

import (
	"errors"
	"os"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/lang/testfile"
	"github.com/pipectl/pipectl/runtime/pipetest"
)

var testCommand = &command{
	name:     "test",
	synopsis: "Run the pipeline tests of a configuration",
	usage: `Usage: pipectl test [options] [DIR]

  Runs the tests of the configuration in DIR (the current directory by
  default): the run blocks of every *.pipetest.hcl file beside the
  configuration and in DIR/tests. Each run feeds records through a
  pipeline's converters and transforms, or a chain of transforms, and
  checks what comes out: the output records, the records filtered and
  dead-lettered, and assertions. Tests run offline: no broker, and no
  connector runs.

  Exit status: 0 when every run passes, 1 when one fails or a test file
  or the configuration has errors.

Options:

  -filter=NAME       Run only the test file NAME (its path, its path
                     relative to DIR, or its file name) or the runs named
                     NAME. Repeatable; a NAME that matches no test file
                     and no run is an error.
  -json              Print the result as one JSON document (format_version
                     1.0).
  -junit-xml=FILE    Also write the result as a JUnit XML report to FILE.
  -var 'NAME=VALUE'  Set a variable for every run. Repeatable; a test
                     file's variables blocks override it.
  -var-file=FILE     Read variable values from FILE (*.pipevars).
  -no-color          Print without colour.
`,
	run: runTest,
}

// names is a repeatable string flag.
type names []string

func (n *names) String() string { return "" }

func (n *names) Set(s string) error {
	if s == "" {
		return errors.New("the name is empty")
	}
	*n = append(*n, s)
	return nil
}

func runTest(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	jsonOut := fs.Bool("json", false, "")
	junit := fs.String("junit-xml", "", "")
	var filter names
	fs.Var(&filter, "filter", "")
	var vars varFlags
	vars.register(fs)
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	dir, code, ok := m.dirArg(cmd, positional)
	if !ok {
		return code
	}
	reg, err := m.registry()
	if err != nil {
		m.view().Error("Cannot register the plugins", err.Error())
		return exitError
	}
	suite, diags := testfile.Load(dir)
	res := pipetest.Run(pipetest.Args{Dir: dir, Suite: suite, Plugins: reg, Vars: vars.args, Filter: filter, LookupEnv: m.lookupEnv})
	diags = append(diags, res.Diags...)
	views.NewTest(*jsonOut, m.view()).Results(dir, res, diags)
	if *junit != "" {
		if err := os.WriteFile(*junit, views.JUnitXML(dir, res, diags), 0o644); err != nil {
			m.view().Error("Cannot write the JUnit XML report", err.Error())
			return exitError
		}
	}
	if res.Failed > 0 || diags.HasErrors() {
		return exitError
	}
	return exitOK
}
