package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/runtime/kafka"
	stdkafka "github.com/pipectl/pipectl/stdlib/kafka"
)

var mirrorCommand = &command{
	name:     "mirror",
	synopsis: "Fail consumer groups over to a mirror's copy",
	usage: `Usage: pipectl mirror failover [options] ADDRESS [DIR]

  Fails consumer groups of a mirror's origin over to the fleet's cluster,
  for disaster recovery or a migration. ADDRESS is a kafka source that
  checkpoints the groups (groups or groups_regex): failover reads its
  checkpoints topic in the fleet's cluster (the origin may be gone), shows
  per group and partition the offset it commits there, the group's offset
  now and the age of the checkpoint, and commits after approval. Consumers
  then resume on the copy where they stopped on the origin: records they
  had read since the last checkpoint, and at most offset_lag_max more per
  partition, are read again; none is skipped, as long as nothing but the
  mirror writes to its target topics (docs/mirroring.md).

  A group with members in the fleet's cluster is refused (stop its
  consumers first); a group already at or past its checkpoint is kept.

Options:

  -groups LIST       Groups to fail over, comma-separated; every
                     checkpointed group when absent.
  -auto-approve      Commit without asking. Required when the input is not
                     a terminal.
  -dry-run           Show what would be committed, and stop.
  -json              Print as JSON (with -auto-approve or -dry-run).
` + fleetOptions,
	run: runMirror,
}

func runMirror(m *meta, cmd *command, args []string) int {
	if len(args) == 0 || args[0] != "failover" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			m.view().Help(cmd.usage)
			return exitOK
		}
		m.view().UsageError("Missing mirror subcommand", "pipectl mirror takes a subcommand: failover.", cmd.usage)
		return exitError
	}
	fs := m.newFlagSet(cmd)
	groupList := fs.String("groups", "", "")
	autoApprove := fs.Bool("auto-approve", false, "")
	dryRun := fs.Bool("dry-run", false, "")
	asJSON := fs.Bool("json", false, "")
	ff, vars := opsFlags(fs)
	positional, code, ok := m.parse(cmd, fs, args[1:])
	if !ok {
		return code
	}
	if *asJSON && !*autoApprove && !*dryRun {
		m.view().UsageError("Approval needs -auto-approve", "With -json, failover cannot ask for approval: add -auto-approve, or -dry-run.", cmd.usage)
		return exitError
	}
	address, dir, ok := splitArgs(m.view(), cmd, positional, true)
	if !ok {
		return exitError
	}
	fleet, kcfg, ok := m.kafkaConfig(*ff, dir, *vars)
	if !ok {
		return exitError
	}
	var groups []string
	for g := range strings.SplitSeq(*groupList, ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	cl, err := kafka.NewClient(kcfg)
	if err != nil {
		m.view().Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return exitError
	}
	defer cl.Close()
	ctx, cancel := opsContext()
	defer cancel()
	topic := stdkafka.CheckpointsTopic(fleet, address)
	cps, err := stdkafka.ReadCheckpoints(ctx, cl, topic, groups)
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		m.view().Error("No checkpoints", fmt.Sprintf("The fleet's cluster has no topic %s: %s is not a kafka source that checkpoints groups (set groups or groups_regex), or it has not run yet.", topic, address))
		return exitError
	}
	if err != nil {
		m.kafkaError("Cannot read the checkpoints of "+address, err)
		return exitError
	}
	adm := kadm.NewClient(cl)
	planned, err := stdkafka.PlanFailover(ctx, adm, cps)
	if err != nil {
		m.kafkaError("Cannot read the groups in the fleet's cluster", err)
		return exitError
	}
	now := time.Now()
	rows, commits, refused := failoverRows(planned)
	if *asJSON && !*dryRun {
		// JSON describes the outcome, after the commit below.
		defer m.view().Failover(address, rows, now, true)
	} else {
		m.view().Failover(address, rows, now, *asJSON)
	}
	switch {
	case missingGroups(groups, planned) != "":
		m.view().Error("Groups without checkpoints", fmt.Sprintf("%s has no checkpoint of %s: check groups or groups_regex, and that the group committed offsets on the origin.", address, missingGroups(groups, planned)))
		return exitError
	case refused > 0:
		m.view().Error("Groups still active", "A group with members in the fleet's cluster is not failed over under its consumers: stop them, then run pipectl mirror failover again.")
		return exitError
	case *dryRun || commits == 0:
		return exitOK
	}
	if !*autoApprove {
		if !stdinIsTerminal(m.stdin) {
			m.view().Error("No terminal to approve on", "pipectl asks for approval on a terminal, and its input is not one. Review the offsets with -dry-run and run again with -auto-approve.")
			return exitError
		}
		m.view().FailoverPrompt(commits)
		answer, _ := bufio.NewReader(m.stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			m.view().Requested("\nFailover cancelled: nothing was committed.")
			return exitError
		}
	}
	// A deadline of its own: the operator may have read the table for
	// longer than the one of the reads.
	cctx, ccancel := opsContext()
	defer ccancel()
	if err := stdkafka.CommitCheckpoints(cctx, adm, cps, true); err != nil {
		for i := range rows { // the JSON printed at the end says so
			if rows[i].Action == stdkafka.FailoverCommit {
				rows[i].Action = "failed"
			}
		}
		m.kafkaError("Cannot commit the groups' offsets", err)
		return exitError
	}
	if !*asJSON {
		m.view().Requested(fmt.Sprintf("\nFailover complete: %d group offsets committed in the fleet's cluster.", commits))
	}
	return exitOK
}

// failoverRows turns a planned failover into the view's rows, and counts
// the commits and the refusals.
func failoverRows(planned []stdkafka.FailoverPartition) (rows []views.FailoverRow, commits, refused int) {
	for _, p := range planned {
		r := views.FailoverRow{Group: p.Group, State: p.State, Topic: p.Topic, Partition: p.Partition, SourceTopic: p.SourceTopic,
			Upstream: p.Upstream, Commit: p.Downstream, Checkpoint: p.Time, Action: p.Action}
		if p.Current >= 0 {
			r.Current = &p.Current
		}
		switch p.Action {
		case stdkafka.FailoverCommit:
			commits++
		case stdkafka.FailoverRefuse:
			refused++
		}
		rows = append(rows, r)
	}
	return rows, commits, refused
}

// missingGroups lists the groups asked for that have no checkpoint.
func missingGroups(groups []string, planned []stdkafka.FailoverPartition) string {
	var missing []string
	for _, g := range groups {
		found := false
		for _, p := range planned {
			found = found || p.Group == g
		}
		if !found {
			missing = append(missing, g)
		}
	}
	return strings.Join(missing, ", ")
}
