package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

const (
	// maxBatch bounds one batch of records a sink's Write gets.
	maxBatch = 10_000
	// fetchMaxBytes bounds one fetch of a sink's consumer from one broker
	// (Kafka's fetch.max.bytes; a first batch larger than this still
	// comes whole). The client fetches again from a broker only once
	// everything it fetched from it was polled, and a poll usually takes
	// it all (maxPoll): a small fetch lets the next one (the broker's
	// work, the transfer, decompression) run while this one is processed,
	// and keeps a task's memory to about two fetches a broker. 1 MiB is
	// Kafka's max.partition.fetch.bytes too. docs/performance.md has what
	// other sizes measured.
	fetchMaxBytes = 1 << 20
	// maxPoll bounds one poll: well above what a 1 MiB fetch holds (about
	// 20,000 records of 200 bytes with snappy), so that a poll drains it,
	// but it bounds the work a stop or a rebalance waits for when fetches
	// are larger (stronger compression, several brokers): the offsets are
	// committed a poll at a time.
	maxPoll = 50_000
)

type sinkLoop struct {
	*task
	sink      connector.Sink
	committer connector.Committer       // nil: Flush, then commit everything fetched
	aware     connector.PartitionsAware // nil: the sink is not told of partitions
	cl        *kgo.Client
	rebalance atomic.Bool // a rebalance waits for us
	// pollCancel cancels the poll in flight, so that a rebalance that
	// waits for us does not wait for the poll's deadline (up to
	// commit_interval) too.
	pollCancel atomic.Pointer[context.CancelFunc]

	// mu keeps the loop's work on a poll (and the commit at stop) apart
	// from the consumer's rebalance callbacks, which call the sink too.
	// BlockRebalanceOnPoll already runs the callbacks only between the
	// loop's AllowRebalance and its next poll, except after a poll that
	// returned nothing; mu makes it hold always. It guards what follows.
	mu        sync.Mutex
	dirty     bool // fetched records are not all committed
	lastFlush time.Time
	// parts tracks, for a Committer, every partition read since it was
	// assigned.
	parts map[connector.TopicPartition]*partition
	// cbErr is the failure of a rebalance callback, which the loop returns.
	cbErr error
	// ended: the loop ended with an error; the callbacks leave the sink
	// alone.
	ended bool
	// recs and from are process's, kept for the next batch (Sink.Write
	// does not keep the slice).
	recs []connector.Record
	from []int32
}

// partition is what a Committer's task knows of one partition.
type partition struct {
	written   int64 // the offset after the last record handled (written, filtered or dead-lettered)
	committed int64 // the last offset committed, or where reading started
	epoch     int32 // the leader epoch of the last record handled
}

func (t *task) runSink(ctx context.Context) error {
	s := &sinkLoop{task: t, sink: t.p.plugin.NewSink()}
	s.committer, _ = s.sink.(connector.Committer)
	s.aware, _ = s.sink.(connector.PartitionsAware)
	if s.committer != nil {
		s.parts = map[connector.TopicPartition]*partition{}
	}
	tc := t.taskContext(nil)
	err := t.retry(ctx, "opening the sink", func() error { return s.sink.Open(ctx, tc) })
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return t.fail(StageSink, nil, err)
	}
	defer func() {
		if err := s.sink.Close(); err != nil {
			t.log.Warn("closing the sink", "error", err)
		}
	}()

	reset := kgo.NewOffset().AtStart()
	if t.p.startFrom == "latest" {
		reset = kgo.NewOffset().AtEnd()
	}
	opts := []kgo.Opt{
		kgo.ConsumerGroup(control.SinkGroup(t.a.Fleet, t.p.address)),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) {
			s.rebalance.Store(true)
			if cancel := s.pollCancel.Load(); cancel != nil {
				(*cancel)()
			}
		}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(reset),
		kgo.FetchMaxBytes(fetchMaxBytes),
	}
	if s.committer != nil || s.aware != nil {
		opts = append(opts,
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.revoked(m, false) }),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.revoked(m, true) }),
		)
	}
	if s.aware != nil {
		opts = append(opts, kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.assigned(m) }))
	}
	if t.p.spec.TopicsRegex != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(t.p.spec.TopicsRegex))
		if dlq := t.p.policy.deadLetterTopic; dlq != "" {
			// Never read back our own failures.
			opts = append(opts, kgo.ConsumeExcludeTopics("^"+regexp.QuoteMeta(dlq)+"$"))
		}
		if ex, ok := s.sink.(connector.TopicsExcluder); ok {
			// Nor what the sink writes to the fleet's cluster.
			for _, re := range ex.ExcludedTopics() {
				opts = append(opts, kgo.ConsumeExcludeTopics("^(?:"+re+")$"))
			}
		}
	} else {
		opts = append(opts, kgo.ConsumeTopics(t.p.spec.Topics...))
	}
	s.cl, err = t.a.NewConsumer(opts...)
	if err != nil {
		return t.fail(StageKafka, nil, fmt.Errorf("building the consumer: %w", err))
	}
	defer func() {
		// Leaving revokes every partition (PartitionsAware.Revoked); Close
		// waits for the callbacks to return.
		s.cl.AllowRebalance()
		leave, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaveTimeout)
		defer cancel()
		if err := s.cl.LeaveGroupContext(leave); err != nil {
			t.log.Warn("leaving the consumer group", "error", err)
		}
		s.cl.Close()
	}()

	t.opened()
	s.lastFlush = time.Now()
	err = s.loop(ctx)
	s.mu.Lock()
	if err == nil && s.dirty {
		// Clean stop: what was fetched is written; flush and commit it.
		err = s.commit()
	}
	s.ended = err != nil
	s.mu.Unlock()
	if err != nil && t.budget.ctx.Err() != nil {
		t.log.Warn("stopped before the sink flushed and committed; the records will be written again after a restart", "error", err)
		return nil
	}
	return err
}

func (s *sinkLoop) loop(ctx context.Context) error {
	var wait time.Time // when the next poll gives up to commit; zero: never
	for {
		pollCtx, cancel := context.WithCancel(ctx)
		if !wait.IsZero() {
			pollCtx, cancel = context.WithDeadline(ctx, wait)
		}
		s.pollCancel.Store(&cancel)
		if s.rebalance.Load() {
			cancel() // blocked before the poll began: commit first
		}
		// Usually everything fetched so far (see fetchMaxBytes).
		fetches := s.cl.PollRecords(pollCtx, maxPoll)
		s.pollCancel.Store(nil)
		cancel()
		s.mu.Lock()
		allow, err := s.handle(ctx, fetches)
		wait = time.Time{}
		if s.dirty {
			wait = s.lastFlush.Add(s.a.FlushInterval)
		}
		s.mu.Unlock()
		if err != nil || ctx.Err() != nil {
			return err
		}
		if allow {
			s.rebalance.Store(false)
			s.cl.AllowRebalance()
		}
	}
}

// handle writes one poll's records and commits when it is time. allow says
// that a rebalance may happen now: for a Committer always (what it holds
// is not committed and is dropped when its partitions are revoked); for
// any other sink once everything fetched is committed. It runs with mu
// held.
func (s *sinkLoop) handle(ctx context.Context, fetches kgo.Fetches) (allow bool, err error) {
	if s.cbErr != nil {
		return false, s.cbErr
	}
	if fetches.IsClientClosed() {
		return false, s.fail(StageKafka, nil, kgo.ErrClientClosed)
	}
	var fetchErr error
	fetches.EachError(func(topic string, partition int32, err error) {
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		case IsRetriable(err):
			s.counters.setLastError(err)
			s.log.Warn("fetching", "topic", topic, "partition", partition, "error", err)
		case fetchErr == nil:
			fetchErr = fmt.Errorf("fetching %s partition %d: %w", topic, partition, err)
		}
	})
	if fetchErr != nil {
		return false, s.fail(StageKafka, nil, fetchErr)
	}
	if s.a.OnTopic != nil {
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) > 0 {
				s.use(p.Topic)
			}
		})
	}
	recs := fetches.Records()
	idle := len(recs) == 0
	for len(recs) > 0 {
		s.dirty = true
		n := min(len(recs), maxBatch)
		if err := s.process(recs[:n]); err != nil {
			// A failure, or the stop budget ran out in the middle of the
			// batch: commit nothing.
			s.dirty = false
			return false, err
		}
		recs = recs[n:]
	}
	if ctx.Err() != nil {
		return false, nil
	}
	// A Committer is asked in the revoke callback instead, about the
	// partitions revoked.
	waits := s.rebalance.Load() && s.committer == nil
	if s.dirty && (time.Since(s.lastFlush) >= s.a.FlushInterval || waits) {
		if err := s.commit(); err != nil {
			return false, err
		}
		if idle {
			// Nothing came for a flush interval: let the records
			// slice go until the next batch.
			s.recs, s.from = nil, nil
		}
	}
	return !s.dirty || s.committer != nil, nil
}

// process converts, transforms and writes one poll's records; failed ones
// go to the dead-letter topic (tolerance all) or fail the task.
func (s *sinkLoop) process(krs []*kgo.Record) (err error) {
	_, sp := s.span("pipectl.sink.batch", len(krs))
	defer s.observe(time.Now())
	defer func() { endSpan(sp, err) }()
	p := s.p
	ctx := s.budget.ctx
	s.counters.In.Add(int64(len(krs)))
	nh, keyBytes, valueBytes := 0, 0, 0
	for _, kr := range krs {
		nh += len(kr.Headers)
		keyBytes += len(kr.Key)
		valueBytes += len(kr.Value)
	}
	slab := make([]connector.Header, nh)
	if cap(s.recs) < len(krs) {
		s.recs, s.from = make([]connector.Record, len(krs)), make([]int32, 0, len(krs))
	}
	recs := s.recs[:len(krs)]
	// Nothing of this batch stays reachable from s.recs after it.
	defer clear(recs)
	kept := 0          // recs[:kept] are the records the sink gets
	from := s.from[:0] // index in krs of each of them
	keys, values := newBoxes(len(krs), keyBytes), newBoxes(len(krs), valueBytes)
	var dead []*kgo.Record
	failed := func(kr *kgo.Record, stage Stage, err error) error {
		s.counters.Failed.Add(1)
		s.counters.setLastError(err)
		ref := &recordRef{topic: kr.Topic, partition: kr.Partition, offset: kr.Offset}
		if !p.policy.tolerateAll {
			return s.fail(stage, ref, err)
		}
		d := s.deadLetter(kr.Key, kr.Value, kr.Headers, kr.Timestamp, stage, err, ref)
		dead = append(dead, &d)
		return nil
	}
	h := 0
	for i, kr := range krs {
		// Built in place, in the slot after the records kept so far.
		rec := &recs[kept]
		*rec = connector.Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, Timestamp: kr.Timestamp,
			OriginalTopic: kr.Topic, OriginalPartition: kr.Partition}
		if n := len(kr.Headers); n > 0 {
			rec.Headers = slab[h : h+n : h+n]
			for j, kh := range kr.Headers {
				rec.Headers[j] = connector.Header{Key: kh.Key, Value: kh.Value}
			}
			h += n
		}
		keep, stage, err := convertSink(p, s.tr, keys, values, rec, kr.Key, kr.Value)
		if err != nil {
			if err := failed(kr, stage, err); err != nil {
				return err
			}
			continue
		}
		if !keep {
			s.counters.Filtered.Add(1)
			continue
		}
		kept++
		from = append(from, int32(i))
	}
	recs = recs[:kept:kept] // the sink's appends cannot reach the spare slots

	if len(recs) > 0 {
		var perRecord map[int]error
		err := s.retry(ctx, "writing to the sink", func() error {
			err := s.sink.Write(ctx, recs)
			if err != nil {
				if f, ok := failedRecords(err, len(recs)); ok {
					perRecord = f
					return nil
				}
			}
			return err
		})
		if err != nil {
			return s.fail(StageSink, nil, err)
		}
		s.counters.Out.Add(int64(len(recs) - len(perRecord)))
		for i := range recs {
			if err, bad := perRecord[i]; bad {
				if err := failed(krs[from[i]], StageSink, err); err != nil {
					return err
				}
			}
		}
	}
	if len(dead) > 0 {
		if err := s.produceSync(ctx, "producing to the dead-letter topic", dead); err != nil {
			return s.fail(StageDeadLetter, nil, err)
		}
	}
	if s.parts != nil {
		s.handled(krs)
	}
	return nil
}

// convertSink turns a consumed record's key and value bytes into what the
// sink gets, in rec (whose other fields are set), and runs the
// transforms: keep is false when a filter dropped the record; an error is
// a record failure at stage. keys and values build checked values (nil:
// Check builds them).
func convertSink(p *Pipeline, tr *transformer, keys, values *boxes, rec *connector.Record, key, value []byte) (keep bool, stage Stage, err error) {
	u := p.uses
	if rec.Key, rec.KeySchema, err = fromBytes(p.keyConv, keys, key, u.readKey); err != nil {
		return false, StageConverter, fmt.Errorf("key: %w", err)
	}
	if rec.Value, rec.ValueSchema, err = fromBytes(p.valueConv, values, value, u.readValue); err != nil {
		return false, StageConverter, fmt.Errorf("value: %w", err)
	}
	if len(p.transforms) > 0 {
		keep, err := tr.apply(rec, true)
		if err != nil {
			return false, StageTransform, err
		}
		return keep, 0, nil
	}
	return true, 0, nil
}

// handled notes, for a Committer, the offset after the last of krs in
// each partition: every one of them was written, filtered or sent to the
// dead-letter topic. A poll's records come in runs of one partition: one
// map lookup a run.
func (s *sinkLoop) handled(krs []*kgo.Record) {
	var p *partition
	var last *kgo.Record
	for _, kr := range krs {
		if last == nil || kr.Partition != last.Partition || kr.Topic != last.Topic {
			tp := connector.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}
			if p = s.parts[tp]; p == nil {
				p = &partition{committed: kr.Offset}
				s.parts[tp] = p
			}
		}
		p.written, p.epoch = kr.Offset+1, kr.LeaderEpoch
		last = kr
	}
}

// commit commits what is durable: a Committer says which records are; any
// other sink is flushed and everything fetched is committed.
func (s *sinkLoop) commit() (err error) {
	_, sp := s.span("pipectl.sink.flush", 0)
	defer func() { endSpan(sp, err) }()
	if s.committer != nil {
		err = s.commitDurable(nil)
	} else {
		err = s.flushCommit()
	}
	if err != nil {
		return err
	}
	s.lastFlush = time.Now()
	return nil
}

// flushCommit flushes the sink and then commits every offset fetched so
// far: everything fetched is written, filtered or dead-lettered by now.
func (s *sinkLoop) flushCommit() error {
	ctx := s.budget.ctx
	if err := s.retry(ctx, "flushing the sink", func() error { return s.sink.Flush(ctx) }); err != nil {
		return s.fail(StageSink, nil, err)
	}
	err := s.retry(ctx, "committing offsets", func() error { return s.cl.CommitUncommittedOffsets(ctx) })
	if err := s.commitFailed(err); err != nil {
		return err
	}
	// A commit the group refused because it is rebalancing is not tried
	// again: the rebalance must go on (the loop allows it only once the
	// sink is clean), and the next owner reads from the last commit. A
	// commit that failed otherwise leaves the sink dirty, so that the next
	// interval tries again.
	s.dirty = err != nil && !groupMoved(err)
	return nil
}

// commitDurable asks the Committer which records are durable, of the
// partitions in only (nil: all) whose records are not all committed, and
// commits exactly that.
func (s *sinkLoop) commitDurable(only []connector.TopicPartition) error {
	defer func() { s.dirty = s.uncommitted() }()
	ctx := s.budget.ctx
	asked := map[connector.TopicPartition]int64{}
	ask := func(tp connector.TopicPartition) {
		if p := s.parts[tp]; p != nil && p.written > p.committed {
			asked[tp] = p.written
		}
	}
	if only == nil {
		for tp := range s.parts {
			ask(tp)
		}
	} else {
		for _, tp := range only {
			ask(tp)
		}
	}
	if len(asked) == 0 {
		return nil
	}
	var durable map[connector.TopicPartition]int64
	err := s.retry(ctx, "asking the sink what is durable", func() (err error) {
		durable, err = s.committer.PreCommit(ctx, maps.Clone(asked))
		return err
	})
	if err != nil {
		return s.fail(StageSink, nil, err)
	}
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for tp, at := range durable {
		w, ok := asked[tp]
		if !ok {
			continue // not asked about: not ours, or nothing to commit
		}
		p := s.parts[tp]
		if at = min(at, w); at <= p.committed {
			continue
		}
		if offsets[tp.Topic] == nil {
			offsets[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		// The epoch of the last record handled: the one of the record
		// before at is no newer, and a newer epoch never makes the next
		// owner see a truncation that did not happen.
		offsets[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: p.epoch, Offset: at}
	}
	if len(offsets) > 0 {
		err = s.retry(ctx, "committing offsets", func() error { return s.commitOffsets(ctx, offsets) })
		if err := s.commitFailed(err); err != nil {
			return err
		}
		if err == nil {
			for topic, parts := range offsets {
				for partition, eo := range parts {
					s.parts[connector.TopicPartition{Topic: topic, Partition: partition}].committed = eo.Offset
				}
			}
		}
	}
	return nil
}

// commitOffsets commits offsets and waits for the answer.
func (s *sinkLoop) commitOffsets(ctx context.Context, offsets map[string]map[int32]kgo.EpochOffset) error {
	var err error
	s.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, e error) {
		if e != nil {
			err = e
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil && err == nil {
					err = fmt.Errorf("%s partition %d: %w", t.Topic, p.Partition, e)
				}
			}
		}
	})
	return err
}

// commitFailed returns the task failure of a commit error, and nil for
// none or for an error that says the partitions moved on: their next owner
// starts from the last commit, so these records are written again.
func (s *sinkLoop) commitFailed(err error) error {
	var outlasted *retryError
	switch {
	case err == nil:
		return nil
	case groupMoved(err):
		// The group moves on; the next owner reads from the last commit.
		s.counters.setLastError(err)
		s.log.Warn("committing offsets", "error", err)
		return nil
	case errors.As(err, &outlasted):
		// Still failing after retry_timeout: the task fails with the
		// reason, rather than run on with offsets it cannot commit.
		return s.fail(StageKafka, nil, err)
	case IsRetriable(err):
		s.counters.setLastError(err)
		s.log.Warn("committing offsets", "error", err)
		return nil
	}
	return s.fail(StageKafka, nil, fmt.Errorf("committing offsets: %w", err))
}

// groupMoved reports whether a commit failed because the group has moved
// on (a rebalance, a new generation, this member fenced or forgotten).
func groupMoved(err error) bool {
	return errors.Is(err, kerr.RebalanceInProgress) || errors.Is(err, kerr.IllegalGeneration) ||
		errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.FencedInstanceID)
}

// uncommitted reports whether a Committer's partitions hold records that
// are not committed.
func (s *sinkLoop) uncommitted() bool {
	for _, p := range s.parts {
		if p.written > p.committed {
			return true
		}
	}
	return false
}

// assigned is the consumer's OnPartitionsAssigned for a PartitionsAware
// sink. It runs before the partitions are fetched.
func (s *sinkLoop) assigned(m map[string][]int32) {
	tps := topicPartitions(m)
	if len(tps) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.cbErr != nil {
		return
	}
	ctx := s.budget.ctx
	err := s.retry(ctx, "telling the sink of assigned partitions", func() error { return s.aware.Assigned(ctx, tps) })
	if err != nil {
		s.cbErr = s.fail(StageSink, nil, err)
	}
}

// revoked is the consumer's OnPartitionsRevoked and, with lost,
// OnPartitionsLost, for a sink that is a Committer or PartitionsAware: a
// Committer's durable records of the partitions are committed (unless the
// session is lost: a commit cannot succeed), then the sink drops what it
// holds of them.
func (s *sinkLoop) revoked(m map[string][]int32, lost bool) {
	tps := topicPartitions(m)
	if len(tps) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	if s.committer != nil && !lost && s.cbErr == nil {
		s.cbErr = s.commitDurable(tps)
	}
	if s.aware != nil && s.cbErr == nil {
		ctx := s.budget.ctx
		err := s.retry(ctx, "telling the sink of revoked partitions", func() error { return s.aware.Revoked(ctx, tps) })
		if err != nil {
			s.cbErr = s.fail(StageSink, nil, err)
		}
	}
	if s.parts != nil {
		for _, tp := range tps {
			delete(s.parts, tp)
		}
		s.dirty = s.uncommitted()
	}
}

// topicPartitions lists the partitions of a franz-go callback's map, in
// order.
func topicPartitions(m map[string][]int32) []connector.TopicPartition {
	var tps []connector.TopicPartition
	for _, topic := range slices.Sorted(maps.Keys(m)) {
		for _, p := range slices.Sorted(slices.Values(m[topic])) {
			tps = append(tps, connector.TopicPartition{Topic: topic, Partition: p})
		}
	}
	return tps
}
