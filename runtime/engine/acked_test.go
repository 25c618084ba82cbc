package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// ackPartition is confirmingSource's one source partition.
var ackPartition = map[string]any{"log": "a"}

// confirmingSource is a log-based source as the SDK describes one: it
// polls records seq 0..total-1, per at a time, each with the source
// offset {"next": seq+1}, resumes from the saved offset, and in Acked
// checks what the SDK promises before a source lets the outside system
// discard records: the slice is the next one polled, and check (which
// asks the broker through clients of its own) finds the records and
// their offset in Kafka.
type confirmingSource struct {
	connector.UnimplementedSource
	topic      string
	total, per int
	check      func(recs []connector.Record) []string
	v          *violations
	acked      *atomic.Int64 // the seq after the last record acknowledged, over runs

	next   int
	polled [][]connector.Record // not acknowledged yet, in poll order
}

func (s *confirmingSource) Open(_ context.Context, tc *connector.TaskContext) error {
	if o := tc.Offset(ackPartition); o != nil {
		s.next = int(o["next"].(int64))
	}
	return nil
}

func (s *confirmingSource) Close() error { return nil }

func (s *confirmingSource) Poll(context.Context) ([]connector.Record, error) {
	if s.next >= s.total {
		return nil, io.EOF
	}
	var recs []connector.Record
	for ; len(recs) < s.per && s.next < s.total; s.next++ {
		recs = append(recs, connector.Record{Key: fmt.Sprintf("k%d", s.next), Value: map[string]any{"seq": int64(s.next)},
			Topic: s.topic, Partition: -1, SourcePartition: ackPartition, SourceOffset: map[string]any{"next": int64(s.next + 1)}})
	}
	s.polled = append(s.polled, recs)
	return recs, nil
}

func (s *confirmingSource) Acked(recs []connector.Record) {
	first := fmt.Sprint(recs[0].Key)
	if len(s.polled) == 0 || &s.polled[0][0] != &recs[0] || len(s.polled[0]) != len(recs) {
		s.v.add("Acked from %s: not the oldest Poll's records not acknowledged yet", first)
		return
	}
	s.polled = s.polled[1:]
	if got, want := recs[0].SourceOffset["next"].(int64)-1, s.acked.Load(); got != want {
		s.v.add("Acked from seq %d, want %d (the one after the last acknowledged)", got, want)
	}
	for _, p := range s.check(recs) {
		s.v.add("Acked from %s: %s", first, p)
	}
	s.acked.Store(recs[len(recs)-1].SourceOffset["next"].(int64))
}

// ackFixture is a broker with the fleet's control topics, and what checks
// a confirmingSource's acknowledgements against it.
type ackFixture struct {
	c   *cluster
	ctl *control.Control
	// checker reads offsets through a client of its own.
	checker *control.Control
}

func newAckFixture(t *testing.T) *ackFixture {
	t.Helper()
	c := startCluster(t)
	c.createTopic(t, "out", 2)
	opts, err := c.cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	f := &ackFixture{c: c}
	for _, ctl := range []**control.Control{&f.ctl, &f.checker} {
		if *ctl, err = control.New("fleet", opts...); err != nil {
			t.Fatal(err)
		}
		t.Cleanup((*ctl).Close)
	}
	if err := f.ctl.EnsureTopics(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// check returns what is missing in Kafka for records to be acknowledged:
// a key not in the topic (read_committed with committed), or their
// source offset not saved.
func (f *ackFixture) check(pipeline string, committed bool) func([]connector.Record) []string {
	return func(recs []connector.Record) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var problems []string
		saved, err := f.checker.LoadOffsets(ctx, pipeline)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		default:
			next, _ := normalizeMap(saved[control.PartitionKey(ackPartition)].Offset)["next"].(int64)
			if want := recs[len(recs)-1].SourceOffset["next"].(int64); next < want {
				problems = append(problems, fmt.Sprintf("saved offset next=%d, want %d or more", next, want))
			}
		}
		at, err := readPositions(ctx, f.c.cfg, "out", committed)
		if err != nil {
			return append(problems, err.Error())
		}
		for _, r := range recs {
			where := at[fmt.Sprint(r.Key)]
			switch {
			case len(where) == 0:
				problems = append(problems, fmt.Sprintf("%s not in the topic", r.Key))
			case !slices.Contains(where, position{r.Topic, r.Partition, r.Offset}):
				problems = append(problems, fmt.Sprintf("%s acknowledged at %s/%d@%d, stored at %v", r.Key, r.Topic, r.Partition, r.Offset, where))
			}
		}
		return problems
	}
}

// readKeys reads a topic from its start to its end (read_committed with
// committed: to its last stable offset) and counts the keys.
func readKeys(ctx context.Context, cfg kafka.Config, topic string, committed bool) (map[string]int, error) {
	at, err := readPositions(ctx, cfg, topic, committed)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]int, len(at))
	for k, where := range at {
		keys[k] = len(where)
	}
	return keys, nil
}

// position is where a record is stored.
type position struct {
	topic     string
	partition int32
	offset    int64
}

// readPositions reads a topic as readKeys does and returns where each key
// is stored.
func readPositions(ctx context.Context, cfg kafka.Config, topic string, committed bool) (map[string][]position, error) {
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	// Control records too, so that a partition that ends with a
	// transaction marker is seen to its end.
	cl, err := kafka.NewClient(cfg, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.FetchIsolationLevel(iso), kgo.KeepControlRecords())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	list := adm.ListEndOffsets
	if committed {
		list = adm.ListCommittedOffsets
	}
	ends, err := list(ctx, topic)
	if err != nil {
		return nil, err
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	keys := map[string][]position{}
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s not read to its end: %w", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if !r.Attrs.IsControl() {
				keys[string(r.Key)] = append(keys[string(r.Key)], position{r.Topic, r.Partition, r.Offset})
			}
			if r.Offset == end-1 {
				delete(left, r.Partition)
			}
		})
	}
	return keys, nil
}

// TestSourceAcked checks, at every Acked, that the records are in Kafka
// and their source offset saved (with exactly_once: in a committed
// transaction, read read_committed), that Acked gets the Polls' slices in
// order, and that every record is acknowledged by the end.
func TestSourceAcked(t *testing.T) {
	for _, delivery := range []string{"at_least_once", "exactly_once"} {
		t.Run(delivery, func(t *testing.T) {
			const total, per = 300, 10
			f := newAckFixture(t)
			address := "source.test.acked"
			var v violations
			var acked atomic.Int64
			reg := testRegistry(t, func() connector.Source {
				return &confirmingSource{topic: "out", total: total, per: per, v: &v, acked: &acked,
					check: f.check(address, delivery == "exactly_once")}
			}, nil)
			p := mustCompile(t, address, &control.PipelineSpec{Kind: "source", Type: "test", Delivery: delivery}, reg)
			a := TaskArgs{Pipeline: p, Fleet: "fleet", Producer: f.c.producer, Admin: f.c.admin, Offsets: f.ctl.Offsets(),
				Counters: &Counters{}, NewTransactionalProducer: f.txnProducer(address, nil)}
			r := runTask(t, a)
			waitFor(t, "the source to finish", a.Counters.Finished.Load)
			if _, err := r.stop(t); err != nil {
				t.Fatal(err)
			}
			v.check(t)
			if got := acked.Load(); got != total {
				t.Errorf("acknowledged up to seq %d, want %d", got, total)
			}
		})
	}
}

// txnProducer builds a task's transactional producer; hooks, if any, are
// added to it.
func (f *ackFixture) txnProducer(address string, hook kgo.Hook) func() (*kgo.Client, error) {
	return func() (*kgo.Client, error) {
		opts := []kgo.Opt{kgo.TransactionalID("fleet." + address + ".0"), kgo.TransactionTimeout(10 * time.Second),
			kgo.RecordPartitioner(Partitioner(nil))}
		if hook != nil {
			opts = append(opts, kgo.WithHooks(hook))
		}
		return kafka.NewClient(f.c.cfg, opts...)
	}
}

// fenceHook fences a transactional id when the at-th record it sees
// acknowledged on topic is: the transaction in progress then fails when
// it commits.
type fenceHook struct {
	topic string
	at    int64
	seen  atomic.Int64
	fence func()
}

func (h *fenceHook) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	if err == nil && r.Topic == h.topic && h.seen.Add(1) == h.at {
		h.fence()
	}
}

// TestSourceAbortedNotAcked makes the transaction of an exactly-once
// source's fifth batch fail when it commits (another producer with the
// task's transactional id fences it, after the batch and its offsets were
// written): the task fails and the batch is never acknowledged, nor is it
// in the topic; the next run polls it again, and it is acknowledged once
// its transaction commits.
func TestSourceAbortedNotAcked(t *testing.T) {
	const total, per, failing = 100, 10, 5
	f := newAckFixture(t)
	address := "source.test.aborted"
	var v violations
	var acked atomic.Int64
	reg := testRegistry(t, func() connector.Source {
		return &confirmingSource{topic: "out", total: total, per: per, v: &v, acked: &acked, check: f.check(address, true)}
	}, nil)
	p := mustCompile(t, address, &control.PipelineSpec{Kind: "source", Type: "test", Delivery: "exactly_once"}, reg)
	var fenceErr error
	hook := &fenceHook{topic: f.ctl.OffsetsTopic(), at: failing, fence: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cl, err := f.txnProducer(address, nil)()
		if err == nil {
			_, _, err = cl.ProducerID(ctx)
			cl.Close()
		}
		fenceErr = err
	}}
	a := TaskArgs{Pipeline: p, Fleet: "fleet", Producer: f.c.producer, Admin: f.c.admin, Offsets: f.ctl.Offsets(),
		Counters: &Counters{}, NewTransactionalProducer: f.txnProducer(address, hook)}
	err := runTask(t, a).wait(t)
	if fenceErr != nil {
		t.Fatalf("fencing: %v", fenceErr)
	}
	var te *TaskError
	if !errors.As(err, &te) || !strings.Contains(te.Message, "committing the transaction") {
		t.Fatalf("first run: %v, want the task to fail committing the transaction", err)
	}
	v.check(t)
	if got, want := acked.Load(), int64((failing-1)*per); got != want {
		t.Errorf("the first run acknowledged up to seq %d, want %d: the batch of the failed transaction was acknowledged", got, want)
	}
	keys, err := readKeys(context.Background(), f.c.cfg, "out", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != (failing-1)*per {
		t.Errorf("%d records in the topic read_committed after the failure, want %d", len(keys), (failing-1)*per)
	}

	a.NewTransactionalProducer, a.Counters = f.txnProducer(address, nil), &Counters{}
	r := runTask(t, a)
	waitFor(t, "the source to finish", a.Counters.Finished.Load)
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	v.check(t)
	if got := acked.Load(); got != total {
		t.Errorf("acknowledged up to seq %d, want %d", got, total)
	}
	if keys, err = readKeys(context.Background(), f.c.cfg, "out", true); err != nil {
		t.Fatal(err)
	}
	for seq := range total {
		if k := keys[fmt.Sprintf("k%d", seq)]; k != 1 {
			t.Errorf("k%d is %d times in the topic read_committed, want once", seq, k)
		}
	}
}
