package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/control"
)

// offsetStore is the fleet's source offset store (control.OffsetStore)
// with a debug line for every save, on the pipeline's logger.
type offsetStore struct {
	control.OffsetStore
	log    *slog.Logger
	levels *logLevels
}

func (o offsetStore) Save(ctx context.Context, pipeline string, offsets []control.SourceOffset) error {
	err := o.OffsetStore.Save(ctx, pipeline, offsets)
	if o.levels.effective(pipeline) <= slog.LevelDebug {
		o.log.With("pipeline", pipeline).Debug("saved source offsets", "partitions", len(offsets), "error", err)
	}
	return err
}

// sinkOffsets reads the offsets of a PATCH .../offsets of a sink pipeline
// (KIP-875's shape: partition {"kafka_topic": T, "kafka_partition": P},
// offset {"kafka_offset": O} or null): the offsets to commit and the
// partitions whose committed offset is removed (a null offset: the sink
// starts them from start_from). Every error is the client's
// (api.ErrBadRequest) and names the entry of "offsets" at fault.
func sinkOffsets(o api.Offsets) (kadm.Offsets, kadm.TopicsSet, error) {
	set, reset := kadm.Offsets{}, kadm.TopicsSet{}
	for i, po := range o.Offsets {
		topic, _ := po.Partition["kafka_topic"].(string)
		raw, hasPart := po.Partition["kafka_partition"]
		if topic == "" || !hasPart {
			return nil, nil, api.Errorf(api.ErrBadRequest, `offsets[%d]: a sink offset's partition is {"kafka_topic": NAME, "kafka_partition": N}`, i)
		}
		part, ok := number(raw)
		if !ok || part < 0 || part > math.MaxInt32 {
			return nil, nil, api.Errorf(api.ErrBadRequest, "offsets[%d]: kafka_partition is %s: want a partition number, 0 or more", i, jsonText(raw))
		}
		if po.Offset == nil {
			reset.Add(topic, int32(part))
			continue
		}
		raw, hasAt := po.Offset["kafka_offset"]
		at, ok := number(raw)
		switch {
		case !hasAt:
			return nil, nil, api.Errorf(api.ErrBadRequest, `offsets[%d]: a sink offset is {"kafka_offset": N}, or null to reset the partition`, i)
		case !ok || at < 0:
			return nil, nil, api.Errorf(api.ErrBadRequest, "offsets[%d]: kafka_offset is %s: want an offset, 0 or more (null resets the partition to the sink's start_from)", i, jsonText(raw))
		}
		set.AddOffset(topic, int32(part), at, -1)
	}
	return set, reset, nil
}

// checkPartitions refuses, as the client's error, offsets for a topic or
// partition the cluster does not have (the broker would answer
// UNKNOWN_TOPIC_OR_PARTITION).
func (f *fleet) checkPartitions(ctx context.Context, set kadm.Offsets, reset kadm.TopicsSet) error {
	want := kadm.TopicsSet{}
	set.Each(func(o kadm.Offset) { want.Add(o.Topic, o.Partition) })
	for topic, parts := range reset {
		for p := range parts {
			want.Add(topic, p)
		}
	}
	details, err := f.admin.ListTopics(ctx, want.Topics()...)
	if err != nil {
		return fmt.Errorf("listing the topics of the offsets: %w", err)
	}
	for _, topic := range want.Topics() {
		td, ok := details[topic]
		if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			return api.Errorf(api.ErrBadRequest, "topic %q does not exist", topic)
		}
		if td.Err != nil {
			return fmt.Errorf("listing topic %s: %w", topic, td.Err)
		}
		for _, p := range slices.Sorted(maps.Keys(want[topic])) {
			if _, ok := td.Partitions[p]; !ok {
				return api.Errorf(api.ErrBadRequest, "topic %q has no partition %d (it has %d partitions)", topic, p, len(td.Partitions))
			}
		}
	}
	return nil
}

// checkSourceOffsets refuses negative numbers in source offsets: those of
// pipectl's connectors are positions (a sequence number, a file position,
// a Kafka offset), and a negative one would start the task over.
func checkSourceOffsets(o api.Offsets) error {
	for i, po := range o.Offsets {
		for _, k := range slices.Sorted(maps.Keys(po.Offset)) {
			if n, ok := po.Offset[k].(json.Number); ok && strings.HasPrefix(n.String(), "-") {
				return api.Errorf(api.ErrBadRequest, "offsets[%d]: %s is %s: source offsets are positions, 0 or more", i, k, n)
			}
		}
	}
	return nil
}

// jsonText shows a value of a request body as it was written.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
