package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
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
	cl        *kgo.Client
	dirty     bool // records were fetched since the last commit
	lastFlush time.Time
	rebalance atomic.Bool // a rebalance waits for us
	// recs and from are process's, kept for the next batch (Sink.Write
	// does not keep the slice).
	recs []connector.Record
	from []int32
}

func (t *task) runSink(ctx context.Context) error {
	s := &sinkLoop{task: t, sink: t.p.plugin.NewSink()}
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
		kgo.ConsumerGroup(t.a.Fleet + "." + t.p.address),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) { s.rebalance.Store(true) }),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(reset),
		kgo.FetchMaxBytes(fetchMaxBytes),
	}
	if t.p.spec.TopicsRegex != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(t.p.spec.TopicsRegex))
		if dlq := t.p.policy.deadLetterTopic; dlq != "" {
			// Never read back our own failures.
			opts = append(opts, kgo.ConsumeExcludeTopics("^"+regexp.QuoteMeta(dlq)+"$"))
		}
	} else {
		opts = append(opts, kgo.ConsumeTopics(t.p.spec.Topics...))
	}
	s.cl, err = t.a.NewConsumer(opts...)
	if err != nil {
		return t.fail(StageKafka, nil, fmt.Errorf("building the consumer: %w", err))
	}
	defer func() {
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
	if err == nil && s.dirty {
		// Clean stop: what was fetched is written; flush and commit it.
		err = s.flushCommit()
	}
	if err != nil && t.budget.ctx.Err() != nil {
		t.log.Warn("stopped before the sink flushed and committed; the records will be written again after a restart", "error", err)
		return nil
	}
	return err
}

func (s *sinkLoop) loop(ctx context.Context) error {
	for {
		pollCtx, cancel := ctx, context.CancelFunc(nil)
		if s.dirty {
			pollCtx, cancel = context.WithDeadline(ctx, s.lastFlush.Add(s.a.FlushInterval))
		}
		// Usually everything fetched so far (see fetchMaxBytes).
		fetches := s.cl.PollRecords(pollCtx, maxPoll)
		if cancel != nil {
			cancel()
		}
		if fetches.IsClientClosed() {
			return s.fail(StageKafka, nil, kgo.ErrClientClosed)
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
			return s.fail(StageKafka, nil, fetchErr)
		}
		recs := fetches.Records()
		idle := len(recs) == 0
		for len(recs) > 0 {
			s.dirty = true
			n := min(len(recs), maxBatch)
			if err := s.process(recs[:n]); err != nil {
				// A failure, or the stop budget ran out in the
				// middle of the batch: commit nothing.
				s.dirty = false
				return err
			}
			recs = recs[n:]
		}
		if ctx.Err() != nil {
			return nil
		}
		if s.dirty && (time.Since(s.lastFlush) >= s.a.FlushInterval || s.rebalance.Load()) {
			if err := s.flushCommit(); err != nil {
				return err
			}
			if idle {
				// Nothing came for a flush interval: let the records
				// slice go until the next batch.
				s.recs, s.from = nil, nil
			}
		}
		if !s.dirty {
			s.rebalance.Store(false)
			s.cl.AllowRebalance()
		}
	}
}

// process converts, transforms and writes one poll's records; failed ones
// go to the dead-letter topic (tolerance all) or fail the task.
func (s *sinkLoop) process(krs []*kgo.Record) (err error) {
	_, sp := s.span("pipectl.sink.batch", len(krs))
	defer s.observe(time.Now())
	defer func() { endSpan(sp, err) }()
	p, u := s.p, s.p.uses
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
		*rec = connector.Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, Timestamp: kr.Timestamp}
		if n := len(kr.Headers); n > 0 {
			rec.Headers = slab[h : h+n : h+n]
			for j, kh := range kr.Headers {
				rec.Headers[j] = connector.Header{Key: kh.Key, Value: kh.Value}
			}
			h += n
		}
		var err error
		if rec.Key, rec.KeySchema, err = fromBytes(p.keyConv, keys, kr.Key, u.readKey); err != nil {
			if err := failed(kr, StageConverter, fmt.Errorf("key: %w", err)); err != nil {
				return err
			}
			continue
		}
		if rec.Value, rec.ValueSchema, err = fromBytes(p.valueConv, values, kr.Value, u.readValue); err != nil {
			if err := failed(kr, StageConverter, fmt.Errorf("value: %w", err)); err != nil {
				return err
			}
			continue
		}
		if len(p.transforms) > 0 {
			keep, err := s.tr.apply(rec, true)
			if err != nil {
				if err := failed(kr, StageTransform, err); err != nil {
					return err
				}
				continue
			}
			if !keep {
				s.counters.Filtered.Add(1)
				continue
			}
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
	return nil
}

// flushCommit flushes the sink and then commits every offset fetched so
// far: everything fetched is written, filtered or dead-lettered by now.
func (s *sinkLoop) flushCommit() (err error) {
	_, sp := s.span("pipectl.sink.flush", 0)
	defer func() { endSpan(sp, err) }()
	ctx := s.budget.ctx
	if err := s.retry(ctx, "flushing the sink", func() error { return s.sink.Flush(ctx) }); err != nil {
		return s.fail(StageSink, nil, err)
	}
	err = s.retry(ctx, "committing offsets", func() error { return s.cl.CommitUncommittedOffsets(ctx) })
	switch {
	case err == nil:
	case errors.Is(err, kerr.RebalanceInProgress), errors.Is(err, kerr.IllegalGeneration),
		errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID), IsRetriable(err):
		// The partitions moved on: their next owner starts from the
		// last commit, so these records are written again.
		s.counters.setLastError(err)
		s.log.Warn("committing offsets", "error", err)
	default:
		return s.fail(StageKafka, nil, fmt.Errorf("committing offsets: %w", err))
	}
	s.dirty = false
	s.lastFlush = time.Now()
	return nil
}
