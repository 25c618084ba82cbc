package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"time"

	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/worker"
)

const fleetOptions = `  -brokers LIST      Bootstrap brokers, comma-separated (or PIPECTL_BROKERS).
  -fleet NAME        The fleet (required without DIR).
  -var 'NAME=VALUE'  Set a variable of DIR's configuration. Repeatable.
  -var-file=FILE     Read variable values of DIR's configuration.
  -no-color          Print without colour.
`

var statusCommand = &command{
	name:     "status",
	synopsis: "Show the fleet's pipelines and tasks",
	usage: `Usage: pipectl status [options] [DIR]

  Shows every pipeline of the fleet and its tasks: state, worker, records
  per second, records out, failures, consumer lag (sinks) and the last
  error. It reads the fleet's control topics; no worker needs to run.

Options:

  -json              Print as JSON.
` + fleetOptions,
	run: runStatus,
}

var workersCommand = &command{
	name:     "workers",
	synopsis: "Show the fleet's workers and their tasks",
	usage: `Usage: pipectl workers [options] [DIR]

  Shows the members of the fleet's worker group, their REST URLs and the
  tasks assigned to each.

Options:

  -json              Print as JSON.
` + fleetOptions,
	run: runWorkers,
}

var pauseCommand = &command{
	name:     "pause",
	synopsis: "Pause a pipeline wherever its tasks run",
	usage: `Usage: pipectl pause [options] ADDRESS [DIR]

  Pauses a pipeline: its tasks stop and report PAUSED. The pause is
  operational, as in Kafka Connect: it survives worker restarts and applies,
  plan shows it as a note, and pipectl resume clears it.

Options:

` + fleetOptions,
	run: func(m *meta, cmd *command, args []string) int { return runTarget(m, cmd, args, control.Paused) },
}

var stopCommand = &command{
	name:     "stop",
	synopsis: "Stop a pipeline wherever its tasks run",
	usage: `Usage: pipectl stop [options] ADDRESS [DIR]

  Stops a pipeline, as Kafka Connect's STOPPED state (KIP-875): its tasks
  stop and it shows as STOPPED with no tasks; its offsets can then be
  changed (pipectl offsets -reset, the REST API). The stop is operational:
  it survives worker restarts and applies, plan shows it as a note, and
  pipectl resume clears it.

Options:

` + fleetOptions,
	run: func(m *meta, cmd *command, args []string) int { return runTarget(m, cmd, args, control.Stopped) },
}

var resumeCommand = &command{
	name:     "resume",
	synopsis: "Resume a paused or stopped pipeline",
	usage: `Usage: pipectl resume [options] ADDRESS [DIR]

  Resumes a pipeline paused or stopped with pipectl pause or stop, the REST
  API, or the HCL attribute state = "paused" or "stopped".

Options:

` + fleetOptions,
	run: func(m *meta, cmd *command, args []string) int { return runTarget(m, cmd, args, control.Running) },
}

var restartCommand = &command{
	name:     "restart",
	synopsis: "Restart a pipeline's tasks wherever they run",
	usage: `Usage: pipectl restart [options] ADDRESS [DIR]

  Restarts a pipeline's tasks (all, one with -task, or the failed ones with
  -failed-only). The worker that runs each task restarts it.

Options:

  -task N            Restart only task N.
  -failed-only       Restart only the failed tasks.
` + fleetOptions,
	run: runRestart,
}

var offsetsCommand = &command{
	name:     "offsets",
	synopsis: "Show or reset a pipeline's offsets",
	usage: `Usage: pipectl offsets [options] ADDRESS [DIR]

  Shows a pipeline's offsets: a source's saved source offsets, or a sink's
  committed consumer group offsets, in KIP-875's shapes. With -reset the
  offsets are reset; the pipeline must be stopped or paused first
  (pipectl stop, pipectl pause).

Options:

  -reset earliest    Forget the offsets: a source starts over, a sink starts
                     from the start of its topics (or start_from).
  -reset latest      A sink's group moves to the end of its topics.
  -json              Print as JSON.
` + fleetOptions,
	run: runOffsets,
}

// controlPlane connects to the fleet named by the flags or DIR.
func (m *meta) controlPlane(ff fleetFlags, dir string, vars varFlags) (*control.Control, string, bool) {
	name, kcfg, ok := m.kafkaConfig(ff, dir, vars)
	if !ok {
		return nil, "", false
	}
	opts, err := kcfg.Opts()
	if err == nil {
		var ctl *control.Control
		if ctl, err = control.New(name, opts...); err == nil {
			return ctl, name, true
		}
	}
	m.view().Error("Cannot reach the fleet's Kafka cluster", err.Error())
	return nil, "", false
}

// opsFlags registers the flags every operational command takes.
func opsFlags(fs *flag.FlagSet) (*fleetFlags, *varFlags) {
	ff := &fleetFlags{}
	fs.StringVar(&ff.brokers, "brokers", "", "")
	fs.StringVar(&ff.fleet, "fleet", "", "")
	vars := &varFlags{}
	vars.register(fs)
	return ff, vars
}

// splitArgs takes ADDRESS [DIR] (or just DIR for status and workers):
// every command that takes a pipeline address and a directory takes the
// address first, as pause, resume, restart and offsets all do. An address
// where the directory goes, or a directory where the address goes, is
// recognised and said so with the command line to use instead.
func splitArgs(v interface {
	UsageError(string, string, string)
}, cmd *command, positional []string, wantAddress bool) (address, dir string, ok bool) {
	n := 0
	if wantAddress {
		n = 1
	}
	if len(positional) < n || len(positional) > n+1 {
		if wantAddress && len(positional) == 0 {
			v.UsageError("Missing pipeline address", fmt.Sprintf("%s takes a pipeline address, e.g. pipectl %s source.generator.orders, and optionally the configuration directory after it.", cmd.name, cmd.name), cmd.usage)
			return "", "", false
		}
		v.UsageError("Wrong number of arguments", fmt.Sprintf("%s takes %s.", cmd.name, map[bool]string{true: "a pipeline address and, optionally, the configuration directory", false: "at most one configuration directory"}[wantAddress]), cmd.usage)
		return "", "", false
	}
	if msg := misplaced(cmd, positional, wantAddress); msg != "" {
		v.UsageError("Arguments in the wrong place", msg, cmd.usage)
		return "", "", false
	}
	if wantAddress {
		address = positional[0]
		positional = positional[1:]
	}
	if len(positional) == 1 {
		dir = positional[0]
	}
	return address, dir, true
}

// pipelineAddressRE matches what a pipeline address looks like:
// source.TYPE.NAME or sink.TYPE.NAME, with ["KEY"] for a for_each instance.
var pipelineAddressRE = regexp.MustCompile(`^(source|sink)\.[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*(\[.+\])?$`)

// isAddress says whether s is a pipeline address and not an existing
// directory (a directory may be named like anything).
func isAddress(s string) bool {
	if fi, err := os.Stat(s); err == nil && fi.IsDir() {
		return false
	}
	return pipelineAddressRE.MatchString(s)
}

func isDir(s string) bool {
	fi, err := os.Stat(s)
	return err == nil && fi.IsDir()
}

// misplaced explains positional arguments in the wrong place: the
// directory before the address, a directory alone where the address goes,
// or an address given to a command that takes none; "" when they are
// where they belong.
func misplaced(cmd *command, positional []string, wantAddress bool) string {
	switch {
	case wantAddress && len(positional) == 2 && !isAddress(positional[0]) && isAddress(positional[1]):
		return fmt.Sprintf("%s takes the pipeline address first and then the configuration directory: pipectl %s %s %s", cmd.name, cmd.name, positional[1], positional[0])
	case wantAddress && len(positional) == 1 && isDir(positional[0]):
		return fmt.Sprintf("%q is a directory, and %s takes a pipeline address first: pipectl %s ADDRESS %s (pipectl status %s lists the addresses).", positional[0], cmd.name, cmd.name, positional[0], positional[0])
	case !wantAddress && len(positional) == 1 && isAddress(positional[0]):
		return fmt.Sprintf("%s takes the configuration directory, not a pipeline address: it shows every pipeline of the fleet. Run pipectl %s [DIR].", cmd.name, cmd.name)
	}
	return ""
}

func opsContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 60*time.Second)
}

// readFleet runs a command that reads the fleet (status, workers): it
// parses -json and the fleet flags, connects, and calls read.
func (m *meta) readFleet(cmd *command, args []string, read func(ctx context.Context, ctl *control.Control, fleet string, asJSON bool) int) int {
	fs := m.newFlagSet(cmd)
	asJSON := fs.Bool("json", false, "")
	ff, vars := opsFlags(fs)
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	_, dir, ok := splitArgs(m.view(), cmd, positional, false)
	if !ok {
		return exitError
	}
	ctl, name, ok := m.controlPlane(*ff, dir, *vars)
	if !ok {
		return exitError
	}
	defer ctl.Close()
	ctx, cancel := opsContext()
	defer cancel()
	return read(ctx, ctl, name, *asJSON)
}

func runStatus(m *meta, cmd *command, args []string) int {
	return m.readFleet(cmd, args, func(ctx context.Context, ctl *control.Control, fleet string, asJSON bool) int {
		report, err := worker.Report(ctx, ctl, fleet)
		if err != nil {
			m.kafkaError("Cannot read the fleet's status", err)
			return exitError
		}
		m.view().Status(report, asJSON)
		return exitOK
	})
}

func runWorkers(m *meta, cmd *command, args []string) int {
	return m.readFleet(cmd, args, func(ctx context.Context, ctl *control.Control, fleet string, asJSON bool) int {
		members, state, err := worker.Members(ctx, ctl.Admin(), fleet)
		now := time.Now()
		if err == nil {
			err = worker.Heard(ctx, ctl, members, now)
		}
		if err != nil {
			m.kafkaError("Cannot describe the fleet's workers", err)
			return exitError
		}
		m.view().Workers(members, state, now, asJSON)
		return exitOK
	})
}

// who names the person making a request, for the records.
func who() string {
	host, _ := os.Hostname()
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username + "@" + host
	}
	return "cli:" + host
}

// opsTarget parses the flags of a command that acts on one pipeline and
// returns the control-plane API for it.
func (m *meta) opsTarget(cmd *command, fs *flag.FlagSet, args []string, ff *fleetFlags, vars *varFlags) (api.Fleet, *control.Control, string, int, bool) {
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return nil, nil, "", code, false
	}
	v := m.view()
	address, dir, ok := splitArgs(v, cmd, positional, true)
	if !ok {
		return nil, nil, "", exitError, false
	}
	ctl, name, ok := m.controlPlane(*ff, dir, *vars)
	if !ok {
		return nil, nil, "", exitError, false
	}
	return worker.ControlPlane(name, who(), ctl), ctl, address, exitOK, true
}

// opsError prints an error of the control-plane API.
func (m *meta) opsError(summary string, err error) int {
	if errors.Is(err, api.ErrNotFound) {
		summary = "No such pipeline"
	}
	m.kafkaError(summary, err)
	return exitError
}

// runTarget records target (Running: a resume) as the pipeline's
// operational target.
func runTarget(m *meta, cmd *command, args []string, target control.TaskState) int {
	fs := m.newFlagSet(cmd)
	ff, vars := opsFlags(fs)
	f, ctl, address, code, ok := m.opsTarget(cmd, fs, args, ff, vars)
	if !ok {
		return code
	}
	defer ctl.Close()
	ctx, cancel := opsContext()
	defer cancel()
	do, done := f.Resume, "resumed"
	switch target {
	case control.Paused:
		do, done = f.Pause, "paused"
	case control.Stopped:
		do, done = f.Stop, "stopped"
	}
	if err := do(ctx, address); err != nil {
		return m.opsError("Cannot "+cmd.name+" "+address, err)
	}
	m.view().Requested(fmt.Sprintf("%s %s: every worker applies it within moments (pipectl status shows it).", address, done))
	return exitOK
}

func runRestart(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	task := fs.Int("task", -1, "")
	failedOnly := fs.Bool("failed-only", false, "")
	ff, vars := opsFlags(fs)
	f, ctl, address, code, ok := m.opsTarget(cmd, fs, args, ff, vars)
	if !ok {
		return code
	}
	defer ctl.Close()
	ctx, cancel := opsContext()
	defer cancel()
	var err error
	what := "every task of " + address
	switch {
	case *task >= 0:
		err = f.RestartTask(ctx, address, *task)
		what = "task " + strconv.Itoa(*task) + " of " + address
	case *failedOnly:
		_, err = f.Restart(ctx, address, api.RestartOptions{IncludeTasks: true, OnlyFailed: true})
		what = "the failed tasks of " + address
	default:
		_, err = f.Restart(ctx, address, api.RestartOptions{IncludeTasks: true})
	}
	if err != nil {
		return m.opsError("Cannot restart "+address, err)
	}
	m.view().Requested("Restart requested for " + what + ".")
	return exitOK
}

func runOffsets(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	reset := fs.String("reset", "", "")
	asJSON := fs.Bool("json", false, "")
	ff, vars := opsFlags(fs)
	f, ctl, address, code, ok := m.opsTarget(cmd, fs, args, ff, vars)
	if !ok {
		return code
	}
	defer ctl.Close()
	ctx, cancel := opsContext()
	defer cancel()
	switch *reset {
	case "":
	case "earliest":
		if err := f.ResetOffsets(ctx, address); err != nil {
			return m.opsError("Cannot reset the offsets of "+address, err)
		}
		m.view().Requested("The offsets of " + address + " are reset: it starts from the beginning when resumed.")
		return exitOK
	case "latest":
		if err := worker.ResetToLatest(ctx, ctl, ctl.Fleet(), address); err != nil {
			return m.opsError("Cannot reset the offsets of "+address, err)
		}
		m.view().Requested("The offsets of " + address + " are at the end of its topics: it skips what is there when resumed.")
		return exitOK
	default:
		m.view().UsageError("Invalid -reset", fmt.Sprintf("-reset takes earliest or latest, not %q.", *reset), cmd.usage)
		return exitError
	}
	o, err := f.Offsets(ctx, address)
	if err != nil {
		return m.opsError("Cannot read the offsets of "+address, err)
	}
	m.view().Offsets(address, o, *asJSON)
	return exitOK
}
