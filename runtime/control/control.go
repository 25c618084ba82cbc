package control

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// Control reads and writes one fleet's control topics. It is safe for
// concurrent use. Close releases its clients.
type Control struct {
	fleet string
	opts  []kgo.Opt // base client options: brokers, SASL, TLS
	cl    *kgo.Client
	adm   *kadm.Client

	mu    sync.Mutex
	parts map[string]int32 // partition counts by topic
}

// New returns a Control for the fleet. opts are the base client options
// (seed brokers, SASL, TLS) that runtime/kafka builds.
func New(fleet string, opts ...kgo.Opt) (*Control, error) {
	all := append(append([]kgo.Opt(nil), opts...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
	)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	return &Control{fleet: fleet, opts: opts, cl: cl, adm: kadm.NewClient(cl), parts: map[string]int32{}}, nil
}

// Close releases the clients.
func (c *Control) Close() { c.cl.Close() }

// Fleet is the fleet's name.
func (c *Control) Fleet() string { return c.fleet }

// ConfigsTopic names the fleet's configs topic (see ConfigsTopic).
func (c *Control) ConfigsTopic() string { return ConfigsTopic(c.fleet) }

// OffsetsTopic names the fleet's source offsets topic (see OffsetsTopic).
func (c *Control) OffsetsTopic() string { return OffsetsTopic(c.fleet) }

// StatusTopic names the fleet's status topic (see StatusTopic).
func (c *Control) StatusTopic() string { return StatusTopic(c.fleet) }

// Admin returns an admin client on the fleet's cluster.
func (c *Control) Admin() *kadm.Client { return c.adm }

// partitionFor picks the partition of a topic that holds everything about
// one pipeline, so that a pipeline's offsets or status are read from one
// partition.
func (c *Control) partitionFor(ctx context.Context, topic, pipeline string) (int32, error) {
	n, err := c.partitions(ctx, topic)
	if err != nil {
		return 0, err
	}
	h := fnv.New32a()
	h.Write([]byte(pipeline))
	return int32(h.Sum32() % uint32(n)), nil
}

func (c *Control) partitions(ctx context.Context, topic string) (int32, error) {
	c.mu.Lock()
	n, ok := c.parts[topic]
	c.mu.Unlock()
	if ok {
		return n, nil
	}
	td, err := c.adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("control: describe %s: %w", topic, err)
	}
	d, ok := td[topic]
	if !ok || d.Err != nil || len(d.Partitions) == 0 {
		if ok && d.Err != nil {
			err = d.Err
		} else {
			err = errors.New("topic not found")
		}
		return 0, fmt.Errorf("control: the topic %s is missing (%v); start a worker or run pipectl apply, which create it", topic, err)
	}
	n = int32(len(d.Partitions))
	c.mu.Lock()
	c.parts[topic] = n
	c.mu.Unlock()
	return n, nil
}

// readToEnd calls fn with every record of the given partitions (all when
// nil) of a topic, from the start up to the end as of the call. committed
// reads with read_committed isolation and stops at the last stable offset.
func (c *Control) readToEnd(ctx context.Context, topic string, partitions []int32, committed bool, fn func(*kgo.Record)) error {
	_, err := c.readToEndFrom(ctx, topic, partitions, committed, fn)
	return err
}

// readToEndFrom is readToEnd that also returns the end offset of every
// partition it considered, where a reader that goes on tailing starts.
func (c *Control) readToEndFrom(ctx context.Context, topic string, partitions []int32, committed bool, fn func(*kgo.Record)) (map[int32]int64, error) {
	var ends, starts kadm.ListedOffsets
	var err error
	if committed {
		ends, err = c.adm.ListCommittedOffsets(ctx, topic)
	} else {
		ends, err = c.adm.ListEndOffsets(ctx, topic)
	}
	if err == nil {
		starts, err = c.adm.ListStartOffsets(ctx, topic)
	}
	if err != nil {
		return nil, fmt.Errorf("control: list offsets of %s: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("control: list offsets of %s: %w", topic, err)
	}
	want := map[int32]int64{}
	all := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if partitions != nil && !containsPartition(partitions, o.Partition) {
			return
		}
		all[o.Partition] = o.Offset
		start, _ := starts.Lookup(topic, o.Partition)
		if o.Offset > start.Offset {
			want[o.Partition] = o.Offset
		}
	})
	if len(want) == 0 {
		return all, nil
	}
	assign := map[int32]kgo.Offset{}
	for p := range want {
		assign[p] = kgo.NewOffset().AtStart()
	}
	opts := append(append([]kgo.Opt(nil), c.opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}),
		kgo.KeepControlRecords(),
	)
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	defer cl.Close()
	for len(want) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, fe := range fetches.Errors() {
			return nil, fmt.Errorf("control: read %s: %w", topic, fe.Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			end, open := want[r.Partition]
			if !open {
				return
			}
			if r.Offset < end && !r.Attrs.IsControl() {
				fn(r)
			}
			if r.Offset >= end-1 {
				delete(want, r.Partition)
			}
		})
	}
	return all, nil
}

// tail reads topic from the offsets in from until ctx ends (which is not
// an error), handing the records of each poll to batch; committed reads
// only committed transactions. A fetch error or batch's error ends it.
func (c *Control) tail(ctx context.Context, topic string, from map[int32]kgo.Offset, committed bool, batch func(kgo.Fetches) error) error {
	opts := append(append([]kgo.Opt(nil), c.opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}))
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	defer cl.Close()
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		for _, fe := range fetches.Errors() {
			return fmt.Errorf("control: read %s: %w", topic, fe.Err)
		}
		if err := batch(fetches); err != nil {
			return err
		}
	}
}

func containsPartition(ps []int32, p int32) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// EnsureTopics creates the fleet's control topics where missing.
func (c *Control) EnsureTopics(ctx context.Context) error {
	return kafka.EnsureTopics(ctx, c.adm, InternalTopics(c.fleet)...)
}
