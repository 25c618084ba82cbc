package cli

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/lang"
)

var validateCommand = &command{
	name:     "validate",
	synopsis: "Check that a configuration is valid",
	usage: `Usage: pipectl validate [options] [DIR]

  Checks the configuration in DIR (the current directory by default):
  syntax, references, types, plugin settings and every CEL expression.
  It does not contact Kafka.

  Exit status: 0 when the configuration is valid (warnings allowed),
  1 when it has errors.

Options:

  -json              Print the result as JSON (format_version 1.0).
  -var 'NAME=VALUE'  Set a variable. Repeatable; later values win.
  -var-file=FILE     Read variable values from FILE (*.pipevars).
                     Repeatable, in order with -var.
  -no-color          Print without colour.
`,
	run: runValidate,
}

func runValidate(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	jsonOut := fs.Bool("json", false, "")
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
	cfg, diags, ok := m.loadConfig(dir, vars.args)
	if !ok {
		return exitError
	}
	views.NewValidate(*jsonOut, m.view()).Results(diags, cfg.Files)
	if diags.HasErrors() {
		return exitError
	}
	return exitOK
}

// loadConfig loads the configuration in dir with the built-in plugins.
// ok is false (and the error printed) only when the plugins cannot be set
// up; configuration errors come back in diags.
func (m *meta) loadConfig(dir string, vars []lang.VarArg) (cfg *lang.Config, diags hcl.Diagnostics, ok bool) {
	reg, err := m.registry()
	if err != nil {
		m.view().Error("Cannot register the plugins", err.Error())
		return nil, nil, false
	}
	cfg, diags = lang.Load(dir, lang.Options{Plugins: reg, Vars: vars, LookupEnv: m.lookupEnv})
	if cfg == nil {
		cfg = &lang.Config{Dir: dir}
	}
	return cfg, diags, true
}
