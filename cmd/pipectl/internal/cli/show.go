package cli

import (
	"time"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/planner/planfile"
)

var showCommand = &command{
	name:     "show",
	synopsis: "Show a saved plan, or the fleet's state",
	usage: `Usage: pipectl show [options] [FILE]

  With FILE, a plan saved by "pipectl plan -out FILE", shows that plan.
  Without, shows every resource in the fleet's state, sensitive values
  redacted; the fleet and its brokers come from -fleet and -brokers, or
  from the configuration in the current directory.

Options:

  -json             Print JSON: a plan as pipectl plan -json does, the
                    state as {"format_version", "serial", "resources"}.
  -fleet NAME       The fleet whose state to show.
  -brokers LIST     Kafka brokers, comma-separated (or PIPECTL_BROKERS).
  -var 'NAME=VALUE' Set a variable of the current directory's configuration.
  -var-file=FILE    Read variable values of that configuration.
  -no-color         Print without colour.
`,
	run: runShow,
}

func runShow(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	jsonOut := fs.Bool("json", false, "")
	var ff fleetFlags
	fs.StringVar(&ff.brokers, "brokers", "", "")
	fs.StringVar(&ff.fleet, "fleet", "", "")
	var vars varFlags
	vars.register(fs)
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	view := views.NewShow(*jsonOut, m.view())
	switch len(positional) {
	case 0:
	case 1:
		f, err := planfile.Read(positional[0])
		if err != nil {
			m.view().Error("Cannot read the plan file", err.Error())
			return exitError
		}
		view.Plan(f.Plan)
		return exitOK
	default:
		m.view().UsageError("Too many command-line arguments", "show takes at most one plan file.", cmd.usage)
		return exitError
	}
	dir := "."
	if ff.fleet != "" {
		dir = ""
	}
	fleet, kcfg, ok := m.kafkaConfig(ff, dir, vars)
	if !ok {
		return exitError
	}
	ctx, stop := signalContext()
	defer stop()
	ctl, err := newControl(fleet, kcfg)
	if err != nil {
		m.view().Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return exitError
	}
	defer ctl.Close()
	st, err := planner.ReadState(ctx, ctl)
	if err != nil {
		m.kafkaError("Cannot read the fleet's state", err)
		return exitError
	}
	s := views.State{Fleet: fleet, Serial: st.Serial}
	if st.Commit != nil {
		s.Time, s.By = st.Commit.Time, st.Commit.By
	} else {
		s.Time = time.Time{}
	}
	for _, r := range st.Sorted() {
		s.Resources = append(s.Resources, planner.Describe(r))
	}
	if s.Resources == nil {
		s.Resources = []*plan.Change{}
	}
	view.State(s)
	return exitOK
}
