package schemaregistry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/control"
)

// Kafka is a registry whose log is the fleet's <fleet>.schemas topic (one
// partition, compacted; the worker creates it with the other internal
// topics). Run reads the topic into the registry's state; Close releases
// the clients.
type Kafka struct {
	*Registry
	topic string
	opts  []kgo.Opt
	cl    *kgo.Client
	adm   *kadm.Client
}

// NewKafka returns the registry of fleet on the cluster that opts (the
// base client options runtime/kafka builds) reach. It reads nothing until
// Run.
func NewKafka(fleet string, opts ...kgo.Opt) (*Kafka, error) {
	topic := control.SchemasTopic(fleet)
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	)...)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	k := &Kafka{topic: topic, opts: opts, cl: cl, adm: kadm.NewClient(cl)}
	k.Registry = newRegistry(k)
	return k, nil
}

// Close releases the clients.
func (k *Kafka) Close() { k.cl.Close() }

// Topic is the registry's topic.
func (k *Kafka) Topic() string { return k.topic }

func (k *Kafka) append(ctx context.Context, key, value []byte) (int64, error) {
	rec := &kgo.Record{Topic: k.topic, Partition: 0, Key: key, Value: value}
	if err := k.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return 0, fmt.Errorf("write %s: %w", k.topic, err)
	}
	return rec.Offset, nil
}

func (k *Kafka) end(ctx context.Context) (int64, error) {
	ends, err := k.adm.ListEndOffsets(ctx, k.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("list the end of %s: %w", k.topic, err)
	}
	o, ok := ends.Lookup(k.topic, 0)
	if !ok {
		return 0, fmt.Errorf("list the end of %s: no partition 0", k.topic)
	}
	return o.Offset, nil
}

// Run reads the topic from its start into the state, then follows it,
// until ctx ends (which is not an error). The topic must exist.
func (k *Kafka) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), k.opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.topic: {0: kgo.NewOffset().AtStart()}}),
	)...)
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	defer cl.Close()
	go k.catchUp(ctx)
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				ferr = errors.Join(ferr, err)
			}
		})
		if ferr != nil {
			return fmt.Errorf("schema registry: read %s: %w", k.topic, ferr)
		}
		fetches.EachRecord(func(r *kgo.Record) { k.apply(r.Offset, r.Key, r.Value) })
	}
}

// catchUp marks the registry ready once it has applied the topic up to
// its end offset as first listed, retrying the listing until it answers.
func (k *Kafka) catchUp(ctx context.Context) {
	for {
		end, err := k.end(ctx)
		if err == nil && k.waitApplied(ctx, end) == nil {
			k.markReady()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}
