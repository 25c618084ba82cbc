package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/planner/planfile"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

var applyCommand = &command{
	name:     "apply",
	synopsis: "Apply the changes of a plan to the fleet",
	usage: `Usage: pipectl apply [options] [FILE | DIR]

  Applies a plan. With DIR (the current directory by default) it plans,
  shows the plan and asks for "yes" on a terminal before it applies;
  with FILE, a plan saved by "pipectl plan -out FILE", it applies exactly
  that plan without asking, and refuses it when the fleet's state moved
  since ("Saved plan is stale").

  Topics are created, grown and reconfigured before the pipelines that use
  them change; the state is committed in one transaction, so an apply
  lands whole or not at all, and of two applies racing, one commits (the
  other deletes the topics it created). Then apply waits until every
  changed pipeline runs (its tasks opened), and fails with the task's
  error if one does not start.

Options:

  -auto-approve       Apply without asking. Required when the input is not
                      a terminal.
  -json               Print progress as JSON lines (needs -auto-approve
                      with DIR).
  -wait=false         Do not wait for the changed pipelines to run.
  -timeout D          How long to wait for pipelines to stop or run
                      (default 5m).
  -destroy, -replace=ADDRESS, -target=ADDRESS, -refresh=false,
  -var 'NAME=VALUE', -var-file=FILE
                      As for pipectl plan (DIR only).
  -brokers LIST       Kafka brokers, comma-separated (or PIPECTL_BROKERS).
  -no-color           Print without colour.
`,
	run: runApply,
}

// stdinIsTerminal reports whether the command's input is a terminal that
// can answer the approval question. Tests replace it.
var stdinIsTerminal = isTerminalInput

// crashBeforeCommit names the environment variable that makes apply kill
// itself with SIGKILL just before it commits: the end-to-end tests use it
// to leave an apply interrupted midway. It is not for users.
const crashBeforeCommit = "PIPECTL_TEST_CRASH_BEFORE_COMMIT"

type applyOptions struct {
	autoApprove, json, wait bool
	timeout                 time.Duration
}

func runApply(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	var pf planFlags
	pf.register(fs, false)
	var o applyOptions
	fs.BoolVar(&o.autoApprove, "auto-approve", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.BoolVar(&o.wait, "wait", true, "")
	fs.DurationVar(&o.timeout, "timeout", planner.DefaultTimeout, "")
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	target, code, ok := m.dirArg(cmd, positional)
	if !ok {
		return code
	}
	if fi, err := os.Stat(target); err == nil && !fi.IsDir() {
		if len(pf.vars.args) > 0 || pf.destroy || len(pf.replace) > 0 || len(pf.target) > 0 || !pf.refresh {
			m.view().UsageError("Options do not apply to a saved plan",
				"-var, -var-file, -destroy, -replace, -target and -refresh shape a plan; a saved plan was shaped when it was made. Plan again with them instead.", cmd.usage)
			return exitError
		}
		return m.applySaved(target, pf.brokers, o)
	}
	return m.applyDir(cmd, target, &pf, o, false)
}

// applyDir plans the configuration in dir, asks, and applies.
func (m *meta) applyDir(cmd *command, dir string, pf *planFlags, o applyOptions, destroy bool) int {
	ctx, stop := signalContext()
	defer stop()
	view := views.NewApply(o.json, m.view())
	if o.json && !o.autoApprove {
		m.view().UsageError("Approval needs -auto-approve", "With -json, apply cannot ask for approval: add -auto-approve.", cmd.usage)
		return exitError
	}
	s, ok := m.openSession(dir, pf, view)
	if !ok {
		return exitError
	}
	defer s.close()
	p, ok := s.plan(ctx, m, pf, view)
	if !ok {
		return exitError
	}
	view.Plan(p)
	if !p.HasChanges() {
		view.Complete(p.Summary(), p.Serial, false, destroy)
		return exitOK
	}
	if !o.autoApprove {
		if !stdinIsTerminal(m.stdin) {
			save := "pipectl plan -out FILE"
			if destroy || pf.destroy {
				save = "pipectl plan -destroy -out FILE"
			}
			m.view().Error("No terminal to approve on",
				"pipectl asks for approval on a terminal, and its input is not one. Review the plan and run again with -auto-approve, or save it with \""+save+"\" and apply the file.")
			return exitError
		}
		view.Prompt(destroy)
		answer, _ := bufio.NewReader(m.stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			view.Cancelled(destroy)
			return exitError
		}
	}
	return m.runApplyPlan(ctx, view, s.ctl, p, false, o, destroy)
}

// applySaved applies a plan file.
func (m *meta) applySaved(path, brokers string, o applyOptions) int {
	ctx, stop := signalContext()
	defer stop()
	view := views.NewApply(o.json, m.view())
	f, err := planfile.Read(path)
	if err != nil {
		m.view().Error("Cannot read the plan file", err.Error())
		return exitError
	}
	keys, err := control.KeysFromEnv(m.lookupEnv)
	if err != nil {
		m.view().Error("Invalid state key", err.Error())
		return exitError
	}
	kcfg, err := m.planFileKafka(f.Kafka, brokers, keys)
	if err != nil {
		m.view().Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return exitError
	}
	m.brokers = kcfg.Brokers
	ctl, err := newControl(f.Plan.Fleet, kcfg)
	if err != nil {
		m.view().Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return exitError
	}
	defer ctl.Close()
	if o.json {
		view.Plan(f.Plan)
	}
	return m.runApplyPlan(ctx, view, ctl, f.Plan, true, o, f.Plan.Destroy)
}

// planFileKafka is the Kafka configuration a plan file records, with the
// brokers overridden by -brokers or PIPECTL_BROKERS.
func (m *meta) planFileKafka(k planfile.Kafka, brokers string, keys *control.Keys) (kafka.Config, error) {
	c := kafka.Config{Brokers: k.Brokers}
	if o := m.brokerOverride(brokers); len(o) > 0 {
		c.Brokers = o
	}
	if len(c.Brokers) == 0 {
		return c, kafka.ErrNoBrokers
	}
	if k.SASL != nil {
		pw, err := keys.Open("fleet.kafka.sasl.password", k.SASL.Password, m.lookupEnv)
		if err != nil {
			return c, err
		}
		s, _ := pw.(string)
		c.SASL = &kafka.SASL{Mechanism: k.SASL.Mechanism, Username: k.SASL.Username, Password: s}
	}
	if t := k.TLS; t != nil {
		c.TLS = &kafka.TLS{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	}
	return c, nil
}

// runApplyPlan applies p and reports the outcome.
func (m *meta) runApplyPlan(ctx context.Context, view views.Apply, ctl *control.Control, p *plan.Plan, saved bool, o applyOptions, destroy bool) int {
	args := planner.ApplyArgs{Plan: p, Control: ctl, Saved: saved, Wait: o.wait, Timeout: o.timeout, By: appliedBy(), Hooks: view}
	if v, _ := m.lookupEnv(crashBeforeCommit); v != "" {
		args.BeforeCommit = func() error {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	res, err := planner.Apply(ctx, args)
	if err != nil {
		m.applyError(err, p)
		return exitError
	}
	view.Complete(p.Summary(), res.Serial, res.Committed, destroy)
	return exitOK
}

// applyError explains why an apply failed.
func (m *meta) applyError(err error, p *plan.Plan) {
	v := m.view()
	var stale *planner.StaleError
	var failed *planner.PipelineError
	var timeout *planner.TimeoutError
	switch {
	case errors.As(err, &stale) && stale.Saved:
		found := "has moved"
		if stale.Found >= control.NoSerial {
			found = fmt.Sprintf("is now at serial %d", stale.Found)
		}
		v.Error("Saved plan is stale", fmt.Sprintf(
			"The plan was made against serial %d of the fleet %q, and its state %s: another apply committed since, so this apply %s. Run \"pipectl plan\" again, review the new plan, and apply it.",
			stale.Planned, p.Fleet, found, undone(stale.Topics)))
	case errors.As(err, &stale):
		v.Error("The fleet's state changed during apply", fmt.Sprintf(
			"Another apply committed to the fleet %q while this one ran, so this one %s. Run \"pipectl apply\" again to plan against the new state.", p.Fleet, undone(stale.Topics)))
	case errors.As(err, &failed):
		v.Error("Pipeline failed to start", fmt.Sprintf(
			"The state was committed, but %s failed on worker %s (task %d):\n\n%s\n\nFix the configuration and apply again, or see \"pipectl status\".", failed.Address, failed.Worker, failed.Task, failed.Trace))
	case errors.As(err, &timeout) && timeout.What == "run":
		v.Error("Pipelines did not start in time", fmt.Sprintf(
			"The state was committed, but these pipelines did not report RUNNING within %s: %s. Is a worker of the fleet running, and can their tasks reach their outside systems (pipectl status shows what they retry)? Apply with a longer -timeout, or -wait=false not to wait.",
			timeout.Timeout, strings.Join(timeout.Addresses, ", ")))
	case errors.As(err, &timeout):
		v.Error("Pipelines did not stop in time", fmt.Sprintf(
			"Apply pauses a pipeline before it moves or resets its offsets, and these did not stop within %s: %s. Nothing was committed. If the worker that ran them is gone, their status is stale: start a worker of the fleet and apply again.",
			timeout.Timeout, strings.Join(timeout.Addresses, ", ")))
	case errors.Is(err, context.Canceled):
		v.Error("Apply interrupted", "The apply was interrupted. If it had not committed, the state is unchanged; run \"pipectl plan\" to see where the fleet stands.")
	default:
		m.kafkaError("Apply failed", err)
	}
}

// undone says what an apply that lost the race to commit did, as the
// predicate of a sentence about it: that it changed nothing, or which of
// the topics it had created it deleted again, kept, or could not delete.
func undone(topics []planner.UndoneTopic) string {
	if len(topics) == 0 {
		return "changed nothing"
	}
	by := map[planner.TopicOutcome][]string{}
	for _, t := range topics {
		name := fmt.Sprintf("%s [name=%s]", t.Address, t.Name)
		if t.Outcome == planner.TopicNotDeleted {
			name += fmt.Sprintf(": %v", t.Err)
		}
		by[t.Outcome] = append(by[t.Outcome], name)
	}
	var did []string
	for _, o := range []planner.TopicOutcome{planner.TopicDeleted, planner.TopicCommitted, planner.TopicAdoptable, planner.TopicNotDeleted} {
		names := by[o]
		if len(names) == 0 {
			continue
		}
		what, list := "the topic", strings.Join(names, "; ")
		if len(names) > 1 {
			what = fmt.Sprintf("the %d topics", len(names))
		}
		switch o {
		case planner.TopicDeleted:
			did = append(did, "deleted "+what+" it had created ("+list+")")
		case planner.TopicCommitted:
			did = append(did, "kept "+what+" that the other apply committed too ("+list+")")
		case planner.TopicAdoptable:
			did = append(did, "kept "+what+" it had created ("+list+"), which the next plan adopts")
		case planner.TopicNotDeleted:
			did = append(did, "could not delete "+what+" it had created ("+list+"): delete "+pronoun(len(names))+" or adopt "+pronoun(len(names))+" with an import block")
		}
	}
	if n := len(did); n > 1 {
		did[n-1] = "and " + did[n-1]
	}
	return "committed nothing and " + strings.Join(did, ", ")
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
