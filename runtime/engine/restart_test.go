package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// TestTasksSurviveBrokerRestart stops the broker under a sink, an
// at-least-once source and an exactly-once source, and starts it again 2 s
// later on the same address and data directory (well within
// retry_timeout): no task fails, every record arrives (exactly once from
// the exactly-once source), and the sink commits past all of them. The
// broker goes away while the sink writes a batch (so that its flush and
// commit find no broker), or while the exactly-once source is in the
// middle of a transaction.
func TestTasksSurviveBrokerRestart(t *testing.T) {
	for _, during := range []string{"sink", "eos"} {
		t.Run("during_"+during, func(t *testing.T) { brokerRestart(t, during) })
	}
}

func brokerRestart(t *testing.T, during string) {
	const n = 3000
	dir := t.TempDir()
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	defer func() { b.Close() }()
	c := clusterAt(t, kafka.Config{Brokers: []string{addr}})
	c.createTopic(t, "in", 2)
	c.createTopic(t, "alo", 2)
	c.createTopic(t, "eos", 2)
	opts, err := c.cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := control.New("fleet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if err := ctl.EnsureTopics(context.Background()); err != nil {
		t.Fatal(err)
	}
	input := func(from, to int) {
		var rs []*kgo.Record
		for id := from; id < to; id++ {
			rs = append(rs, jsonRecord("in", fmt.Sprint(id), map[string]any{"id": id}))
		}
		c.produce(t, rs...)
	}
	var closeOnce sync.Once
	closed := make(chan struct{})
	closeBroker := func(stage string) {
		if stage == during {
			closeOnce.Do(func() { b.Close(); close(closed) })
		}
	}
	sink := &recordingSink{writeErr: func([]connector.Record) error {
		closeBroker("sink")
		return nil
	}}
	sinkP := mustCompile(t, "sink.test.in", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}},
		testRegistry(t, nil, func() connector.Sink { return sink }))

	source := func(topic, delivery string) (*running, *Counters) {
		var resumedAt, acked atomic.Int64
		reg := testRegistry(t, func() connector.Source {
			return &seqSource{total: n, per: 30, every: 10 * time.Millisecond, resumedAt: &resumedAt, acked: &acked,
				record: func(seq int) connector.Record {
					if seq == n/3 {
						closeBroker(topic)
					}
					return connector.Record{Key: fmt.Sprint(seq), Value: map[string]any{"id": int64(seq)}, Topic: topic, Partition: -1}
				}}
		}, nil)
		address := "source.test." + topic
		p := mustCompile(t, address, &control.PipelineSpec{Kind: "source", Type: "test", Delivery: delivery}, reg)
		counters := &Counters{}
		return runTask(t, TaskArgs{
			Pipeline: p, Fleet: "fleet", Producer: c.producer, Admin: c.admin, Offsets: ctl.Offsets(), Counters: counters,
			NewTransactionalProducer: func() (*kgo.Client, error) {
				return kafka.NewClient(c.cfg, kgo.TransactionalID(control.TaskID("fleet", address, 0)),
					kgo.TransactionTimeout(10*time.Second), kgo.RecordPartitioner(Partitioner(nil)))
			},
		}), counters
	}
	aloTask, alo := source("alo", "at_least_once")
	eosTask, eos := source("eos", "exactly_once")

	waitFor(t, "records on their way", func() bool { return alo.Out.Load() > n/4 && eos.Out.Load() > n/4 })
	before := 0
	if during == "sink" {
		before = n / 2
		input(0, before)
	}
	// Started once the input is in: its first Write may close the broker.
	sinkTask := runTask(t, sinkArgs(c, sinkP))
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatalf("the broker was not closed during the %s's work in 30 s", during)
	}
	time.Sleep(2 * time.Second)
	if b, err = kafka.StartBroker(kafka.BrokerConfig{Listen: addr, DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	input(before, n)

	deadline := time.Now().Add(90 * time.Second)
	for !(alo.Finished.Load() && eos.Finished.Load() && distinct(sink.snapshot()) == n) {
		for name, r := range map[string]*running{"sink": sinkTask, "alo": aloTask, "eos": eosTask} {
			select {
			case <-r.done:
				t.Fatalf("the %s task ended while the broker restarted: %v", name, r.err)
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s: the sink has %d of %d ids, alo finished %v, eos finished %v",
				distinct(sink.snapshot()), n, alo.Finished.Load(), eos.Finished.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for topic, exactly := range map[string]bool{"alo": false, "eos": true} {
		ids := committedIDs(t, c, topic)
		dups := 0
		for id := range n {
			switch {
			case ids[id] == 0:
				t.Errorf("%s: id %d is missing", topic, id)
			case ids[id] > 1:
				dups += ids[id] - 1
			}
		}
		if exactly && dups > 0 {
			t.Errorf("%s: %d duplicates from an exactly-once source", topic, dups)
		}
		t.Logf("%s: %d ids, %d duplicates", topic, len(ids), dups)
	}
	waitFor(t, "the sink to commit every record", func() bool { return c.committed(t, "fleet.sink.test.in", "in") == n })
}

// distinct counts the distinct ids of the records a sink made durable.
func distinct(recs []connector.Record) int {
	seen := map[string]bool{}
	for _, r := range recs {
		seen[fmt.Sprint(r.Key)] = true
	}
	return len(seen)
}

// committedIDs reads a topic read_committed to its end and counts the ids
// of its JSON values.
func committedIDs(t *testing.T, c *cluster, topic string) map[int]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := c.admin.ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	cl := c.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(), kgo.FetchMaxWait(100*time.Millisecond))
	ids := map[int]int{}
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: not read to its end in 30 s", topic)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				var v struct{ ID int }
				if err := json.Unmarshal(r.Value, &v); err != nil {
					t.Errorf("%s offset %d: %v", topic, r.Offset, err)
				}
				ids[v.ID]++
			}
			if r.Offset >= want[r.Partition]-1 {
				delete(want, r.Partition)
			}
		})
	}
	return ids
}

// TestExactlyOnceAbortedTransaction: a transaction the coordinator failed
// with INVALID_PRODUCER_EPOCH (what a broker restart gives when it aborted
// the open transaction and bumped the epoch) does not fail an exactly-once
// source: the task reads again from the offsets of its last committed
// transaction, and every record arrives exactly once. Before, the task
// stayed FAILED.
func TestExactlyOnceAbortedTransaction(t *testing.T) {
	const n = 600
	fake, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	c := clusterAt(t, kafka.Config{Brokers: fake.ListenAddrs()})
	c.createTopic(t, "eos", 2)
	opts, err := c.cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := control.New("fleet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if err := ctl.EnsureTopics(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The third commit of a transaction is refused, once.
	var commits atomic.Int32
	fake.ControlKey(kmsg.EndTxn.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		r := req.(*kmsg.EndTxnRequest)
		if !r.Commit || commits.Add(1) != 3 {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode = kerr.InvalidProducerEpoch.Code
		return resp, nil, true
	})
	var resumedAt, acked atomic.Int64
	reg := testRegistry(t, func() connector.Source {
		return &seqSource{total: n, per: 50, resumedAt: &resumedAt, acked: &acked,
			record: func(seq int) connector.Record {
				return connector.Record{Key: fmt.Sprint(seq), Value: map[string]any{"id": int64(seq)}, Topic: "eos", Partition: -1}
			}}
	}, nil)
	const address = "source.test.eos"
	p := mustCompile(t, address, &control.PipelineSpec{Kind: "source", Type: "test", Delivery: "exactly_once"}, reg)
	counters := &Counters{}
	r := runTask(t, TaskArgs{
		Pipeline: p, Fleet: "fleet", Producer: c.producer, Admin: c.admin, Offsets: ctl.Offsets(), Counters: counters,
		NewTransactionalProducer: func() (*kgo.Client, error) {
			return kafka.NewClient(c.cfg, kgo.TransactionalID(control.TaskID("fleet", address, 0)),
				kgo.TransactionTimeout(10*time.Second), kgo.RecordPartitioner(Partitioner(nil)))
		},
	})
	deadline := time.Now().Add(60 * time.Second)
	for !counters.Finished.Load() {
		select {
		case <-r.done:
			t.Fatalf("the task ended after the refused commit: %v", r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the source did not finish in 60 s (out %d)", counters.Out.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if commits.Load() < 3 {
		t.Fatalf("%d commits: the refused one never came", commits.Load())
	}
	if resumedAt.Load() < 0 {
		t.Error("the source was not opened again from a saved offset after the aborted transaction")
	}
	ids := committedIDs(t, c, "eos")
	for id := range n {
		if ids[id] != 1 {
			t.Errorf("id %d committed %d times, want once", id, ids[id])
		}
	}
}
