package baseline

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Mirror copies every partition of Input on Brokers, from its start, to
// the same partition of Output on TargetBrokers, key, value, headers and
// timestamp unchanged, and returns once every record the partitions held
// at its start is acknowledged (or, after a flush, once ctx ends). It reads
// the partitions directly, with no consumer group and no offsets stored,
// as pipectl's source "kafka" does (its positions are source offsets).
//
// Its producer is the one pipectl's worker gives its sources: kgo's
// defaults (acks from all in-sync replicas, idempotent), no compression,
// ProducerLinger, each record to the partition it names; its consumer
// fetches like the other consuming baselines (FetchMaxBytes, polls of at
// most MaxPoll, read committed).
func Mirror(ctx context.Context, a Args) error {
	origin, err := kgo.NewClient(kgo.SeedBrokers(a.Brokers...))
	if err != nil {
		return err
	}
	ends, err := kadm.NewClient(origin).ListEndOffsets(ctx, a.Input)
	origin.Close()
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("listing the end offsets of %s: %w", a.Input, err)
	}
	assign := map[int32]kgo.Offset{}
	left := map[int32]int64{} // partition → its end offset at the start
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			assign[o.Partition] = kgo.NewOffset().AtStart()
			left[o.Partition] = o.Offset
		}
	})
	if len(left) == 0 {
		return nil
	}

	prod, err := kgo.NewClient(kgo.SeedBrokers(a.TargetBrokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(ProducerLinger),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer prod.Close()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(a.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{a.Input: assign}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxBytes(FetchMaxBytes),
	)
	if err != nil {
		return err
	}
	defer cl.Close()

	var mu sync.Mutex
	var firstErr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			firstErr = cmpOr(firstErr, err)
			mu.Unlock()
		}
	}
	for len(left) > 0 && ctx.Err() == nil {
		fetches := cl.PollRecords(ctx, MaxPoll)
		if fetches.IsClientClosed() {
			return kgo.ErrClientClosed
		}
		var fetchErr error
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				fetchErr = cmpOr(fetchErr, fmt.Errorf("fetching %s/%d: %w", topic, p, err))
			}
		})
		if fetchErr != nil {
			return fetchErr
		}
		fetches.EachRecord(func(r *kgo.Record) {
			out := &kgo.Record{Topic: a.Output, Partition: r.Partition, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers}
			prod.Produce(ctx, out, promise)
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	// What was produced is acknowledged, also after ctx ended.
	if err := prod.Flush(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return firstErr
}
