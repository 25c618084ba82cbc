package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/retry"
)

// maxInflight is how many polled batches may wait for their
// acknowledgement before the source loop waits for the oldest.
const maxInflight = 32

// batch is one Poll's records on their way to Kafka.
type batch struct {
	polled  []connector.Record
	out     []kgo.Record       // the records for Kafka
	from    []int32            // from[j] is the index in polled of out[j]
	slab    []kgo.RecordHeader // the headers of out
	dead    []kgo.Record       // dead-letter records of failed ones
	offsets map[string]SourceOffset

	pending atomic.Int64
	done    chan struct{}
	mu      sync.Mutex
	failed  []produceFailure
}

type produceFailure struct {
	r    *kgo.Record
	err  error
	dead bool
}

func (b *batch) ack(r *kgo.Record, err error, dead bool) {
	if err != nil {
		b.mu.Lock()
		b.failed = append(b.failed, produceFailure{r, err, dead})
		b.mu.Unlock()
	}
	b.release()
}

func (b *batch) ackOut(r *kgo.Record, err error)  { b.ack(r, err, false) }
func (b *batch) ackDead(r *kgo.Record, err error) { b.ack(r, err, true) }

func (b *batch) release() {
	if b.pending.Add(-1) == 0 {
		close(b.done)
	}
}

// original is the record being converted as the source gave it, for the
// dead-letter topic.
type original struct {
	encoded      bool
	key, value   any    // structured records (copied before a transform changes them)
	keyB, valueB []byte // Encoded records
	bytesOK      bool   // keyB and valueB hold the record's bytes
	headers      []connector.Header
	topic        string
	partition    int32

	keySchema, valueSchema *connector.Schema
}

type sourceLoop struct {
	*task
	eos     TxnOffsetStore // set for delivery = "exactly_once"
	unacked []*batch       // exactly once: settled batches awaiting the commit
	// committedTxn: exactly once, this run committed a transaction.
	committedTxn bool
	src          connector.Source
	mu           sync.Mutex // guards offsets, which TaskContext.Offset reads
	offsets      map[string]map[string]any
	inflight     []*batch
	known        map[string]bool  // topics that exist
	parts        map[string]int32 // partitions the producer knows, by topic (awaitPartitions)
	keys         keyCache
	orig         original
	// spare holds the slices of the last batch that was acknowledged
	// whole, for the next one (recycle): a batch of 50,000 records would
	// otherwise allocate and clear megabytes that the collector scans.
	spare *batch
}

func (t *task) runSource(ctx context.Context) error {
	s := &sourceLoop{task: t, offsets: map[string]map[string]any{}, known: map[string]bool{}}
	if t.p.spec.Delivery == "exactly_once" {
		store, ok := t.a.Offsets.(TxnOffsetStore)
		if !ok || t.a.NewTransactionalProducer == nil {
			return t.fail(StageKafka, nil, errors.New("delivery = \"exactly_once\" needs a transactional producer and an offset store that writes in its transactions"))
		}
		p, err := t.a.NewTransactionalProducer()
		if err != nil {
			return t.fail(StageKafka, nil, err)
		}
		defer p.Close()
		// Initializing the transactional id fences an older run of this
		// task (a worker that died with a transaction open) and aborts
		// its transaction before the offsets are read.
		err = t.retry(ctx, "initializing the transactional producer", func() error {
			_, _, err := p.ProducerID(ctx)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return t.fail(StageKafka, nil, err)
		}
		t.a.Producer = p
		s.eos = store
	}
	var loaded []SourceOffset
	err := t.retry(ctx, "loading source offsets", func() (err error) {
		loaded, err = t.a.Offsets.Load(ctx, t.p.address)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return t.fail(StageOffsets, nil, err)
	}
	for _, o := range loaded {
		s.offsets[control.PartitionKey(o.Partition)] = normalizeMap(o.Offset)
	}
	if t.p.policy.tolerateAll {
		t.tr.onMutate = s.snapshot
	}

	s.src = t.p.plugin.NewSource()
	tc := t.taskContext(s.offset)
	err = t.retry(ctx, "opening the source", func() error { return s.src.Open(ctx, tc) })
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return t.fail(StageSource, nil, err)
	}
	defer func() {
		if err := s.src.Close(); err != nil {
			t.log.Warn("closing the source", "error", err)
		}
	}()
	if lr, ok := s.src.(connector.LagReporter); ok {
		// Asked by the worker between Open and Close only.
		t.counters.reportLag(lr.Lag)
		defer t.counters.reportLag(nil)
	}
	if tn, ok := s.src.(connector.TopicsNeeder); ok {
		need := map[string]int32{}
		for _, r := range tn.TopicsNeeded() {
			need[r.Name] = max(need[r.Name], r.Partitions)
		}
		if err := t.ensureTopicsAtLeast(ctx, need, true); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return t.fail(StageKafka, nil, err)
		}
		for name := range need {
			s.known[name] = true
		}
	}

	t.opened()
	err = s.loop(ctx)
	if err == nil {
		// Clean stop: what was polled is produced, acknowledged and
		// saved within the stop budget.
		err = s.drain(t.budget.ctx, true)
	}
	if err != nil && t.budget.ctx.Err() != nil {
		t.log.Warn("stopped before every record was acknowledged; they will be produced again after a restart", "error", err)
		return nil
	}
	return err
}

func (s *sourceLoop) loop(ctx context.Context) error {
	for {
		if err := s.drain(s.budget.ctx, false); err != nil {
			return err
		}
		var recs []connector.Record
		eof := false
		err := s.retry(ctx, "polling the source", func() (err error) {
			recs, err = s.src.Poll(ctx)
			if err == io.EOF { // io.EOF itself, as io.Reader's contract has it
				// The source is finished: never retried. A wrapped
				// io.EOF (a connection that closed under a read) is
				// an error like any other, not the end of the source.
				eof = true
				return nil
			}
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return s.fail(StageSource, nil, err)
		}
		if len(recs) > 0 {
			if err := s.transact(ctx, recs); err != nil {
				return err
			}
		}
		if eof {
			if err := s.drain(s.budget.ctx, true); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			s.counters.Finished.Store(true)
			s.log.Info("source finished")
			<-ctx.Done()
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// offset is TaskContext.Offset.
func (s *sourceLoop) offset(partition map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.offsets[control.PartitionKey(partition)])
}

// snapshot keeps the record as the source gave it before a transform
// changes it.
func (s *sourceLoop) snapshot() {
	o := &s.orig
	if o.encoded {
		return
	}
	o.key, o.value = deepCopy(o.key), deepCopy(o.value)
	o.headers = slices.Clone(o.headers)
}

// process converts one Poll's records and hands them to the producer.
func (s *sourceLoop) process(polled []connector.Record) (err error) {
	_, sp := s.span("pipectl.source.batch", len(polled))
	defer s.observe(time.Now())
	defer func() { endSpan(sp, err) }()
	b := &batch{polled: polled, done: make(chan struct{}), offsets: map[string]SourceOffset{}}
	s.keys.reset()
	s.counters.In.Add(int64(len(polled)))
	nh := 0
	for i := range polled {
		nh += len(polled[i].Headers)
	}
	var slab []kgo.RecordHeader
	if sp := s.spare; sp != nil && cap(sp.out) >= len(polled) && cap(sp.slab) >= nh {
		b.out, b.from, slab = sp.out[:0], sp.from[:0], sp.slab[:0]
		s.spare = nil
	} else {
		b.out = make([]kgo.Record, 0, len(polled))
		b.from = make([]int32, 0, len(polled))
		slab = make([]kgo.RecordHeader, 0, nh)
	}
	var need, unseen map[string]int32
	lastKnown, lastUsed := "\x00", "\x00"
	lastParts, knownParts := "\x00", int32(0)
	for i := range polled {
		rec := &polled[i]
		if rec.SourceOffset != nil {
			b.offsets[s.keys.key(rec.SourcePartition)] = SourceOffset{Partition: rec.SourcePartition, Offset: rec.SourceOffset}
		}
		if rec.Skip {
			s.counters.Filtered.Add(1)
			continue
		}
		if rec.Err != nil {
			if err := s.sourceFailed(b, rec); err != nil {
				return err
			}
			continue
		}
		kr, keep, stage, err := convertSource(s.p, s.tr, &s.orig, rec, &slab)
		if err != nil {
			if err := s.recordFailed(b, stage, err, rec); err != nil {
				return err
			}
			continue
		}
		if !keep {
			s.counters.Filtered.Add(1)
			continue
		}
		if kr.Topic != lastUsed {
			lastUsed = kr.Topic
			s.use(kr.Topic)
		}
		if kr.Topic != lastKnown {
			if s.known[kr.Topic] {
				lastKnown = kr.Topic
			} else {
				if need == nil {
					need = map[string]int32{}
				}
				parts := int32(0) // the broker's default
				if manual(&kr) {
					parts = kr.Partition + 1
				}
				need[kr.Topic] = max(need[kr.Topic], parts)
			}
		}
		if manual(&kr) {
			if kr.Topic != lastParts {
				lastParts, knownParts = kr.Topic, s.parts[kr.Topic]
			}
			if kr.Partition >= knownParts {
				if unseen == nil {
					unseen = map[string]int32{}
				}
				unseen[kr.Topic] = max(unseen[kr.Topic], kr.Partition+1)
			}
		}
		b.out = append(b.out, kr)
		b.from = append(b.from, int32(i))
	}
	if need != nil {
		if err := s.ensureTopics(s.budget.ctx, need); err != nil {
			return s.fail(StageKafka, nil, err)
		}
		for name := range need {
			s.known[name] = true
		}
	}
	if unseen != nil {
		s.awaitPartitions(s.budget.ctx, unseen)
	}
	b.slab = slab
	b.pending.Store(int64(len(b.out) + len(b.dead) + 1))
	ackOut, ackDead := b.ackOut, b.ackDead // one closure per batch, not per record
	for i := range b.out {
		s.a.Producer.Produce(s.budget.ctx, &b.out[i], ackOut)
	}
	for i := range b.dead {
		s.a.Producer.Produce(s.budget.ctx, &b.dead[i], ackDead)
	}
	b.release()
	s.inflight = append(s.inflight, b)
	return nil
}

// convertSource runs one record of pipeline p through the transforms
// (its transformer tr) and converters, for the source loop and Offline.
// keep is false when a filter dropped it; an error is a record failure at
// stage. orig keeps the record as the source gave it.
func convertSource(p *Pipeline, tr *transformer, orig *original, rec *connector.Record, slab *[]kgo.RecordHeader) (kr kgo.Record, keep bool, stage Stage, err error) {
	u := p.uses
	*orig = original{encoded: rec.Encoded, key: rec.Key, value: rec.Value, keySchema: rec.KeySchema, valueSchema: rec.ValueSchema,
		headers: rec.Headers, topic: rec.Topic, partition: rec.Partition}
	var keyB, valB []byte
	if rec.Encoded {
		kb, err1 := rawBytes(rec.Key)
		vb, err2 := rawBytes(rec.Value)
		if err := errors.Join(err1, err2); err != nil {
			return kr, false, StageSource, err
		}
		orig.keyB, orig.valueB, orig.bytesOK = kb, vb, true
		keyB, valB = kb, vb
		if len(p.transforms) > 0 {
			if u.readKey {
				if rec.Key, rec.KeySchema, err = fromBytes(p.keyConv, nil, kb, true); err != nil {
					return kr, false, StageConverter, fmt.Errorf("key: %w", err)
				}
			}
			if u.readValue {
				if rec.Value, rec.ValueSchema, err = fromBytes(p.valueConv, nil, vb, true); err != nil {
					return kr, false, StageConverter, fmt.Errorf("value: %w", err)
				}
			}
			if keep, err := tr.apply(rec, false); err != nil || !keep {
				return kr, false, StageTransform, err
			}
			if u.readKey || tr.wroteKey {
				if keyB, err = toBytes(p.keyConv, rec.Topic, rec.Key, rec.KeySchema); err != nil {
					return kr, false, StageConverter, fmt.Errorf("key: %w", err)
				}
			}
			if u.readValue || tr.wroteValue {
				if valB, err = toBytes(p.valueConv, rec.Topic, rec.Value, rec.ValueSchema); err != nil {
					return kr, false, StageConverter, fmt.Errorf("value: %w", err)
				}
			}
		}
	} else {
		if len(p.transforms) > 0 {
			if u.readKey {
				if rec.Key, err = unraw(rec.Key); err != nil {
					return kr, false, StageConverter, fmt.Errorf("key: %w", err)
				}
			}
			if u.readValue {
				if rec.Value, err = unraw(rec.Value); err != nil {
					return kr, false, StageConverter, fmt.Errorf("value: %w", err)
				}
			}
			if keep, err := tr.apply(rec, false); err != nil || !keep {
				return kr, false, StageTransform, err
			}
		}
		if keyB, err = toBytes(p.keyConv, rec.Topic, rec.Key, rec.KeySchema); err != nil {
			return kr, false, StageConverter, fmt.Errorf("key: %w", err)
		}
		if valB, err = toBytes(p.valueConv, rec.Topic, rec.Value, rec.ValueSchema); err != nil {
			return kr, false, StageConverter, fmt.Errorf("value: %w", err)
		}
	}
	if rec.Topic == "" {
		return kr, false, StageSource, errors.New("the record has no topic")
	}
	kr = kgo.Record{Topic: rec.Topic, Key: keyB, Value: valB, Timestamp: rec.Timestamp, Headers: kafkaHeaders(slab, rec.Headers)}
	if rec.Partition >= 0 {
		kr.Partition, kr.Context = rec.Partition, manualPartition
	}
	return kr, true, 0, nil
}

// kafkaHeaders copies headers into the batch's slab and returns the
// record's slice of it.
func kafkaHeaders(slab *[]kgo.RecordHeader, hs []connector.Header) []kgo.RecordHeader {
	if len(hs) == 0 {
		return nil
	}
	start := len(*slab)
	for _, h := range hs {
		*slab = append(*slab, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	end := len(*slab)
	return (*slab)[start:end:end]
}

// sourceFailed handles a record the source could not read
// (connector.Record.Err): a record failure at stage source whose key and
// value bytes are the ones the source read.
func (s *sourceLoop) sourceFailed(b *batch, rec *connector.Record) error {
	s.orig = original{encoded: true, key: rec.Key, value: rec.Value, headers: rec.Headers, topic: rec.Topic, partition: rec.Partition}
	kb, err := rawBytes(rec.Key)
	if err != nil {
		kb = render(rec.Key)
	}
	vb, err := rawBytes(rec.Value)
	if err != nil {
		vb = render(rec.Value)
	}
	s.orig.keyB, s.orig.valueB, s.orig.bytesOK = kb, vb, true
	return s.recordFailed(b, StageSource, rec.Err, rec)
}

// recordFailed handles a record that failed before it reached Kafka:
// with tolerance none the task fails; with all the record, unchanged,
// joins the batch for the dead-letter topic.
func (s *sourceLoop) recordFailed(b *batch, stage Stage, err error, rec *connector.Record) error {
	s.counters.Failed.Add(1)
	s.counters.setLastError(err)
	o := &s.orig
	ref := &recordRef{topic: o.topic, partition: o.partition, offset: -1}
	if !s.p.policy.tolerateAll {
		return s.fail(stage, ref, err)
	}
	var kb, vb []byte
	if o.bytesOK {
		kb, vb = o.keyB, o.valueB
	} else {
		var err error
		if kb, err = toBytes(s.p.keyConv, o.topic, o.key, o.keySchema); err != nil {
			kb = render(o.key)
		}
		if vb, err = toBytes(s.p.valueConv, o.topic, o.value, o.valueSchema); err != nil {
			vb = render(o.value)
		}
	}
	hs := make([]kgo.RecordHeader, len(o.headers))
	for i, h := range o.headers {
		hs[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	b.dead = append(b.dead, s.deadLetter(kb, vb, hs, rec.Timestamp, stage, err, ref))
	return nil
}

// drain settles the batches whose records are all acknowledged, in poll
// order, then saves their offsets and tells the source. all waits for
// every batch; otherwise it waits only while too many are in flight.
func (s *sourceLoop) drain(ctx context.Context, all bool) error {
	var settled []*batch
wait:
	for len(s.inflight) > 0 {
		b := s.inflight[0]
		if all || len(s.inflight) >= maxInflight {
			select {
			case <-b.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			select {
			case <-b.done:
			default:
				break wait
			}
		}
		if err := s.settle(ctx, b); err != nil {
			return err
		}
		s.inflight[0] = nil
		s.inflight = s.inflight[1:]
		settled = append(settled, b)
	}
	if len(settled) == 0 {
		return nil
	}
	merged := map[string]SourceOffset{}
	for _, b := range settled {
		maps.Copy(merged, b.offsets)
	}
	if len(merged) > 0 {
		list := make([]SourceOffset, 0, len(merged))
		for _, k := range slices.Sorted(maps.Keys(merged)) {
			list = append(list, merged[k])
		}
		var err error
		if s.eos != nil {
			// Inside the batch's transaction: the offsets commit or abort
			// with the records they cover.
			var rs []*kgo.Record
			if rs, err = s.eos.Records(ctx, s.p.address, list); err == nil {
				for _, r := range rs {
					r.Context = manualPartition // the offsets topic's partition is chosen by pipeline
				}
				err = s.produceSync(ctx, "writing source offsets", rs)
			}
		} else {
			err = s.retry(ctx, "saving source offsets", func() error { return s.a.Offsets.Save(ctx, s.p.address, list) })
		}
		if err != nil {
			return s.fail(StageOffsets, nil, err)
		}
		s.mu.Lock()
		for k, o := range merged {
			s.offsets[k] = o.Offset
		}
		s.mu.Unlock()
	}
	if s.eos != nil {
		// Told only once the transaction commits.
		s.unacked = append(s.unacked, settled...)
		return nil
	}
	for _, b := range settled {
		b.written()
		s.src.Acked(b.polled)
		s.recycle(b)
	}
	return nil
}

// recycle keeps the slices of b, whose records are all acknowledged and
// handed to Acked: neither the producer nor the source holds its Kafka
// records any more.
func (s *sourceLoop) recycle(b *batch) {
	if s.spare == nil || cap(b.out) > cap(s.spare.out) {
		s.spare = &batch{out: b.out, from: b.from, slab: b.slab}
	}
	b.out, b.from, b.slab = nil, nil, nil
}

// written sets the Topic, Partition and Offset of each polled record to
// where Kafka stored it, or Offset to -1 for one that a filter dropped, that
// failed or that went to the dead-letter topic, for Acked.
func (b *batch) written() {
	for i := range b.polled {
		b.polled[i].Offset = -1
	}
	for j, i := range b.from {
		if o := b.out[j].Offset; o >= 0 {
			b.polled[i].Topic = b.out[j].Topic
			b.polled[i].Partition = b.out[j].Partition
			b.polled[i].Offset = o
		}
	}
}

// settle deals with the produce failures of an acknowledged batch: it
// produces again what failed with a retriable error, and treats what Kafka
// refused as record failures.
func (s *sourceLoop) settle(ctx context.Context, b *batch) error {
	var retry, refused []produceFailure
	b.mu.Lock()
	failed := b.failed
	b.mu.Unlock()
	for _, f := range failed {
		switch {
		case errors.Is(f.err, context.Canceled), errors.Is(f.err, context.DeadlineExceeded):
			// The stop budget ran out: not a record problem.
			return f.err
		case f.dead:
			return s.fail(StageDeadLetter, &recordRef{topic: f.r.Topic, partition: -1, offset: -1}, f.err)
		case IsRetriable(f.err):
			retry = append(retry, f)
		default:
			refused = append(refused, f)
		}
	}
	if len(retry) > 0 {
		rs := make([]*kgo.Record, len(retry))
		for i, f := range retry {
			rs[i] = f.r
		}
		err := s.retry(ctx, "producing", func() error {
			res := s.a.Producer.ProduceSync(ctx, rs...)
			rs = rs[:0]
			var first error
			for _, r := range res {
				switch {
				case r.Err == nil:
				case IsRetriable(r.Err):
					rs = append(rs, r.Record)
					first = cmpErr(first, r.Err)
				default:
					refused = append(refused, produceFailure{r: r.Record, err: r.Err})
				}
			}
			return first
		})
		if err != nil {
			return s.fail(StageKafka, nil, err)
		}
		// Produced again, after the records of later batches: Acked
		// does not say where they are, as they are out of order with
		// the records acknowledged before them (written).
		for _, f := range retry {
			if f.r.Offset >= 0 {
				f.r.Offset = -1
			}
		}
	}
	s.counters.Out.Add(int64(len(b.out) - len(refused)))
	if len(refused) == 0 {
		return nil
	}
	dead := make([]*kgo.Record, 0, len(refused))
	for _, f := range refused {
		f.r.Offset = -1 // not in Kafka: Acked says so (written)
		s.counters.Failed.Add(1)
		s.counters.setLastError(f.err)
		ref := &recordRef{topic: f.r.Topic, partition: -1, offset: -1}
		if manual(f.r) {
			ref.partition = f.r.Partition
		}
		err := fmt.Errorf("the broker refused the record: %w", f.err)
		if !s.p.policy.tolerateAll {
			return s.fail(StageSource, ref, err)
		}
		d := s.deadLetter(f.r.Key, f.r.Value, f.r.Headers, f.r.Timestamp, StageSource, err, ref)
		dead = append(dead, &d)
	}
	if err := s.produceSync(ctx, "producing to the dead-letter topic", dead); err != nil {
		return s.fail(StageDeadLetter, nil, err)
	}
	return nil
}

func cmpErr(first, err error) error {
	if first == nil {
		return err
	}
	return first
}

// transact processes one polled batch. At least once, the batch goes out
// asynchronously and is settled later; exactly once, it is produced, its
// offsets written and the transaction committed before the next poll. A
// failed transaction is aborted and fails the task, which restarts from the
// last committed offsets.
func (s *sourceLoop) transact(ctx context.Context, recs []connector.Record) error {
	if s.eos == nil {
		return s.process(recs)
	}
	if err := s.a.Producer.BeginTransaction(); err != nil {
		return s.fail(StageKafka, nil, fmt.Errorf("beginning a transaction: %w", err))
	}
	err := s.process(recs)
	if err == nil {
		err = s.drain(s.budget.ctx, true)
	}
	commit := kgo.TryCommit
	if err != nil {
		commit = kgo.TryAbort
		_ = s.a.Producer.AbortBufferedRecords(s.budget.ctx)
	}
	endErr := s.a.Producer.EndTransaction(s.budget.ctx, commit)
	if endErr != nil && err == nil {
		err = s.fail(StageKafka, nil, fmt.Errorf("committing the transaction: %w", endErr))
	}
	if err == nil {
		s.committedTxn = true
		for _, b := range s.unacked {
			b.written()
			s.src.Acked(b.polled)
			s.recycle(b)
		}
	}
	s.unacked = s.unacked[:0]
	if err != nil && abortable(err, endErr) && s.budget.ctx.Err() == nil {
		return &txnAborted{err: err, progressed: s.committedTxn}
	}
	return err
}

// abortable says that a failed transaction can be tried again from the
// offsets of the last committed one: Kafka failed it for a reason that
// passes (a broker restarting, the coordinator aborting it after its
// timeout and bumping the producer's epoch: INVALID_PRODUCER_EPOCH, an
// abortable error since KIP-588), not a record that cannot be written, a
// denied transactional id, or a producer fenced by the task's next owner:
// PRODUCER_FENCED, or INVALID_TXN_STATE, which a coordinator implementing
// KIP-890 answers a commit whose transaction another InitProducerID of the
// same id aborted (control.fenced takes it the same way). A fenced task
// must stop: running again would fence its new owner in turn.
func abortable(errs ...error) bool {
	for _, err := range errs {
		if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidTxnState) ||
			errors.Is(err, kerr.TransactionalIDAuthorizationFailed) {
			return false
		}
	}
	for _, err := range errs {
		if errors.Is(err, kerr.InvalidProducerEpoch) || IsRetriable(err) {
			return true
		}
	}
	return false
}

// txnAborted is an exactly-once source task's transaction that failed for
// a reason that passes: Run opens the task again from the offsets of the
// last committed transaction (runExactlyOnce). progressed says that this
// run committed one before.
type txnAborted struct {
	err        error
	progressed bool
}

func (e *txnAborted) Error() string { return e.err.Error() }
func (e *txnAborted) Unwrap() error { return e.err }

// runExactlyOnce runs an exactly-once source task, and runs it again from
// the offsets of its last committed transaction when a transaction fails
// for a reason that passes (a broker restart aborts the open transaction):
// what the aborted one held is read again, so nothing is lost or written
// twice. As any retriable operation it gives up after retry_timeout of
// runs that commit nothing, and the task fails with the last error.
func (t *task) runExactlyOnce(ctx context.Context) error {
	const what = "running exactly-once transactions"
	defer t.counters.retryDone(what)
	bo := retry.Backoff{Initial: initialBackoff, Max: t.p.policy.backoffMax}.New()
	var since time.Time
	for {
		err := t.runSource(ctx)
		var ab *txnAborted
		if !errors.As(err, &ab) {
			return err
		}
		if ab.progressed || since.IsZero() {
			since = time.Now()
			bo.Reset()
		}
		if time.Since(since) >= t.p.policy.retryTimeout {
			return ab.err
		}
		wait := bo.NextBackOff()
		t.counters.Retries.Add(1)
		t.counters.retryFailed(what, ab.err)
		t.log.Warn("transaction aborted: reading again from the last committed offsets", "in", wait, "error", ab.err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}
