package kafka

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Checkpoints are MirrorMaker 2's MirrorCheckpointConnector: every
// checkpoint_interval, each mirror task reads the committed offsets of the
// origin's consumer groups (groups or groups_regex) on the partitions it
// mirrors, translates them with its offset syncs, and writes them to the
// compacted checkpoints topic of the fleet's cluster, which a failover
// (pipectl mirror failover) reads when the origin is gone. With
// sync_group_offsets it also commits them as the group's offsets in the
// fleet's cluster while the group has no member there, never moving a
// group back (MM2's sync.group.offsets.enabled).

// Checkpoint is a group's offset on one partition of the origin, translated
// into the fleet's cluster.
type Checkpoint struct {
	Group       string    `json:"group"`
	Topic       string    `json:"topic"` // in the fleet's cluster
	Partition   int32     `json:"partition"`
	SourceTopic string    `json:"source_topic"`
	Upstream    int64     `json:"upstream"`   // the group's offset on the origin
	Downstream  int64     `json:"downstream"` // translated: where the group resumes on the target
	Metadata    string    `json:"metadata,omitempty"`
	Time        time.Time `json:"time"` // when it was taken
}

// checkpointKey is a checkpoint record's key: one per group and partition
// of the fleet's cluster.
type checkpointKey struct {
	Group     string `json:"group"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

type checkpointer struct {
	origin     *kadm.Client // the origin, through the mirror's consuming client
	fleet      *kgo.Client  // the fleet's cluster (the syncer's client)
	topic      string
	groups     []string
	re         *regexp.Regexp
	every      time.Duration
	syncGroups bool
	next       time.Time
	log        *slog.Logger
}

func newCheckpointer(ctx context.Context, origin, fleet *kgo.Client, topic string, cfg SourceConfig, log *slog.Logger) (*checkpointer, error) {
	c := &checkpointer{origin: kadm.NewClient(origin), fleet: fleet, topic: topic, groups: cfg.Groups,
		every: cfg.CheckpointInterval, syncGroups: cfg.SyncGroupOffsets, log: log}
	if cfg.GroupsRegex != "" {
		re, err := regexp.Compile("^(?:" + cfg.GroupsRegex + ")$")
		if err != nil {
			return nil, fmt.Errorf("groups_regex: %w", err)
		}
		c.re = re
	}
	if c.every <= 0 {
		c.every = time.Minute
	}
	c.next = time.Now().Add(c.every)
	if err := ensureCompacted(ctx, fleet, topic); err != nil {
		return nil, fmt.Errorf("creating the checkpoints topic %s: %w", topic, err)
	}
	return c, nil
}

// due reports whether a checkpoint should be taken now.
func (c *checkpointer) due(now time.Time) bool { return !now.Before(c.next) }

// run takes one checkpoint of the groups on the partitions of mine, with
// the syncs of history, and returns what it wrote.
func (c *checkpointer) run(ctx context.Context, mine map[string]map[int32]map[string]any, history map[syncKey]*syncHistory) ([]Checkpoint, error) {
	c.next = time.Now().Add(c.every)
	groups, err := c.listGroups(ctx)
	if err != nil || len(groups) == 0 {
		return nil, err
	}
	fetched := c.origin.FetchManyOffsets(ctx, groups...)
	now := time.Now()
	var out []Checkpoint
	floors := map[syncKey]int64{}
	for _, g := range slices.Sorted(maps.Keys(fetched)) {
		resp := fetched[g]
		if resp.Err != nil {
			if !errors.Is(resp.Err, kerr.GroupIDNotFound) {
				c.log.Warn("reading a group's offsets on the origin failed", "group", g, "error", resp.Err)
			}
			continue
		}
		resp.Fetched.Each(func(o kadm.OffsetResponse) {
			if o.Err != nil || o.At < 0 {
				return
			}
			if _, ok := mine[o.Topic][o.Partition]; !ok {
				return
			}
			k := syncKey{Topic: o.Topic, Partition: o.Partition}
			if f, ok := floors[k]; !ok || o.At < f {
				floors[k] = o.At
			}
			h := history[k]
			if h == nil {
				return
			}
			d, ok := h.translate(o.At)
			if !ok {
				c.log.Debug("a group's offset is older than every offset sync: no checkpoint", "group", g, "topic", o.Topic, "partition", o.Partition, "offset", o.At)
				return
			}
			out = append(out, Checkpoint{Group: g, Topic: h.topic, Partition: h.partition, SourceTopic: o.Topic,
				Upstream: o.At, Downstream: d, Metadata: o.Metadata, Time: now})
		})
	}
	for k, h := range history {
		h.floor = -1
		if f, ok := floors[k]; ok {
			h.floor = f
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	recs := make([]*kgo.Record, len(out))
	for i, cp := range out {
		key, _ := json.Marshal(checkpointKey{Group: cp.Group, Topic: cp.Topic, Partition: cp.Partition})
		value, _ := json.Marshal(cp)
		recs[i] = &kgo.Record{Topic: c.topic, Key: key, Value: value, Timestamp: now}
	}
	if err := c.fleet.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return nil, classify(fmt.Errorf("writing checkpoints to %s: %w", c.topic, err))
	}
	if c.syncGroups {
		if err := CommitCheckpoints(ctx, kadm.NewClient(c.fleet), out, false); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *checkpointer) listGroups(ctx context.Context) ([]string, error) {
	if c.re == nil {
		return c.groups, nil
	}
	listed, err := c.origin.ListGroups(ctx)
	if err != nil {
		return nil, classify(fmt.Errorf("listing the origin's groups: %w", err))
	}
	var groups []string
	for g := range listed {
		if c.re.MatchString(g) {
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	return groups, nil
}

// ErrGroupActive is returned for a group that has members in the fleet's
// cluster: its offsets are not moved under its consumers' feet.
var ErrGroupActive = errors.New("the group has members in the fleet's cluster")

// GroupStates returns the state of each group in the fleet's cluster
// (Empty, Stable, Dead for none …) and its committed offsets.
func GroupStates(ctx context.Context, adm *kadm.Client, groups []string) (map[string]string, map[checkpointKey]int64, error) {
	described, err := adm.DescribeGroups(ctx, groups...)
	if err != nil {
		return nil, nil, classify(fmt.Errorf("describing groups: %w", err))
	}
	states := map[string]string{}
	for _, g := range groups {
		d, ok := described[g]
		switch {
		case !ok, errors.Is(d.Err, kerr.GroupIDNotFound):
			states[g] = "Dead"
		case d.Err != nil:
			return nil, nil, classify(fmt.Errorf("describing group %s: %w", g, d.Err))
		default:
			states[g] = d.State
		}
	}
	committed := map[checkpointKey]int64{}
	for g, resp := range adm.FetchManyOffsets(ctx, groups...) {
		if resp.Err != nil {
			if errors.Is(resp.Err, kerr.GroupIDNotFound) {
				continue
			}
			return nil, nil, classify(fmt.Errorf("reading the offsets of group %s: %w", g, resp.Err))
		}
		resp.Fetched.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil {
				committed[checkpointKey{Group: g, Topic: o.Topic, Partition: o.Partition}] = o.At
			}
		})
	}
	return states, committed, nil
}

// inactive reports whether a group in that state may have its offsets
// committed by someone else than its members.
func inactive(state string) bool { return state == "Empty" || state == "Dead" }

// CommitCheckpoints commits the checkpoints as their groups' offsets in the
// fleet's cluster, for the groups that have no member there, and only where
// it moves a group forward (or it has no offset). strict makes an active
// group an error (ErrGroupActive) instead of a group left alone.
func CommitCheckpoints(ctx context.Context, adm *kadm.Client, cps []Checkpoint, strict bool) error {
	byGroup := map[string]kadm.Offsets{}
	for _, cp := range cps {
		if byGroup[cp.Group] == nil {
			byGroup[cp.Group] = kadm.Offsets{}
		}
		offs := byGroup[cp.Group]
		offs.Add(kadm.Offset{Topic: cp.Topic, Partition: cp.Partition, At: cp.Downstream, LeaderEpoch: -1, Metadata: cp.Metadata})
	}
	groups := slices.Sorted(maps.Keys(byGroup))
	states, committed, err := GroupStates(ctx, adm, groups)
	if err != nil {
		return err
	}
	var errs []error
	for _, g := range groups {
		if !inactive(states[g]) {
			if strict {
				errs = append(errs, fmt.Errorf("group %s is %s: %w", g, states[g], ErrGroupActive))
			}
			continue
		}
		offsets := kadm.Offsets{}
		byGroup[g].Each(func(o kadm.Offset) {
			if at, ok := committed[checkpointKey{Group: g, Topic: o.Topic, Partition: o.Partition}]; ok && at >= o.At {
				return
			}
			offsets.Add(o)
		})
		if len(offsets) == 0 {
			continue
		}
		resp, err := adm.CommitOffsets(ctx, g, offsets)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("committing the offsets of group %s: %w", g, classify(err)))
		}
	}
	return errors.Join(errs...)
}

// ReadCheckpoints returns the latest checkpoint of every group and
// partition in a mirror's checkpoints topic (CheckpointsTopic), of the
// given groups (every group when none is given), sorted by group, topic
// and partition.
func ReadCheckpoints(ctx context.Context, cl *kgo.Client, topic string, groups []string) ([]Checkpoint, error) {
	recs, err := readCompacted(ctx, cl, topic)
	if err != nil {
		return nil, err
	}
	latest := map[checkpointKey]Checkpoint{}
	for _, r := range recs {
		var cp Checkpoint
		if json.Unmarshal(r.Value, &cp) != nil || cp.Group == "" {
			continue
		}
		if len(groups) > 0 && !slices.Contains(groups, cp.Group) {
			continue
		}
		latest[checkpointKey{Group: cp.Group, Topic: cp.Topic, Partition: cp.Partition}] = cp
	}
	out := slices.Collect(maps.Values(latest))
	slices.SortFunc(out, func(a, b Checkpoint) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out, nil
}

// Failover actions: what CommitCheckpoints does with a checkpoint.
const (
	FailoverCommit = "commit" // the group moves to the checkpoint
	FailoverKeep   = "keep"   // the group is there or further already
	FailoverRefuse = "refuse" // the group has members in the fleet's cluster
)

// FailoverPartition is a checkpoint and what a failover does with it.
type FailoverPartition struct {
	Checkpoint
	State   string // the group's state in the fleet's cluster (Dead: none)
	Current int64  // the group's offset there now; -1 when it has none
	Action  string // FailoverCommit, FailoverKeep or FailoverRefuse
}

// PlanFailover says, for each checkpoint, what CommitCheckpoints with
// strict would do, and from what.
func PlanFailover(ctx context.Context, adm *kadm.Client, cps []Checkpoint) ([]FailoverPartition, error) {
	var groups []string
	for _, cp := range cps {
		if !slices.Contains(groups, cp.Group) {
			groups = append(groups, cp.Group)
		}
	}
	states, committed, err := GroupStates(ctx, adm, groups)
	if err != nil {
		return nil, err
	}
	out := make([]FailoverPartition, len(cps))
	for i, cp := range cps {
		fp := FailoverPartition{Checkpoint: cp, State: states[cp.Group], Current: -1, Action: FailoverCommit}
		if at, ok := committed[checkpointKey{Group: cp.Group, Topic: cp.Topic, Partition: cp.Partition}]; ok {
			fp.Current = at
		}
		switch {
		case !inactive(fp.State):
			fp.Action = FailoverRefuse
		case fp.Current >= cp.Downstream:
			fp.Action = FailoverKeep
		}
		out[i] = fp
	}
	return out, nil
}
