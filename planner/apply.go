package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// Hooks receive apply's progress. The views of cmd/pipectl implement
// them; every method is called from the goroutine that called Apply.
type Hooks interface {
	// OpStart and OpDone bracket one operation on a topic.
	OpStart(address string, op plan.Op)
	OpDone(address string, op plan.Op, elapsed time.Duration, id string)
	// Committed reports the commit of the state.
	Committed(serial int64, changes int)
	// Waiting says that apply waits for a pipeline's tasks to run;
	// Running that they all do.
	Waiting(address string, tasks int)
	Running(address string, tasks int, elapsed time.Duration)
	// Info and Warn report what apply did around the commit.
	Info(message string)
	Warn(message string)
}

// ApplyArgs are Apply's arguments.
type ApplyArgs struct {
	Plan    *plan.Plan
	Control *control.Control
	// Saved is set when the plan was read from a plan file: a stale
	// plan is then reported as a stale saved plan.
	Saved bool
	// Wait makes Apply wait until every created, updated, replaced or
	// moved pipeline runs.
	Wait bool
	// Timeout bounds each wait: for pipelines to stop before their
	// offsets move, and for them to run. 0 means DefaultTimeout.
	Timeout time.Duration
	// By names who applies (user@host), for the commit record.
	By    string
	Hooks Hooks
	// BeforeCommit, when set, runs just before the commit; an error
	// aborts the apply there. Tests use it to stop an apply midway.
	BeforeCommit func() error
}

// DefaultTimeout is how long apply waits by default.
const DefaultTimeout = 5 * time.Minute

// Result is what Apply did.
type Result struct {
	// Serial is the state serial after the apply.
	Serial int64
	// Committed is false when there was nothing to change.
	Committed bool
	Summary   plan.Summary
}

// StaleError means the state moved since the plan was made: another apply
// committed first. It matches control.ErrStaleState with errors.Is.
type StaleError struct {
	Saved   bool  // the plan came from a plan file
	Planned int64 // the serial the plan was made against
	Found   int64 // the serial found, or -2 when the commit found it
	Err     error // what control reported, when the commit found it
	// Topics are the topics this apply had created before its commit was
	// refused, and what became of them.
	Topics []UndoneTopic
}

func (e *StaleError) Error() string {
	what := "the fleet's state changed since this apply planned"
	if e.Saved {
		what = "saved plan is stale"
	}
	if e.Found >= control.NoSerial {
		return fmt.Sprintf("%s: it was made at serial %d and the state is now at serial %d", what, e.Planned, e.Found)
	}
	return what + ": another apply committed first"
}

// Unwrap makes StaleError match control.ErrStaleState.
func (e *StaleError) Unwrap() error { return control.ErrStaleState }

// UndoneTopic is a topic that an apply created and then did not commit,
// because another apply committed first.
type UndoneTopic struct {
	Address string // the topic resource
	Name    string // the Kafka topic
	Outcome TopicOutcome
	Err     error // why it could not be deleted (TopicNotDeleted)
}

// TopicOutcome is what a losing apply did with a topic it had created.
type TopicOutcome int

// The outcomes.
const (
	TopicDeleted    TopicOutcome = iota // deleted again
	TopicCommitted                      // kept: the apply that won committed it too
	TopicAdoptable                      // kept: no apply committed, so the next plan adopts it
	TopicNotDeleted                     // the deletion failed (Err)
)

// String names the outcome.
func (o TopicOutcome) String() string {
	switch o {
	case TopicDeleted:
		return "deleted"
	case TopicCommitted:
		return "committed"
	case TopicAdoptable:
		return "adoptable"
	case TopicNotDeleted:
		return "not deleted"
	default:
		return fmt.Sprintf("TopicOutcome(%d)", int(o))
	}
}

// PipelineError means a pipeline failed to start after the commit.
type PipelineError struct {
	Address string
	Task    int
	Worker  string
	Trace   string
}

func (e *PipelineError) Error() string {
	return fmt.Sprintf("%s: task %d failed on worker %s: %s", e.Address, e.Task, e.Worker, e.Trace)
}

// TimeoutError means pipelines did not reach the wanted state in time.
type TimeoutError struct {
	What      string   // "run" or "stop"
	Addresses []string // the pipelines still waited for, with their state
	Timeout   time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("pipelines did not %s within %s: %s", e.What, e.Timeout, strings.Join(e.Addresses, ", "))
}

type nopHooks struct{}

func (nopHooks) OpStart(string, plan.Op)                       {}
func (nopHooks) OpDone(string, plan.Op, time.Duration, string) {}
func (nopHooks) Committed(int64, int)                          {}
func (nopHooks) Waiting(string, int)                           {}
func (nopHooks) Running(string, int, time.Duration)            {}
func (nopHooks) Info(string)                                   {}
func (nopHooks) Warn(string)                                   {}
func (a *applier) timeout() time.Duration                      { return a.args.Timeout }
func (a *applier) op(addr string, op plan.Op, id string, fn func() error) error {
	a.hooks.OpStart(addr, op)
	start := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	a.hooks.OpDone(addr, op, time.Since(start), id)
	return nil
}

type applier struct {
	args  ApplyArgs
	ctl   *control.Control
	adm   *kadm.Client
	hooks Hooks
	// pausedByUs are the pipelines apply paused to move or reset their
	// offsets, with the target they had before (nil: none).
	pausedByUs map[string]*control.Target
	status     *control.StatusView
	// created are the topics this apply created, that did not exist
	// before it: what it deletes again when its commit is refused.
	created []UndoneTopic
	// problems are the problems last reported of the tasks waited for
	// (progress.go).
	problems map[string]string
}

// Apply carries out a plan: topics are created, grown and reconfigured
// through the admin API, pipelines that move or are replaced are paused
// so that their offsets can follow or be reset, the state is committed in
// one fenced transaction, then topics are deleted, offsets of deleted and
// replaced pipelines go, and, with Wait, Apply waits until the changed
// pipelines run. A plan whose serial is not the state's fails with a
// *StaleError before anything is done; so does a commit that loses a race
// with another apply, after deleting the topics this apply created
// (StaleError.Topics).
func Apply(ctx context.Context, args ApplyArgs) (*Result, error) {
	if args.Timeout <= 0 {
		args.Timeout = DefaultTimeout
	}
	a := &applier{args: args, ctl: args.Control, adm: args.Control.Admin(), hooks: args.Hooks, pausedByUs: map[string]*control.Target{}}
	if a.hooks == nil {
		a.hooks = nopHooks{}
	}
	p := args.Plan
	if p.Fleet != a.ctl.Fleet() {
		return nil, fmt.Errorf("the plan is for the fleet %q, not %q", p.Fleet, a.ctl.Fleet())
	}
	if err := a.ctl.EnsureTopics(ctx); err != nil {
		return nil, fmt.Errorf("create the fleet's control topics: %w", err)
	}
	// A metadata request of now refreshes the client's cache, which may
	// still say that topics created a moment ago do not exist.
	if _, err := a.ctl.DescribeTopics(ctx, a.ctl.ConfigsTopic(), a.ctl.OffsetsTopic(), a.ctl.StatusTopic()); err != nil {
		return nil, err
	}
	st, err := readState(ctx, a.ctl)
	if err != nil {
		return nil, err
	}
	if st.Serial != p.Serial {
		return nil, &StaleError{Saved: args.Saved, Planned: p.Serial, Found: st.Serial}
	}
	res := &Result{Serial: st.Serial, Summary: p.Summary()}
	pending := p.Pending()
	if len(pending) == 0 {
		return res, nil
	}
	if a.status, err = a.ctl.ReadStatus(ctx); err != nil {
		return nil, err
	}
	if err := a.beforeCommit(ctx, pending); err != nil {
		a.restore(pending)
		return nil, err
	}
	if args.BeforeCommit != nil {
		if err := args.BeforeCommit(); err != nil {
			a.restore(pending)
			return nil, err
		}
	}
	var changes []control.Change
	for _, c := range pending {
		if c.Moved() {
			changes = append(changes, control.Change{Address: c.PrevAddress})
		}
		if c.Action == plan.Delete {
			changes = append(changes, control.Change{Address: c.Address})
		} else {
			changes = append(changes, control.Change{Address: c.Address, Resource: c.After})
		}
	}
	serial, err := a.ctl.Commit(ctx, changes, p.Serial, control.CommitInfo{By: args.By, ConfigSHA: p.ConfigHash})
	if err != nil {
		a.restore(pending)
		if errors.Is(err, control.ErrStaleState) {
			return nil, &StaleError{Saved: args.Saved, Planned: p.Serial, Found: -2, Err: err, Topics: a.undoTopics(ctx)}
		}
		return nil, err
	}
	a.hooks.Committed(serial, len(changes))
	res.Serial, res.Committed = serial, true
	if err := a.afterCommit(ctx, pending); err != nil {
		return res, err
	}
	if args.Wait {
		if err := a.waitRunning(ctx, pending, serial); err != nil {
			return res, err
		}
	}
	return res, nil
}

// beforeCommit makes the topics the pipelines need and stops the pipelines
// whose offsets move or reset.
func (a *applier) beforeCommit(ctx context.Context, pending []*plan.Change) error {
	var creating []string
	for _, c := range pending {
		if c.IsTopic() && (c.Action == plan.Create || c.Action == plan.Replace) {
			creating = append(creating, c.After.Topic.Name)
		}
	}
	if err := a.ctl.RecordIntents(ctx, a.args.Plan.Serial, creating); err != nil {
		return err
	}
	for _, c := range pending {
		if !c.IsTopic() {
			continue
		}
		var err error
		switch c.Action {
		case plan.Create:
			err = a.op(c.Address, plan.OpCreate, c.After.Topic.Name, func() error { return a.createTopic(ctx, c.Address, c.After.Topic, true) })
		case plan.Update:
			if needsAlter(c.Before.Topic, c.After.Topic) {
				err = a.op(c.Address, plan.OpModify, c.After.Topic.Name, func() error { return a.alterTopic(ctx, c.Before.Topic, c.After.Topic) })
			}
		case plan.Replace:
			if c.Before.Topic.Name == c.After.Topic.Name {
				err = a.op(c.Address, plan.OpDestroy, c.Before.Topic.Name, func() error { return a.deleteTopic(ctx, c.Before.Topic.Name, true) })
			}
			if err == nil {
				// A topic of the same name existed before: it is not
				// this apply's to delete again.
				fresh := c.Before.Topic.Name != c.After.Topic.Name
				err = a.op(c.Address, plan.OpCreate, c.After.Topic.Name, func() error { return a.createTopic(ctx, c.Address, c.After.Topic, fresh) })
			}
		}
		if err != nil {
			return err
		}
	}
	if len(creating) > 0 {
		// A metadata request of now also refreshes the client's cache,
		// which later admin calls (offset commits) resolve topics with.
		if _, err := a.ctl.DescribeTopics(ctx, creating...); err != nil {
			return err
		}
	}
	if err := a.importGroups(ctx, pending); err != nil {
		return err
	}
	return a.handOver(ctx, pending)
}

// importConnectOffsets saves, as a new source's offsets, the offsets its
// Kafka Connect connector saved, read again now.
func (a *applier) importConnectOffsets(ctx context.Context, c *plan.Change) error {
	from := c.ConnectOffsetsFrom
	in, err := a.ctl.ReadConnectOffsets(ctx, from.Topic, from.Connector)
	if err != nil {
		return fmt.Errorf("%s: read Kafka Connect's offsets topic %s: %w", c.Address, from.Topic, err)
	}
	offs, _, err := mapConnectOffsets(c.Type, c.After.Pipeline.Config, in)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Address, err)
	}
	if len(offs) == 0 {
		a.hooks.Warn(fmt.Sprintf("%s: Kafka Connect's offsets topic %s holds no offsets of %s; the source starts as a new one.", c.Address, from.Topic, from.Connector))
		return nil
	}
	if err := a.ctl.SaveOffsets(ctx, c.Address, offs); err != nil {
		return fmt.Errorf("%s: save the offsets imported from Kafka Connect: %w", c.Address, err)
	}
	a.hooks.Info(fmt.Sprintf("%s: %d offsets imported from Kafka Connect's %s (connector %s)", c.Address, len(offs), from.Topic, from.Connector))
	return nil
}

// importGroups copies the committed offsets of the consumer groups that
// import blocks name to the groups of the sinks this apply creates, before
// the commit, so that their tasks start where the other consumer stopped.
func (a *applier) importGroups(ctx context.Context, pending []*plan.Change) error {
	for _, c := range pending {
		if c.Action == plan.Create && c.ConnectOffsetsFrom != nil && c.PipelineKind() == configschema.Source {
			if err := a.importConnectOffsets(ctx, c); err != nil {
				return err
			}
			continue
		}
		if c.Action != plan.Create || c.OffsetsFrom == nil || c.PipelineKind() != configschema.Sink {
			continue
		}
		from := c.OffsetsFrom.Group
		n, err := a.ctl.CopyGroupOffsets(ctx, from, a.ctl.SinkGroup(c.Address))
		if err != nil {
			return fmt.Errorf("%s: copy the offsets of consumer group %s: %w", c.Address, from, err)
		}
		if n == 0 {
			a.hooks.Warn(fmt.Sprintf("%s: the consumer group %s has no committed offsets; the sink starts at start_from.", c.Address, from))
			continue
		}
		unit := "partitions"
		if n == 1 {
			unit = "partition"
		}
		a.hooks.Info(fmt.Sprintf("%s: offsets of %d %s copied from consumer group %s", c.Address, n, unit, from))
	}
	return nil
}

// needsAlter reports whether a topic update changes Kafka, not only the
// state.
func needsAlter(before, after *control.TopicSpec) bool {
	if after.Partitions > before.Partitions || len(before.Config) != len(after.Config) {
		return true
	}
	for k, v := range after.Config {
		if bv, ok := before.Config[k]; !ok || bv != v {
			return true
		}
	}
	return false
}

// createTopic creates a topic. With fresh, a topic this call creates is
// remembered as this apply's own, to delete if the commit is refused.
func (a *applier) createTopic(ctx context.Context, addr string, t *control.TopicSpec, fresh bool) error {
	var configs map[string]*string
	if len(t.Config) > 0 {
		configs = map[string]*string{}
		for k, v := range t.Config {
			configs[k] = &v
		}
	}
	_, err := a.adm.CreateTopic(ctx, t.Partitions, t.ReplicationFactor, configs, t.Name)
	if errors.Is(err, kerr.TopicAlreadyExists) {
		// Another apply racing with this one created it, or this
		// apply's own earlier attempt did: the commit decides. It is
		// not this apply's to delete.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create topic %q: %w", t.Name, err)
	}
	if fresh {
		a.created = append(a.created, UndoneTopic{Address: addr, Name: t.Name})
	}
	return nil
}

// settleTimeout bounds how long a losing apply waits for the apply that
// fenced it to commit: longer than the transaction timeout of a commit.
const settleTimeout = 15 * time.Second

// undoTopics deletes, after the commit was refused, the topics this apply
// created, except those that the committed state now has (another apply
// racing with this one planned the same topic and committed it). The apply
// that fenced this one may still be committing: it waits until the state
// moves past the serial it planned against. If it does not, no apply
// committed; the topics stay, and the next plan adopts them (their intents
// name them at the serial that is still the state's).
func (a *applier) undoTopics(ctx context.Context) []UndoneTopic {
	if len(a.created) == 0 {
		return nil
	}
	var st *control.State
	wctx, cancel := context.WithTimeout(ctx, settleTimeout)
	err := a.ctl.WatchState(wctx, func(s *control.State) {
		if s.Serial != a.args.Plan.Serial {
			st = s
			cancel()
		}
	})
	timedOut := errors.Is(wctx.Err(), context.DeadlineExceeded)
	cancel()
	out := append([]UndoneTopic(nil), a.created...)
	committed := map[string]bool{}
	if st != nil {
		for _, r := range st.Resources {
			if r.Kind == control.KindTopic && r.Topic != nil {
				committed[r.Topic.Name] = true
			}
		}
	}
	for i := range out {
		u := &out[i]
		switch {
		case st == nil && timedOut:
			u.Outcome = TopicAdoptable
		case st == nil:
			if err == nil {
				err = ctx.Err()
			}
			u.Outcome, u.Err = TopicNotDeleted, fmt.Errorf("read the state to see whether another apply committed it: %w", err)
		case committed[u.Name]:
			u.Outcome = TopicCommitted
		default:
			a.hooks.OpStart(u.Address, plan.OpDestroy)
			start := time.Now()
			if err := a.deleteTopic(ctx, u.Name, false); err != nil {
				u.Outcome, u.Err = TopicNotDeleted, err
				continue
			}
			u.Outcome = TopicDeleted
			a.hooks.OpDone(u.Address, plan.OpDestroy, time.Since(start), u.Name)
		}
	}
	return out
}

func (a *applier) alterTopic(ctx context.Context, before, after *control.TopicSpec) error {
	if after.Partitions > before.Partitions {
		resp, err := a.adm.UpdatePartitions(ctx, int(after.Partitions), after.Name)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("grow topic %q from %d to %d partitions: %w", after.Name, before.Partitions, after.Partitions, err)
		}
	}
	var alters []kadm.AlterConfig
	for _, k := range sortedKeys(after.Config) {
		if bv, ok := before.Config[k]; !ok || bv != after.Config[k] {
			v := after.Config[k]
			alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
		}
	}
	for _, k := range sortedKeys(before.Config) {
		if _, ok := after.Config[k]; !ok {
			alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
		}
	}
	if len(alters) == 0 {
		return nil
	}
	resp, err := a.adm.AlterTopicConfigs(ctx, alters, after.Name)
	if err == nil {
		for _, r := range resp {
			if r.Err != nil {
				err = r.Err
			}
		}
	}
	if err != nil {
		return fmt.Errorf("change the configs of topic %q: %w", after.Name, err)
	}
	return nil
}

// deleteTopic deletes a topic; one that does not exist is fine. With wait
// it returns once the topic is gone, so that it can be created again.
func (a *applier) deleteTopic(ctx context.Context, name string, wait bool) error {
	_, err := a.adm.DeleteTopic(ctx, name)
	if err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("delete topic %q: %w", name, err)
	}
	if !wait {
		return nil
	}
	deadline := time.Now().Add(a.timeout())
	for {
		td, err := a.ctl.DescribeTopics(ctx, name)
		if err != nil {
			return fmt.Errorf("delete topic %q: %w", name, err)
		}
		if _, ok := td[name]; !ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %q is still there %s after it was deleted", name, a.timeout())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// handOver stops the pipelines whose offsets move or reset, and copies the
// offsets of the moved ones to their new address, before the commit.
func (a *applier) handOver(ctx context.Context, pending []*plan.Change) error {
	var stop []string
	tasks := map[string]int{}
	for _, c := range pending {
		if c.IsTopic() || c.Action == plan.Create || c.Action == plan.Delete {
			continue
		}
		from := c.Address
		if c.Moved() {
			from = c.PrevAddress
		}
		if c.Action != plan.Replace && !c.Moved() {
			continue
		}
		var prior *control.Target
		if t, ok := a.status.Targets[from]; ok {
			t := t
			prior = &t
		}
		a.pausedByUs[from] = prior
		if prior != nil && prior.Paused {
			continue // already stopped by its operator
		}
		if err := a.ctl.PutTarget(ctx, from, control.Target{Paused: true, By: a.args.By}); err != nil {
			return err
		}
		stop = append(stop, from)
		if c.Before != nil && c.Before.Pipeline != nil {
			tasks[from] = max(c.Before.Pipeline.Tasks, 1)
		}
	}
	if len(stop) > 0 {
		a.hooks.Info(fmt.Sprintf("Pausing %s to hand over offsets...", strings.Join(stop, ", ")))
		if err := a.waitStopped(ctx, stop, true, tasks); err != nil {
			return err
		}
	}
	for _, c := range pending {
		if c.IsTopic() || !c.Moved() || c.Action == plan.Replace || c.Action == plan.Delete {
			continue
		}
		if prior := a.pausedByUs[c.PrevAddress]; prior != nil && prior.Paused {
			if err := a.ctl.PutTarget(ctx, c.Address, *prior); err != nil {
				return err
			}
		}
		var n int
		var err error
		switch kind := c.PipelineKind(); kind {
		case configschema.Source:
			n, err = a.ctl.CopyOffsets(ctx, c.PrevAddress, c.Address)
		case configschema.Sink:
			n, err = a.ctl.CopyGroupOffsets(ctx, a.ctl.SinkGroup(c.PrevAddress), a.ctl.SinkGroup(c.Address))
		default:
			err = kindError(kind)
		}
		if err != nil {
			return fmt.Errorf("%s: move offsets from %s: %w", c.Address, c.PrevAddress, err)
		}
		unit := "partitions"
		if n == 1 {
			unit = "partition"
		}
		a.hooks.Info(fmt.Sprintf("%s: offsets of %d %s moved from %s", c.Address, n, unit, c.PrevAddress))
	}
	return nil
}

// restore undoes the pauses of handOver after an apply that did not commit.
func (a *applier) restore(pending []*plan.Change) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for addr, prior := range a.pausedByUs {
		var err error
		if prior != nil {
			err = a.ctl.PutTarget(ctx, addr, *prior)
		} else {
			err = a.ctl.ClearTarget(ctx, addr)
		}
		if err != nil {
			a.hooks.Warn(fmt.Sprintf("%s stays paused: apply paused it and cannot resume it (%v); run \"pipectl resume %s\".", addr, err, addr))
		}
	}
	for _, c := range pending {
		if !c.IsTopic() && c.Moved() {
			if prior := a.pausedByUs[c.PrevAddress]; prior != nil && prior.Paused {
				_ = a.ctl.ClearTarget(ctx, c.Address)
			}
		}
	}
}

// afterCommit deletes what the committed state no longer has: topics,
// the offsets of deleted and replaced pipelines, and the old offsets of
// moved ones.
func (a *applier) afterCommit(ctx context.Context, pending []*plan.Change) error {
	var errs []error
	// Deleted pipelines stop once the workers see the commit; their
	// offsets go after that.
	var deleted []string
	for _, c := range pending {
		if !c.IsTopic() && c.Action == plan.Delete {
			deleted = append(deleted, c.Address)
		}
	}
	stopped := true
	if len(deleted) > 0 {
		if err := a.waitStopped(ctx, deleted, false, nil); err != nil {
			a.hooks.Warn(fmt.Sprintf("Offsets of deleted pipelines were kept: %v.", err))
			stopped = false
		}
	}
	for _, c := range pending {
		if c.IsTopic() {
			continue
		}
		switch {
		case c.Action == plan.Delete && stopped:
			errs = append(errs, a.dropOffsets(ctx, c.PipelineKind(), c.Address))
			errs = append(errs, a.ctl.ClearTarget(ctx, c.Address))
		case c.Action == plan.Replace:
			if c.Moved() {
				errs = append(errs, a.dropOffsets(ctx, c.PipelineKind(), c.PrevAddress))
			}
			errs = append(errs, a.dropOffsets(ctx, c.PipelineKind(), c.Address))
			errs = append(errs, a.resetCounts(ctx, c))
			a.hooks.Info(fmt.Sprintf("%s: offsets reset", c.Address))
		case c.Moved():
			errs = append(errs, a.dropOffsets(ctx, c.PipelineKind(), c.PrevAddress))
		}
	}
	// Resume what handOver paused: the new pipelines start now.
	for addr, prior := range a.pausedByUs {
		moved := true
		for _, c := range pending {
			if c.Address == addr && !c.Moved() {
				moved = false
			}
		}
		switch {
		case moved:
			errs = append(errs, a.ctl.ClearTarget(ctx, addr))
		case prior != nil:
			errs = append(errs, a.ctl.PutTarget(ctx, addr, *prior))
		default:
			errs = append(errs, a.ctl.ClearTarget(ctx, addr))
		}
	}
	for _, c := range pending {
		if !c.IsTopic() {
			continue
		}
		switch {
		case c.Action == plan.Delete && c.Before != nil:
			errs = append(errs, a.op(c.Address, plan.OpDestroy, c.Before.Topic.Name, func() error { return a.deleteTopic(ctx, c.Before.Topic.Name, false) }))
		case c.Action == plan.Replace && c.Before.Topic.Name != c.After.Topic.Name:
			errs = append(errs, a.op(c.Address, plan.OpDestroy, c.Before.Topic.Name, func() error { return a.deleteTopic(ctx, c.Before.Topic.Name, false) }))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the state was committed, but cleaning up after it failed: %w", err)
	}
	return nil
}

// dropOffsets deletes a pipeline's offsets: a source's saved offsets, a
// sink's consumer group. The pipeline has stopped: its sink consumers,
// static members that do not leave when they close, are removed first.
func (a *applier) dropOffsets(ctx context.Context, kind configschema.Kind, addr string) error {
	switch kind {
	case configschema.Source:
		return a.ctl.DeleteOffsets(ctx, addr)
	case configschema.Sink: // below
	default:
		return fmt.Errorf("%s: %w", addr, kindError(kind))
	}
	group := a.ctl.SinkGroup(addr)
	deadline := time.Now().Add(a.timeout())
	for {
		err := a.ctl.DeleteGroup(ctx, group)
		if !errors.Is(err, control.ErrGroupActive) || time.Now().After(deadline) {
			return err
		}
		if _, err := a.ctl.RemoveStaticMembers(ctx, group); err != nil {
			return err
		}
		// A member that is not static is still leaving.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitStatus watches the status topic until cond holds, fails, or the
// timeout passes.
func (a *applier) waitStatus(ctx context.Context, cond func(*control.StatusView) (bool, error)) (bool, error) {
	wctx, cancel := context.WithTimeout(ctx, a.timeout())
	defer cancel()
	var done bool
	var result error
	err := a.ctl.WatchStatus(wctx, func(v *control.StatusView) {
		if done {
			return
		}
		ok, err := cond(v)
		if ok || err != nil {
			done, result = true, err
			cancel()
		}
	})
	if done {
		return true, result
	}
	if err != nil {
		return false, err
	}
	return false, ctx.Err()
}

// waitStopped waits until no task of the pipelines runs.
//
// For pipelines apply paused (paused), a task has stopped when it reports
// PAUSED, which a worker writes only once it has seen the pause and its
// task has flushed its offsets; tasks counts each pipeline's tasks (status
// records of higher task numbers are left over from an older
// configuration). Another state than RUNNING (UNASSIGNED, FAILED) may be
// one a worker wrote before it saw the pause, in a rebalance or before an
// automatic restart, and the task may run again before it stops: it
// counts only when no worker is in the fleet's group to run it. A worker
// that starts later reads the pause before it starts anything. For
// deleted pipelines, which no worker pauses, anything but RUNNING counts.
func (a *applier) waitStopped(ctx context.Context, addrs []string, paused bool, tasks map[string]int) error {
	var left []string
	ok, err := a.waitStatus(ctx, func(v *control.StatusView) (bool, error) {
		left = left[:0]
		var unsure []string
		for _, addr := range addrs {
			for id, ts := range v.Tasks[addr] {
				if n, ok := tasks[addr]; ok && id >= n {
					continue
				}
				switch {
				case ts.State == control.Running || ts.Starting:
					left = append(left, fmt.Sprintf("%s (task %d %s on worker %s)", addr, id, runningWord(ts), ts.WorkerID))
				case paused && ts.State != control.Paused:
					unsure = append(unsure, fmt.Sprintf("%s (task %d %s, not yet PAUSED by a worker of the fleet)", addr, id, ts.State))
				}
			}
		}
		if len(left) == 0 && len(unsure) > 0 {
			live, err := a.ctl.LiveWorkers(ctx)
			if err != nil || live == 0 {
				return err == nil, err
			}
		}
		left = append(left, unsure...)
		return len(left) == 0, nil
	})
	if err != nil {
		return err
	}
	if !ok {
		sort.Strings(left)
		return &TimeoutError{What: "stop", Addresses: left, Timeout: a.timeout()}
	}
	return nil
}

// waitRunning waits until every task of the pipelines the plan creates,
// updates, replaces or moves reports RUNNING at the new serial (or later),
// and fails with the trace of the first that fails.
func (a *applier) waitRunning(ctx context.Context, pending []*plan.Change, serial int64) error {
	type want struct {
		addr  string
		tasks int
		since time.Time
		done  bool
	}
	var wants []*want
	for _, c := range pending {
		if c.IsTopic() || c.Action == plan.Delete || c.After == nil || c.After.Pipeline == nil {
			continue
		}
		switch {
		case c.After.Pipeline.Stopped:
			a.hooks.Info(fmt.Sprintf("%s is deployed stopped (state = \"stopped\")", c.Address))
			continue
		case c.After.Pipeline.Paused:
			a.hooks.Info(fmt.Sprintf("%s is deployed paused (state = \"paused\")", c.Address))
			continue
		}
		from := c.Address
		if c.Moved() {
			from = c.PrevAddress
		}
		if t, ok := a.status.Targets[from]; ok && t.Paused {
			word, what := "paused", "pause"
			if t.Stopped {
				word, what = "stopped", "stop"
			}
			a.hooks.Info(fmt.Sprintf("%s stays %s (operational %s); \"pipectl resume %s\" resumes it", c.Address, word, what, c.Address))
			continue
		}
		w := &want{addr: c.Address, tasks: max(c.After.Pipeline.Tasks, 1), since: time.Now()}
		wants = append(wants, w)
		a.hooks.Waiting(w.addr, w.tasks)
	}
	if len(wants) == 0 {
		return nil
	}
	var left []string
	ok, err := a.waitStatus(ctx, func(v *control.StatusView) (bool, error) {
		left = left[:0]
		for _, w := range wants {
			if w.done {
				continue
			}
			running := 0
			state := "no status yet"
			for id := range w.tasks {
				ts, ok := v.Tasks[w.addr][id]
				if !ok || ts.Serial < serial {
					continue
				}
				if p := a.taskProblem(w.addr, id, ts); p != "" {
					state = p
				}
				switch ts.State {
				case control.Failed:
					return false, &PipelineError{Address: w.addr, Task: id, Worker: ts.WorkerID, Trace: ts.Trace}
				case control.Running:
					running++
				default:
					if !ts.Starting {
						state = string(ts.State)
					}
				}
			}
			if running == w.tasks {
				w.done = true
				a.hooks.Running(w.addr, w.tasks, time.Since(w.since))
				continue
			}
			left = append(left, fmt.Sprintf("%s (%d of %d tasks RUNNING, %s)", w.addr, running, w.tasks, state))
		}
		return len(left) == 0, nil
	})
	if err != nil {
		return err
	}
	if !ok {
		return &TimeoutError{What: "run", Addresses: left, Timeout: a.timeout()}
	}
	return nil
}

// kindError is the error of a pipeline change whose kind is neither source
// nor sink.
func kindError(kind configschema.Kind) error {
	return fmt.Errorf("the pipeline kind %q is neither %s nor %s", kind, configschema.Source, configschema.Sink)
}
