package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// SourceOffset is the saved position of one source partition.
type SourceOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// PartitionKey is the canonical text of a source partition, for maps:
// JSON with sorted keys. nil and an empty map are the same partition.
func PartitionKey(p map[string]any) string {
	if len(p) == 0 {
		return "{}"
	}
	b, err := json.Marshal(p)
	if err != nil {
		// A partition map a connector built with values JSON cannot
		// hold: fall back to Go syntax, still stable for a given map
		// (fmt prints maps with sorted keys).
		return "go:" + fmt.Sprint(p)
	}
	return string(b)
}

// OffsetStore is the store of source offsets a task uses: the pipeline's
// offsets in the offsets topic, as a list (Load), saved (Save) or as the
// records an exactly-once task writes in its own transaction (Records).
type OffsetStore struct{ c *Control }

// Offsets returns the fleet's source offset store.
func (c *Control) Offsets() OffsetStore { return OffsetStore{c} }

// Load returns the latest saved offset of every source partition of the
// pipeline, in no particular order.
func (o OffsetStore) Load(ctx context.Context, pipeline string) ([]SourceOffset, error) {
	m, err := o.c.LoadOffsets(ctx, pipeline)
	if err != nil {
		return nil, err
	}
	out := make([]SourceOffset, 0, len(m))
	for _, so := range m {
		out = append(out, so)
	}
	return out, nil
}

// Save is SaveOffsets.
func (o OffsetStore) Save(ctx context.Context, pipeline string, offsets []SourceOffset) error {
	return o.c.SaveOffsets(ctx, pipeline, offsets)
}

// Records is OffsetRecords.
func (o OffsetStore) Records(ctx context.Context, pipeline string, offsets []SourceOffset) ([]*kgo.Record, error) {
	return o.c.OffsetRecords(ctx, pipeline, offsets)
}

// SaveOffsets writes source offsets of a pipeline and waits for the
// broker's acknowledgement. A nil Offset deletes the saved offset.
func (c *Control) SaveOffsets(ctx context.Context, pipeline string, offsets []SourceOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	records, err := c.OffsetRecords(ctx, pipeline, offsets)
	if err != nil {
		return err
	}
	if err := c.cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("control: save offsets of %s: %w", pipeline, err)
	}
	return nil
}

// OffsetRecords returns the records that save source offsets, with their
// partition set (a producer that writes them must honour it), for a caller
// that writes them itself: an exactly-once source task writes them in the
// transaction of the records they cover.
func (c *Control) OffsetRecords(ctx context.Context, pipeline string, offsets []SourceOffset) ([]*kgo.Record, error) {
	p, err := c.partitionFor(ctx, c.OffsetsTopic(), pipeline)
	if err != nil {
		return nil, err
	}
	records := make([]*kgo.Record, 0, len(offsets))
	for _, o := range offsets {
		r := &kgo.Record{Topic: c.OffsetsTopic(), Partition: p,
			Key: recordKey{V: FormatVersion, Kind: "offset", Address: pipeline, Partition: o.Partition}.bytes()}
		if o.Offset != nil {
			b, err := json.Marshal(offsetValue{V: FormatVersion, Offset: o.Offset})
			if err != nil {
				return nil, fmt.Errorf("control: encode offset of %s: %w", pipeline, err)
			}
			r.Value = b
		}
		records = append(records, r)
	}
	return records, nil
}

// LoadOffsets reads the saved offsets of a pipeline, keyed by
// PartitionKey of the source partition.
func (c *Control) LoadOffsets(ctx context.Context, pipeline string) (map[string]SourceOffset, error) {
	p, err := c.partitionFor(ctx, c.OffsetsTopic(), pipeline)
	if err != nil {
		return nil, err
	}
	if err := c.awaitStable(ctx, c.OffsetsTopic(), p); err != nil {
		return nil, err
	}
	out := map[string]SourceOffset{}
	var ferr error
	err = c.readToEnd(ctx, c.OffsetsTopic(), []int32{p}, true, func(r *kgo.Record) {
		k, err := parseKey(r.Key)
		if err != nil || k.Kind != "offset" || k.Address != pipeline {
			return
		}
		key := PartitionKey(k.Partition)
		if r.Value == nil {
			delete(out, key)
			return
		}
		var v offsetValue
		if err := json.Unmarshal(r.Value, &v); err != nil {
			ferr = fmt.Errorf("control: offset record of %s at %d is malformed", pipeline, r.Offset)
			return
		}
		out[key] = SourceOffset{Partition: k.Partition, Offset: v.Offset}
	})
	if err != nil {
		return nil, err
	}
	return out, ferr
}

// awaitStable waits until every transaction that was open on a partition
// when it was called has ended, so that a read_committed read sees every
// offset committed so far: exactly-once tasks of a pipeline share its
// offsets partition, and one's open transaction would otherwise hide what
// the others committed after it began. It gives up after 40 s (longer
// than the tasks' transaction timeout) and reads what it can.
func (c *Control) awaitStable(ctx context.Context, topic string, partition int32) error {
	hw, err := c.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("control: list offsets of %s: %w", topic, err)
	}
	target, ok := hw.Lookup(topic, partition)
	if !ok {
		return nil
	}
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		lso, err := c.adm.ListCommittedOffsets(ctx, topic)
		if err != nil {
			return fmt.Errorf("control: list offsets of %s: %w", topic, err)
		}
		if o, ok := lso.Lookup(topic, partition); !ok || o.Offset >= target.Offset {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// ReadConnectOffsets reads the source offsets a Kafka Connect connector
// saved in Connect's offsets topic (offset.storage.topic): records keyed
// ["NAME", {partition}] with the offset map as value, the latest per
// partition winning and a null value deleting it. Records of other
// connectors and malformed ones are skipped. A topic that does not exist is
// an error.
func (c *Control) ReadConnectOffsets(ctx context.Context, topic, connector string) ([]SourceOffset, error) {
	latest := map[string]SourceOffset{}
	var order []string
	err := c.readToEnd(ctx, topic, nil, false, func(r *kgo.Record) {
		var key []json.RawMessage
		if json.Unmarshal(r.Key, &key) != nil || len(key) != 2 {
			return
		}
		var name string
		var partition map[string]any
		if json.Unmarshal(key[0], &name) != nil || name != connector || json.Unmarshal(key[1], &partition) != nil {
			return
		}
		pk := PartitionKey(partition)
		if r.Value == nil {
			delete(latest, pk)
			return
		}
		var offset map[string]any
		if json.Unmarshal(r.Value, &offset) != nil {
			return
		}
		if _, seen := latest[pk]; !seen {
			order = append(order, pk)
		}
		latest[pk] = SourceOffset{Partition: partition, Offset: offset}
	})
	if err != nil {
		return nil, err
	}
	var out []SourceOffset
	for _, pk := range order {
		if so, ok := latest[pk]; ok {
			out = append(out, so)
		}
	}
	return out, nil
}
