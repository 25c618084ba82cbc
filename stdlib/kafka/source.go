package kafka

import (
	"context"
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

	"github.com/pipectl/pipectl/runtime/connector"
)

const (
	// maxBatch is the most records one Poll returns: more than a fetch of
	// fetchMaxBytes usually holds, so that a Poll takes everything fetched
	// and the next fetch runs while its records are produced (a sink
	// task's batching, runtime/engine).
	maxBatch = 50_000
	// fetchMaxBytes bounds one fetch from one broker of the other
	// cluster: small fetches, each polled whole, keep the consumer's next
	// fetch in flight instead of waiting for a 50 MiB one to drain.
	fetchMaxBytes = 1 << 20
	// maxIdle is how long Poll waits for records before it returns none.
	maxIdle = time.Second
)

// pollMax is maxBatch, but for a test that needs a Poll of fewer records
// than were fetched.
var pollMax = maxBatch

// mirror is one task of source "kafka": it consumes partitions of the other
// cluster assigned directly (no consumer group; the source offsets are the
// positions) and hands the records on as they are.
type mirror struct {
	connector.UnimplementedSource

	cl     *kgo.Client // nil when this task has no partition
	log    *slog.Logger
	needed []TopicRequest
	// target names the fleet topic of each source topic; partitions holds
	// the SourcePartition map of each assigned partition, shared by its
	// records.
	target     map[string]string
	partitions map[string]map[int32]map[string]any
	// sync and ckpt keep the offset syncs and the checkpoints (nil when
	// off, or without the fleet's cluster: a task run by a test).
	sync  *syncer
	ckpt  *checkpointer
	repl  replication        // names targets, leaves out and skips what came from the fleet (policy.go)
	lags  lagTracker         // lag.go
	beats *heartbeater       // task 0 with heartbeats (heartbeat.go)
	spare []connector.Record // the records of an acknowledged Poll, for the next one
	r     *refresher         // nil: topics are resolved at Open only
}

type topicPartition struct {
	topic     string
	partition int32
}

func (s *mirror) Open(ctx context.Context, tc *connector.TaskContext) error {
	var cfg SourceConfig
	if err := tc.DecodeConfig(&SourceSchema, &cfg); err != nil {
		return fmt.Errorf("source kafka: %w", err)
	}
	opts, err := clusterOpts(cfg.ClusterConfig, tc.Cluster)
	if err != nil {
		return fmt.Errorf("source kafka: %w", err)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	topics, pattern, fixed, prefix := cfg.Topics, cfg.TopicsRegex, cfg.Topic, cfg.TopicPrefix
	start := kgo.NewOffset().AtStart()
	if cfg.StartFrom == "latest" {
		start = kgo.NewOffset().AtEnd()
	}

	counts, err := sourceTopics(ctx, opts, topics, pattern)
	if err != nil {
		return fmt.Errorf("source kafka: %w", err)
	}
	if cfg.Heartbeats && len(cfg.Brokers) > 0 {
		// The heartbeats topic is mirrored too; task 0 writes to it
		// (openBeats, which creates it).
		if counts[HeartbeatsTopic] == 0 {
			counts[HeartbeatsTopic] = 1
		}
	}
	if s.repl, err = newReplication(ctx, cfg, opts, tc.Cluster); err != nil {
		return fmt.Errorf("source kafka: %w", err)
	}
	if len(cfg.Brokers) == 0 && pattern != "" {
		skipTargets(counts, fixed, prefix)
	}
	s.repl.fleetName = tc.Fleet
	s.repl.leaveOut(counts)

	// Target topics, and what they need.
	s.target = map[string]string{}
	names := slices.Sorted(maps.Keys(counts))
	for _, t := range names {
		name := s.repl.topic(t)
		s.target[t] = name
		if i := slices.IndexFunc(s.needed, func(r TopicRequest) bool { return r.Name == name }); i >= 0 {
			s.needed[i].Partitions = max(s.needed[i].Partitions, counts[t])
			continue
		}
		s.needed = append(s.needed, TopicRequest{Name: name, Partitions: counts[t]})
	}

	// Partitions of this task: taskOf, stable when topics and partitions
	// are added.
	var all []topicPartition
	for _, t := range names {
		for p := range counts[t] {
			all = append(all, topicPartition{t, p})
		}
	}
	tasks := max(tc.Tasks, 1)
	assign := map[string]map[int32]kgo.Offset{}
	s.partitions = map[string]map[int32]map[string]any{}
	for _, tp := range all {
		if taskOf(tp.topic, tp.partition, tasks) != tc.Task {
			continue
		}
		sp := map[string]any{"topic": tp.topic, "partition": int64(tp.partition)}
		at, err := savedOffset(tc.Offset, sp, start)
		if err != nil {
			return fmt.Errorf("source kafka: %w", err)
		}
		if assign[tp.topic] == nil {
			assign[tp.topic] = map[int32]kgo.Offset{}
			s.partitions[tp.topic] = map[int32]map[string]any{}
		}
		assign[tp.topic][tp.partition] = at
		s.partitions[tp.topic][tp.partition] = sp
	}
	if s.r, err = newRefresher(cfg, opts, tc, counts, &s.repl); err != nil {
		return fmt.Errorf("source kafka: %w", err)
	}
	if len(assign) == 0 {
		s.log.Info("no partition for this task", "task", tc.Task, "partitions", len(all))
		if s.r == nil {
			return s.openBeats(ctx, tc, cfg, opts)
		}
	}
	s.cl, err = kgo.NewClient(append(opts,
		kgo.ConsumePartitions(assign),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // for the lag: they move the position (Poll skips them)
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.FetchMaxBytes(fetchMaxBytes),
	)...)
	if err != nil {
		s.r.close()
		return fmt.Errorf("source kafka: %w", err)
	}
	if err := s.openSyncs(ctx, tc, cfg); err != nil {
		s.Close()
		return fmt.Errorf("source kafka: %w", err)
	}
	if err := s.openBeats(ctx, tc, cfg, opts); err != nil {
		s.Close()
		return err
	}
	return nil
}

// openBeats starts the heartbeats of task 0.
func (s *mirror) openBeats(ctx context.Context, tc *connector.TaskContext, cfg SourceConfig, origin []kgo.Opt) error {
	if !cfg.Heartbeats || len(cfg.Brokers) == 0 || tc.Task != 0 {
		return nil
	}
	var err error
	if s.beats, err = newHeartbeater(ctx, origin, fleetPipeline{tc.Fleet, tc.Pipeline}, cfg.HeartbeatInterval, s.log); err != nil {
		return fmt.Errorf("source kafka: %w", err)
	}
	return nil
}

// openSyncs starts the offset syncs and the checkpoints of a task that
// mirrors partitions, on the fleet's cluster.
func (s *mirror) openSyncs(ctx context.Context, tc *connector.TaskContext, cfg SourceConfig) error {
	if !cfg.OffsetSyncs || tc.Cluster == nil {
		return nil
	}
	fleet, err := fleetOpts(tc.Cluster)
	if err != nil {
		return err
	}
	if s.sync, err = newSyncer(ctx, fleet, OffsetSyncsTopic(tc.Fleet, tc.Pipeline), cfg.OffsetLagMax, s.log); err != nil {
		return err
	}
	if len(cfg.Groups) == 0 && cfg.GroupsRegex == "" {
		return nil
	}
	s.sync.keep = true
	if err := s.sync.load(ctx, s.partitions); err != nil {
		return err
	}
	s.ckpt, err = newCheckpointer(ctx, s.cl, s.sync.cl, CheckpointsTopic(tc.Fleet, tc.Pipeline), cfg, s.log)
	return err
}

// Acked turns the acknowledged records into offset syncs.
func (s *mirror) Acked(recs []connector.Record) {
	if s.sync != nil {
		s.sync.acked(recs)
	}
	if cap(recs) > cap(s.spare) {
		s.spare = recs
	}
}

// keepSyncs writes the offset syncs that waited long enough and takes a
// checkpoint when one is due; a failed checkpoint is tried again at the
// next interval.
func (s *mirror) keepSyncs(ctx context.Context) {
	if s.sync == nil {
		return
	}
	s.sync.flush(false)
	if s.ckpt == nil || !s.ckpt.due(time.Now()) {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cps, err := s.ckpt.run(cctx, s.partitions, s.sync.history)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("checkpoint failed", "error", err)
		return
	}
	s.log.Debug("checkpoint", "partitions", len(cps))
}

// wire returns b as a record key or value: nil (a null key, a tombstone)
// stays an untyped nil.
func wire(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// sourceTopics returns the partition count of each topic to mirror: the
// listed ones (each must exist) or those whose whole name matches pattern
// (internal topics, and the mirrors' own, excluded).
func sourceTopics(ctx context.Context, opts []kgo.Opt, topics []string, pattern string) (map[string]int32, error) {
	var re *regexp.Regexp
	if pattern != "" {
		var err error
		if re, err = regexp.Compile("^(?:" + pattern + ")$"); err != nil {
			return nil, fmt.Errorf("topics_regex: %w", err)
		}
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(ctx, topics...)
	if err != nil {
		return nil, classify(fmt.Errorf("listing the topics of the source cluster: %w", err))
	}
	counts := map[string]int32{}
	if re == nil {
		var missing []string
		for _, t := range topics {
			d, ok := details[t]
			if !ok || d.Err != nil || len(d.Partitions) == 0 {
				missing = append(missing, t)
				continue
			}
			counts[t] = int32(len(d.Partitions))
		}
		if len(missing) > 0 {
			// A topic may yet be created: let the worker try again.
			return nil, connector.Retriable(fmt.Errorf("%w: the source cluster has no topic %s",
				kerr.UnknownTopicOrPartition, strings.Join(missing, ", ")))
		}
		return counts, nil
	}
	for name, d := range details {
		if d.Err == nil && !d.IsInternal && !mirrorInternal(name) && re.MatchString(name) && len(d.Partitions) > 0 {
			counts[name] = int32(len(d.Partitions))
		}
	}
	return counts, nil
}

// skipTargets leaves out of a topics_regex mirror of the fleet's own
// cluster the topics it writes (they start with the prefix, or are the
// fixed topic), so that it never reads what it wrote. A listed topic that
// would be its own target is refused before, by the schema (checkSource),
// which also requires topic or topic_prefix without brokers.
func skipTargets(counts map[string]int32, fixed, prefix string) {
	for t := range counts {
		if t == fixed || prefix != "" && strings.HasPrefix(t, prefix) {
			delete(counts, t)
		}
	}
}

// TopicsNeeded lists the topics of the fleet's cluster this source writes
// to, each with the partition count of its source topic (the largest one
// when several source topics go to one fixed topic). Valid after Open.
func (s *mirror) TopicsNeeded() []TopicRequest { return slices.Clone(s.needed) }

func (s *mirror) Poll(ctx context.Context) ([]connector.Record, error) {
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	s.beats.beat(time.Now())
	if s.cl == nil {
		t := time.NewTimer(maxIdle)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
			return nil, nil
		}
	}
	s.keepSyncs(ctx)
	pctx, cancel := context.WithTimeout(ctx, maxIdle)
	fetches := s.cl.PollRecords(pctx, pollMax)
	cancel()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if fetches.IsClientClosed() {
		return nil, kgo.ErrClientClosed
	}
	return s.take(fetches)
}

// take turns a fetch into the records of a Poll.
func (s *mirror) take(fetches kgo.Fetches) ([]connector.Record, error) {
	fatal, retry := s.fetchErrors(fetches)
	if fatal != nil {
		// Whatever else came is fetched again after the restart: its
		// offsets were not saved.
		return nil, fatal
	}
	n := fetches.NumRecords()
	if n == 0 {
		return nil, retry
	}
	s.lags.observe(fetches, s.partitions, time.Now())
	var recs []connector.Record
	if cap(s.spare) >= n {
		recs, s.spare = s.spare[:0], nil
	} else {
		recs = make([]connector.Record, 0, n)
	}
	slab := s.repl.slab(fetches) // the headers of all the records
	var p poll                   // where the records came from, for the offset syncs
	if s.sync != nil {
		p.at = make([]int64, 0, n)
	}
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		topic, sp := s.target[fp.Topic], s.partitions[fp.Topic][fp.Partition]
		start := len(recs)
		for _, r := range fp.Records {
			if r.Attrs.IsControl() {
				continue
			}
			headers, skip := s.repl.headers(r, &slab) // skip: it came from the fleet's cluster
			recs = append(recs, connector.Record{
				Skip:            skip,
				Key:             wire(r.Key),
				Value:           wire(r.Value),
				Encoded:         true,
				Headers:         headers,
				Topic:           topic,
				Partition:       r.Partition,
				Timestamp:       r.Timestamp,
				SourcePartition: sp,
			})
			if s.sync != nil {
				p.at = append(p.at, r.Offset)
			}
		}
		if len(recs) == start {
			return
		}
		// The position after the partition's last record (a transaction
		// marker too): the SDK needs it on that record only, and a map on
		// each one cost a fifth of the task's time.
		recs[len(recs)-1].SourceOffset = map[string]any{"offset": fp.Records[len(fp.Records)-1].Offset + 1}
		if s.sync != nil {
			p.runs = append(p.runs, pollRun{key: syncKey{Topic: fp.Topic, Partition: fp.Partition}, end: len(recs)})
		}
	})
	if s.sync != nil && len(recs) > 0 {
		p.first, p.n = &recs[0], len(recs)
		s.sync.polled(p)
	}
	return recs, nil
}

// fetchErrors sorts the errors of a fetch, the same way whether or not
// other partitions brought records: the first one that is not retriable
// fails the task (as a Connect consumer's poll throws it); a retriable one
// (which franz-go retries itself) is logged and returned as retry, which
// Poll reports only when nothing came, so that the task shows it while it
// makes no progress. Data loss (the origin's log was truncated below what
// was fetched, after an unclean leader election; the consumer goes on from
// where the logs agree) is logged only: what is gone cannot be fetched
// again.
func (s *mirror) fetchErrors(fetches kgo.Fetches) (fatal, retry error) {
	fetches.EachError(func(topic string, partition int32, err error) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		var lost *kgo.ErrDataLoss
		if errors.As(err, &lost) {
			s.log.Warn("records lost at the origin before they were mirrored", "topic", topic, "partition", partition,
				"from", lost.ResetTo, "to", lost.ConsumedTo)
			return
		}
		err = classify(fmt.Errorf("source kafka: fetching %s/%d: %w", topic, partition, err))
		switch {
		case !connector.IsRetriable(err):
			if fatal == nil {
				fatal = err
			}
		case retry == nil:
			s.log.Warn("fetch error, retrying", "topic", topic, "partition", partition, "error", err)
			retry = err
		}
	})
	return fatal, retry
}

func (s *mirror) Close() error {
	s.beats.close()
	s.beats = nil
	if s.sync != nil {
		s.sync.close()
		s.sync, s.ckpt = nil, nil
	}
	s.r.close()
	if s.cl != nil {
		s.cl.Close()
		s.cl = nil
	}
	return nil
}
