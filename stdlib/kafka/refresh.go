package kafka

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// taskOf returns the task that consumes partition of topic: the topic's
// FNV-1a hash, plus the partition, modulo the tasks. A partition's task
// depends on nothing but its topic, its number and the task count, so
// topics and partitions added at run time never move a partition that is
// already assigned; within a topic, consecutive partitions go to
// consecutive tasks, so a topic's partitions are dealt as evenly as they
// can be (the counts of two tasks differ by at most one).
//
// Moving a partition to another task, when the task count changes or
// after an upgrade from another assignment, loses nothing: source offsets
// are saved in the fleet's offsets topic keyed by the SourcePartition
// {"topic": t, "partition": p} of the pipeline, not of the task, and each
// task loads the whole pipeline's offsets, so any task resumes any
// partition where the last one stopped.
func taskOf(topic string, partition int32, tasks int) int {
	if tasks <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(topic))
	return int((h.Sum32() + uint32(partition)) % uint32(tasks))
}

// savedOffset returns where partition sp starts: its saved SourceOffset
// {"offset": next}, else start.
func savedOffset(offset func(map[string]any) map[string]any, sp map[string]any, start kgo.Offset) (kgo.Offset, error) {
	if offset == nil {
		return start, nil
	}
	saved := offset(sp)
	if saved == nil {
		return start, nil
	}
	next, ok := configschema.AsInt64(saved["offset"])
	if !ok {
		return start, fmt.Errorf("saved offset %v of %s/%v has no integer offset", saved, sp["topic"], sp["partition"])
	}
	return kgo.NewOffset().At(next), nil
}

// refresher follows the origin cluster from Poll, as MirrorMaker 2 does
// with refresh.topics.interval: every refresh_interval it lists the
// origin's topics again and
//
//   - makes the target topics match: a missing one is created with the
//     origin's partition count (and its configs), one with fewer partitions
//     grows (CreatePartitions), so that no record is produced to a
//     partition the target lacks;
//   - adds to the task's consumer the new partitions (of new topics that
//     match topics_regex, or of grown topics) that taskOf gives the task;
//   - on task 0, copies the origin's topic configs that changed
//     (sync_topic_configs).
//
// Every task makes sure of the target topics of the partitions it adds, so
// that none waits for task 0; creation and growth tolerate another task
// doing the same at once. Partitions found by a refresh start at their
// beginning whatever start_from says: they appeared while the mirror ran,
// so all their records are new. It needs the fleet's cluster
// (TaskContext.Cluster) for the target side; without it there is no
// refresh and topics are resolved at Open only.
type refresher struct {
	every time.Duration
	next  time.Time

	origin *kadm.Client // the cluster mirrored
	target *kadm.Client // the fleet's cluster
	owned  []*kgo.Client

	topics []string       // listed topics, or nil with re
	re     *regexp.Regexp // topics_regex, anchored
	same   bool           // origin is the fleet's cluster: skipTargets
	fixed  string
	prefix string
	repl   *replication // names the targets, leaves out what came from the fleet (policy.go)

	task, tasks int
	offset      func(map[string]any) map[string]any

	sync    bool
	exclude []*regexp.Regexp
	synced  map[string]map[string]string // target topic → configs last copied

	acls       bool                // sync_topic_acls (acls.go)
	aclsCopied map[aclBinding]bool // by this task

	counts map[string]int32 // origin partitions seen, by source topic
}

// refreshDefaultExclude is the default of topic_configs_exclude:
// MirrorMaker 2's DefaultConfigPropertyFilter, the configs that belong to
// the cluster (throttles, replicas, timestamps policy), not to the data.
var refreshDefaultExclude = []string{
	"follower\\.replication\\.throttled\\.replicas",
	"leader\\.replication\\.throttled\\.replicas",
	"message\\.timestamp\\.difference\\.max\\.ms",
	"message\\.timestamp\\.type",
	"unclean\\.leader\\.election\\.enable",
	"min\\.insync\\.replicas",
}

// refreshAttributes are the attributes of source "kafka" about following
// the origin at run time.
func refreshAttributes() []configschema.Attribute {
	return []configschema.Attribute{
		{Name: "refresh_interval", Type: configschema.Duration, Default: "1m", MinDuration: "10ms", Description: "How often each task lists the source cluster's topics again (MirrorMaker 2's refresh.topics.interval): new topics that match topics_regex and new partitions of mirrored topics are then mirrored without an apply, from their first record, and the target topics grow to the source's partition count first."},
		{Name: "sync_topic_configs", Type: configschema.Bool, Default: false, Description: "Copy the configs set on each source topic (not the defaults) to its target topic: when the target is created and, at each refresh, when they changed; configs no longer set on the source topic are removed from the target (at a task's first refresh, every config set on the target topic that the source topic lacks, but the excluded ones). Not with topic, where several source topics share one target. Off by default (MirrorMaker 2's is on): a target topic that a topic block declares keeps the configs the configuration gives it, and an upgrade changes no topic."},
		{Name: "sync_topic_acls", Type: configschema.Bool, Default: false, Description: "Copy the ACLs that allow access to each source topic (LITERAL, on its own name) to its target topic at each refresh, as MirrorMaker 2's sync.topic.acls: WRITE is left out and ALL becomes READ, so that the copy's consumers can read it and only the mirror writes it. ACLs are never removed. Needs DESCRIBE on the source cluster and ALTER on the fleet's; not with topic. Off by default (MirrorMaker 2's is on): it changes the security of the fleet's cluster."},
		{Name: "topic_configs_exclude", Type: configschema.ListOfString, Regexp: true, Default: slices.Clone(refreshDefaultExclude), Description: "Regular expressions (RE2, each matching a whole config name) of the topic configs never copied; by default MirrorMaker 2's: the replication throttles, message.timestamp.difference.max.ms, message.timestamp.type, unclean.leader.election.enable and min.insync.replicas."},
	}
}

// newRefresher returns the refresher of a task, or nil when the task has
// no fleet cluster to manage target topics on.
func newRefresher(cfg SourceConfig, origin []kgo.Opt, tc *connector.TaskContext, counts map[string]int32, repl *replication) (*refresher, error) {
	if tc.Cluster == nil || len(tc.Cluster.Brokers) == 0 {
		return nil, nil
	}
	fleet, err := fleetOpts(tc.Cluster)
	if err != nil {
		return nil, err
	}
	r := &refresher{
		every: cfg.RefreshInterval, topics: cfg.Topics, same: len(cfg.Brokers) == 0,
		fixed: cfg.Topic, prefix: cfg.TopicPrefix, repl: repl,
		task: tc.Task, tasks: max(tc.Tasks, 1), offset: tc.Offset,
		sync:   cfg.SyncTopicConfigs && cfg.Topic == "",
		synced: map[string]map[string]string{},
		acls:   cfg.SyncTopicACLs && cfg.Topic == "", aclsCopied: map[aclBinding]bool{},
		counts: maps.Clone(counts),
	}
	if r.every <= 0 {
		r.every = time.Minute
	}
	if cfg.TopicsRegex != "" {
		if r.re, err = regexp.Compile("^(?:" + cfg.TopicsRegex + ")$"); err != nil {
			return nil, fmt.Errorf("topics_regex: %w", err)
		}
	}
	for _, x := range cfg.TopicConfigsExclude {
		re, err := regexp.Compile("^(?:" + x + ")$")
		if err != nil {
			return nil, fmt.Errorf("topic_configs_exclude: %w", err)
		}
		r.exclude = append(r.exclude, re)
	}
	// kadm answers ListTopics from metadata up to MetadataMinAge old
	// (5s by default): a refresh must see the topics as they are.
	fresh := kgo.MetadataMinAge(10 * time.Millisecond)
	ocl, err := kgo.NewClient(append(slices.Clip(origin), fresh)...)
	if err != nil {
		return nil, err
	}
	tcl, err := kgo.NewClient(append(fleet, fresh)...)
	if err != nil {
		ocl.Close()
		return nil, err
	}
	r.origin, r.target, r.owned = kadm.NewClient(ocl), kadm.NewClient(tcl), []*kgo.Client{ocl, tcl}
	return r, nil
}

func (r *refresher) close() {
	if r == nil {
		return
	}
	for _, cl := range r.owned {
		cl.Close()
	}
	r.owned = nil
}

// targetName is the fleet topic of source topic t, by the rule of Open
// (the replication policy's).
func (r *refresher) targetName(t string) string { return r.repl.topic(t) }

// refresh runs a refresh when one is due. Failures are logged and tried
// again at the next refresh: the partitions already assigned keep being
// mirrored, and a partition is added only once its target exists.
func (s *mirror) refresh(ctx context.Context) error {
	r := s.r
	if r == nil || time.Now().Before(r.next) {
		return nil
	}
	err := s.refreshNow(ctx)
	r.next = time.Now().Add(r.every)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("refreshing the topics of the source cluster; trying again at the next refresh", "error", err, "refresh_interval", r.every)
	}
	return nil
}

func (s *mirror) refreshNow(ctx context.Context) error {
	r := s.r
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	counts, err := r.list(ctx)
	if err != nil {
		return err
	}

	// Partitions the origin has that were not seen before, and the
	// topics they belong to.
	var changed []string
	mine := map[string][]int32{}
	for _, t := range slices.Sorted(maps.Keys(counts)) {
		old := r.counts[t]
		if counts[t] <= old {
			continue
		}
		changed = append(changed, t)
		for p := old; p < counts[t]; p++ {
			if taskOf(t, p, r.tasks) == r.task {
				mine[t] = append(mine[t], p)
			}
		}
	}

	// Task 0 looks after every target topic; the others after those of
	// their new partitions.
	var errs []error
	ensure := changed
	if r.task != 0 {
		ensure = slices.DeleteFunc(slices.Clone(changed), func(t string) bool { return len(mine[t]) == 0 })
	}
	var configs map[string]map[string]string
	if r.sync && (r.task == 0 || len(ensure) > 0) {
		names := slices.Sorted(maps.Keys(counts))
		if r.task != 0 {
			names = ensure
		}
		if configs, err = r.originConfigs(ctx, names); err != nil {
			errs = append(errs, err)
		}
	}
	ready := map[string]bool{}
	for t, err := range r.ensureTargets(ctx, ensure, counts, configs) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ready[t] = true
	}
	if r.sync && r.task == 0 {
		errs = append(errs, r.syncConfigs(ctx, configs)...)
	}
	if r.acls && r.task == 0 {
		if err := r.syncACLs(ctx, slices.Sorted(maps.Keys(counts))); err != nil {
			errs = append(errs, err)
		}
	}

	// Add the partitions whose target is ready; the others are tried
	// again at the next refresh.
	assign := map[string]map[int32]kgo.Offset{}
	for t, ps := range mine {
		if !ready[t] {
			continue
		}
		if s.target[t] == "" {
			s.target[t] = r.targetName(t)
		}
		if s.partitions[t] == nil {
			s.partitions[t] = map[int32]map[string]any{}
		}
		for _, p := range ps {
			sp := map[string]any{"topic": t, "partition": int64(p)}
			at, err := savedOffset(r.offset, sp, kgo.NewOffset().AtStart())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if assign[t] == nil {
				assign[t] = map[int32]kgo.Offset{}
			}
			assign[t][p] = at
			s.partitions[t][p] = sp
		}
	}
	for _, t := range changed {
		if r.task != 0 && len(mine[t]) == 0 {
			r.counts[t] = counts[t] // nothing of this task to add
			continue
		}
		if ready[t] {
			r.counts[t] = counts[t]
		}
	}
	if len(assign) > 0 {
		s.cl.AddConsumePartitions(assign)
		n := 0
		for _, ps := range assign {
			n += len(ps)
		}
		s.log.Info("mirroring new partitions", "partitions", n, "topics", slices.Sorted(maps.Keys(assign)))
	}
	return errors.Join(errs...)
}

// list returns the partition count of each topic of the origin to mirror
// now. A listed topic that went away is left out (its partitions stay
// assigned).
func (r *refresher) list(ctx context.Context) (map[string]int32, error) {
	details, err := r.origin.ListTopics(ctx, r.topics...)
	if err != nil {
		return nil, classify(fmt.Errorf("listing the topics of the source cluster: %w", err))
	}
	counts := map[string]int32{}
	for name, d := range details {
		if d.Err != nil || len(d.Partitions) == 0 || r.re != nil && (d.IsInternal || mirrorInternal(name) || !r.re.MatchString(name)) {
			continue
		}
		counts[name] = int32(len(d.Partitions))
	}
	if r.same && r.re != nil {
		skipTargets(counts, r.fixed, r.prefix)
	}
	r.repl.leaveOut(counts)
	return counts, nil
}

// ensureTargets makes the target topic of each source topic exist with
// at least its partition count (the largest one when several go to one
// fixed topic), creating a missing one with configs[t]. It returns the
// outcome of each source topic.
func (r *refresher) ensureTargets(ctx context.Context, topics []string, counts map[string]int32, configs map[string]map[string]string) map[string]error {
	out := map[string]error{}
	if len(topics) == 0 {
		return out
	}
	want := map[string]int32{}
	source := map[string]string{} // target → a source topic, for its configs
	for _, t := range topics {
		name := r.targetName(t)
		want[name] = max(want[name], counts[t])
		if _, ok := source[name]; !ok {
			source[name] = t
		}
	}
	names := slices.Sorted(maps.Keys(want))
	done := map[string]error{}
	details, err := r.target.ListTopics(ctx, names...)
	if err != nil {
		err = classify(fmt.Errorf("listing the target topics: %w", err))
		for _, t := range topics {
			out[t] = err
		}
		return out
	}
	for _, name := range names {
		d, ok := details[name]
		switch {
		case ok && d.Err == nil && int32(len(d.Partitions)) >= want[name]:
			done[name] = nil
		case ok && d.Err == nil:
			done[name] = r.grow(ctx, name, want[name])
		case ok && !errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			done[name] = fmt.Errorf("target topic %q: %w", name, d.Err)
		default:
			done[name] = r.create(ctx, name, want[name], configs[source[name]])
		}
	}
	for _, t := range topics {
		out[t] = done[r.targetName(t)]
	}
	return out
}

// create creates target topic name with partitions and configs; a topic
// another task created meanwhile is grown if it has to be.
func (r *refresher) create(ctx context.Context, name string, partitions int32, configs map[string]string) error {
	var cfg map[string]*string
	if len(configs) > 0 {
		cfg = map[string]*string{}
		for k, v := range configs {
			cfg[k] = kadm.StringPtr(v)
		}
	}
	_, err := r.target.CreateTopic(ctx, partitions, -1, cfg, name)
	if errors.Is(err, kerr.TopicAlreadyExists) {
		return r.grow(ctx, name, partitions)
	}
	if err != nil {
		return classify(fmt.Errorf("creating target topic %q: %w", name, err))
	}
	return nil
}

// grow gives target topic name at least partitions partitions. Another
// task may grow it at the same time: a refusal is checked against the
// count the topic has then.
func (r *refresher) grow(ctx context.Context, name string, partitions int32) error {
	resp, err := r.target.UpdatePartitions(ctx, int(partitions), name)
	if err == nil {
		err = resp[name].Err
	}
	if err == nil {
		return nil
	}
	details, lerr := r.target.ListTopics(ctx, name)
	if lerr == nil {
		if d, ok := details[name]; ok && d.Err == nil && int32(len(d.Partitions)) >= partitions {
			return nil
		}
	}
	return classify(fmt.Errorf("adding partitions to target topic %q (%d wanted): %w", name, partitions, err))
}

// originConfigs returns the configs to copy of each source topic: those
// set on the topic itself (DYNAMIC_TOPIC_CONFIG), not sensitive, not
// excluded.
func (r *refresher) originConfigs(ctx context.Context, topics []string) (map[string]map[string]string, error) {
	if len(topics) == 0 {
		return nil, nil
	}
	rcs, err := r.origin.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return nil, classify(fmt.Errorf("describing the configs of the source topics: %w", err))
	}
	out := map[string]map[string]string{}
	var errs []error
	for _, rc := range rcs {
		if rc.Err != nil {
			if !errors.Is(rc.Err, kerr.UnknownTopicOrPartition) {
				errs = append(errs, fmt.Errorf("configs of source topic %q: %w", rc.Name, rc.Err))
			}
			continue
		}
		m := map[string]string{}
		for _, c := range rc.Configs {
			if c.Source != kmsg.ConfigSourceDynamicTopicConfig || c.Sensitive || c.Value == nil || r.excluded(c.Key) {
				continue
			}
			m[c.Key] = *c.Value
		}
		out[rc.Name] = m
	}
	return out, errors.Join(errs...)
}

func (r *refresher) excluded(key string) bool {
	return slices.ContainsFunc(r.exclude, func(re *regexp.Regexp) bool { return re.MatchString(key) })
}

// syncConfigs sets on each target topic the source configs that differ
// from those last copied (all of them the first time), and deletes from it
// those no longer set on the source topic: the ones it copied before, and
// the first time (when it does not know what it copied: a new task) every
// config set on the target topic itself that the source topic lacks, as
// MirrorMaker 2's full config sync does. Configs topic_configs_exclude
// names, and sensitive ones, are never deleted.
func (r *refresher) syncConfigs(ctx context.Context, configs map[string]map[string]string) []error {
	var errs []error
	for _, t := range slices.Sorted(maps.Keys(configs)) {
		name := r.targetName(t)
		last, ok := r.synced[name]
		if !ok {
			var err error
			if last, err = r.targetConfigs(ctx, name); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		var alter []kadm.AlterConfig
		for _, k := range slices.Sorted(maps.Keys(configs[t])) {
			if v, had := last[k]; !ok || !had || v != configs[t][k] {
				alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(configs[t][k])})
			}
		}
		for _, k := range slices.Sorted(maps.Keys(last)) {
			if _, still := configs[t][k]; !still && !r.excluded(k) {
				alter = append(alter, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
			}
		}
		if len(alter) == 0 {
			r.synced[name] = configs[t]
			continue
		}
		resp, err := r.target.AlterTopicConfigs(ctx, alter, name)
		if err == nil {
			for _, a := range resp {
				if a.Err != nil {
					err = a.Err
				}
			}
		}
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			continue // no target yet: tried again at the next refresh
		}
		if err != nil {
			errs = append(errs, classify(fmt.Errorf("syncing configs %s of target topic %q: %w", keys(alter), name, err)))
			continue
		}
		r.synced[name] = configs[t]
	}
	return errs
}

// targetConfigs returns the configs set on a target topic itself (not
// sensitive); none when it does not exist yet.
func (r *refresher) targetConfigs(ctx context.Context, name string) (map[string]string, error) {
	rcs, err := r.target.DescribeTopicConfigs(ctx, name)
	if err == nil && len(rcs) > 0 {
		err = rcs[0].Err
	}
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return map[string]string{}, nil
	case err != nil:
		return nil, classify(fmt.Errorf("describing the configs of target topic %q: %w", name, err))
	}
	out := map[string]string{}
	for _, c := range rcs[0].Configs {
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig && !c.Sensitive && c.Value != nil {
			out[c.Key] = *c.Value
		}
	}
	return out, nil
}

func keys(alter []kadm.AlterConfig) string {
	names := make([]string, len(alter))
	for i, a := range alter {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}
