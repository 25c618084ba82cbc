package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/planner/planfile"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

var planCommand = &command{
	name:     "plan",
	synopsis: "Show the changes that apply would make to the fleet",
	usage: `Usage: pipectl plan [options] [DIR]

  Compares the configuration in DIR (the current directory by default)
  with the fleet's state and with what is live in Kafka (topics and the
  status of pipelines), and shows what apply would change: create (+),
  update in place (~), replace (-/+) and destroy (-). Changes made outside
  pipectl are shown as drift; an operational pause is a note.

  Exit status: 0 on success, 1 on error; with -detailed-exitcode, 0 when
  there is nothing to change, 2 when there is.

Options:

  -out FILE             Save the plan to FILE, for "pipectl apply FILE".
  -json                 Print the plan as one JSON document
                        (schemas/plan.schema.json).
  -markdown             Print a compact plan for a pull-request comment.
  -detailed-exitcode    Exit 2 when the plan has changes.
  -destroy              Plan to destroy every resource of the fleet.
  -replace=ADDRESS      Replace this resource even if it has not changed.
                        Repeatable.
  -target=ADDRESS       Plan only this resource and what it uses.
                        Repeatable.
  -refresh=false        Do not read live topics and status; drift and
                        existing topics unknown to the state go unseen.
  -brokers LIST         Kafka brokers, comma-separated (or PIPECTL_BROKERS;
                        default: the fleet block's).
  -var 'NAME=VALUE'     Set a variable. Repeatable.
  -var-file=FILE        Read variable values from FILE. Repeatable.
  -no-color             Print without colour.

  Sensitive values that are not env() or file() references are encrypted
  in state with PIPECTL_STATE_KEY.
`,
	run: runPlan,
}

// addresses collects a repeatable address flag.
type addresses []string

func (a *addresses) String() string { return strings.Join(*a, ",") }

func (a *addresses) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return fmt.Errorf("the address is empty")
	}
	*a = append(*a, s)
	return nil
}

// planFlags are the flags of every command that plans.
type planFlags struct {
	vars    varFlags
	brokers string
	destroy bool
	refresh bool
	replace addresses
	target  addresses
}

func (f *planFlags) register(fs *flag.FlagSet, destroy bool) {
	f.vars.register(fs)
	fs.StringVar(&f.brokers, "brokers", "", "")
	fs.BoolVar(&f.refresh, "refresh", true, "")
	fs.Var(&f.target, "target", "")
	if !destroy {
		fs.BoolVar(&f.destroy, "destroy", false, "")
		fs.Var(&f.replace, "replace", "")
	}
}

// session is a loaded configuration connected to its fleet.
type session struct {
	cfg  *lang.Config
	kcfg kafka.Config
	ctl  *control.Control
	keys *control.Keys
	reg  *connector.Registry
}

func (s *session) close() {
	if s.ctl != nil {
		s.ctl.Close()
	}
}

// diagnoser is what shows diagnostics: every view.
type diagnoser interface {
	Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File)
}

// brokerOverride reads -brokers, else PIPECTL_BROKERS.
func (m *meta) brokerOverride(flag string) []string {
	if flag == "" {
		flag, _ = m.lookupEnv("PIPECTL_BROKERS")
	}
	if flag == "" {
		return nil
	}
	return strings.Split(flag, ",")
}

// openSession loads the configuration in dir and connects to its fleet.
// On failure it has shown why.
func (m *meta) openSession(dir string, f *planFlags, v diagnoser) (*session, bool) {
	reg, err := m.registry()
	if err != nil {
		m.view().Error("Cannot register the plugins", err.Error())
		return nil, false
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: reg, Vars: f.vars.args, LookupEnv: m.lookupEnv})
	if len(diags) > 0 {
		v.Diagnostics(diags, cfg.Files)
	}
	if diags.HasErrors() {
		return nil, false
	}
	keys, err := control.KeysFromEnv(m.lookupEnv)
	if err != nil {
		m.view().Error("Invalid state key", err.Error())
		return nil, false
	}
	kcfg, err := kafka.ConfigFromFleet(cfg.Fleet, m.brokerOverride(f.brokers), m.lookupEnv)
	if err != nil {
		m.view().Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return nil, false
	}
	m.brokers = kcfg.Brokers
	ctl, err := newControl(cfg.Fleet.Name, kcfg)
	if err != nil {
		m.view().Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return nil, false
	}
	return &session{cfg: cfg, kcfg: kcfg, ctl: ctl, keys: keys, reg: reg}, true
}

func newControl(fleet string, kcfg kafka.Config) (*control.Control, error) {
	opts, err := kcfg.Opts()
	if err != nil {
		return nil, err
	}
	return control.New(fleet, opts...)
}

// plan reads the state and, unless -refresh=false, what is live, and
// plans, showing the plan's diagnostics on v. On failure it has shown why.
func (s *session) plan(ctx context.Context, m *meta, f *planFlags, v diagnoser) (*plan.Plan, bool) {
	st, err := planner.ReadState(ctx, s.ctl)
	if err != nil {
		m.kafkaError("Cannot plan", fmt.Errorf("read the fleet's state: %w", err))
		return nil, false
	}
	var live *planner.Live
	if f.refresh {
		if live, err = planner.Refresh(ctx, s.ctl, planner.TopicNames(s.cfg, st), s.cfg.Imports...); err != nil {
			m.kafkaError("Cannot plan", fmt.Errorf("read the fleet's topics and status: %w", err))
			return nil, false
		}
	}
	p, diags := planner.Plan(planner.Input{
		Config: s.cfg, Plugins: s.reg, Keys: s.keys, State: st, Live: live,
		Destroy: f.destroy, Replace: f.replace, Targets: f.target,
	})
	if len(diags) > 0 {
		v.Diagnostics(diags, s.cfg.Files)
	}
	return p, !diags.HasErrors()
}

// planFileKafka records how the plan reached Kafka, the SASL password
// sealed like a sensitive value in state.
func (s *session) planFileKafka() (planfile.Kafka, error) {
	k := planfile.Kafka{Brokers: s.kcfg.Brokers}
	f := s.cfg.Fleet
	if f.SASL != nil {
		pw, err := s.keys.Seal("fleet.kafka.sasl.password", f.SASL.Password)
		if err != nil {
			return k, err
		}
		k.SASL = &planfile.SASL{Mechanism: f.SASL.Mechanism, Username: f.SASL.Username, Password: pw}
	}
	if f.TLS != nil {
		k.TLS = &planfile.TLS{CAFile: f.TLS.CAFile, CertFile: f.TLS.CertFile, KeyFile: f.TLS.KeyFile,
			ServerName: f.TLS.ServerName, InsecureSkipVerify: f.TLS.InsecureSkipVerify}
	}
	return k, nil
}

// signalContext is the context of a command that talks to Kafka: it ends
// on Ctrl-C or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func runPlan(m *meta, cmd *command, args []string) int {
	ctx, stop := signalContext()
	defer stop()
	fs := m.newFlagSet(cmd)
	var pf planFlags
	pf.register(fs, false)
	out := fs.String("out", "", "")
	jsonOut := fs.Bool("json", false, "")
	markdown := fs.Bool("markdown", false, "")
	detailed := fs.Bool("detailed-exitcode", false, "")
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	dir, code, ok := m.dirArg(cmd, positional)
	if !ok {
		return code
	}
	format := views.PlanHuman
	switch {
	case *jsonOut && *markdown:
		m.view().UsageError("Conflicting options", "-json and -markdown cannot be used together.", cmd.usage)
		return exitError
	case *jsonOut:
		format = views.PlanJSON
	case *markdown:
		format = views.PlanMarkdown
	}
	view := views.NewPlan(format, m.view())
	s, ok := m.openSession(dir, &pf, view)
	if !ok {
		return exitError
	}
	defer s.close()
	p, ok := s.plan(ctx, m, &pf, view)
	if !ok {
		return exitError
	}
	if *out != "" {
		k, err := s.planFileKafka()
		if err == nil {
			err = planfile.Write(*out, &planfile.File{PipectlVersion: Version, Created: time.Now(), Kafka: k, Plan: p})
		}
		if err != nil {
			m.view().Error("Cannot save the plan", err.Error())
			return exitError
		}
	}
	view.Plan(p)
	if *out != "" {
		view.Saved(*out)
	}
	if *detailed && p.HasChanges() {
		return exitChanges
	}
	return exitOK
}

// appliedBy names who applies: user@host.
func appliedBy() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return name + "@" + host
}
