package cli

import (
	"github.com/pipectl/pipectl/planner"
)

var destroyCommand = &command{
	name:     "destroy",
	synopsis: "Destroy every resource of the fleet",
	usage: `Usage: pipectl destroy [options] [DIR]

  Plans the destruction of every topic and pipeline of the fleet that the
  configuration in DIR (the current directory by default) targets, shows
  it, asks for "yes" on a terminal, and applies it: pipelines stop and
  their offsets go, then the topics are deleted with their records.
  Resources with lifecycle { prevent_destroy = true } make it fail.

Options:

  -auto-approve      Destroy without asking. Required when the input is
                     not a terminal.
  -target=ADDRESS    Destroy only this resource. Repeatable.
  -refresh=false     Do not read live topics and status.
  -timeout D         How long to wait for pipelines to stop (default 5m).
  -brokers LIST      Kafka brokers, comma-separated (or PIPECTL_BROKERS).
  -var 'NAME=VALUE'  Set a variable. Repeatable.
  -var-file=FILE     Read variable values from FILE.
  -no-color          Print without colour.
`,
	run: runDestroy,
}

func runDestroy(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	var pf planFlags
	pf.register(fs, true)
	var o applyOptions
	fs.BoolVar(&o.autoApprove, "auto-approve", false, "")
	fs.DurationVar(&o.timeout, "timeout", planner.DefaultTimeout, "")
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	dir, code, ok := m.dirArg(cmd, positional)
	if !ok {
		return code
	}
	pf.destroy = true
	return m.applyDir(cmd, dir, &pf, o, true)
}
