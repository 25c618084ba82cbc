package worker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/engine"
)

// offsetStore is the engine's OffsetStore on the fleet's offsets topic.
type offsetStore struct{ ctl *control.Control }

func (o offsetStore) Load(ctx context.Context, pipeline string) ([]engine.SourceOffset, error) {
	m, err := o.ctl.LoadOffsets(ctx, pipeline)
	if err != nil {
		return nil, err
	}
	out := make([]engine.SourceOffset, 0, len(m))
	for _, so := range m {
		out = append(out, engine.SourceOffset{Partition: so.Partition, Offset: so.Offset})
	}
	return out, nil
}

func (o offsetStore) Records(ctx context.Context, pipeline string, offsets []engine.SourceOffset) ([]*kgo.Record, error) {
	return o.ctl.OffsetRecords(ctx, pipeline, toControl(offsets))
}

func toControl(offsets []engine.SourceOffset) []control.SourceOffset {
	out := make([]control.SourceOffset, len(offsets))
	for i, so := range offsets {
		out[i] = control.SourceOffset{Partition: so.Partition, Offset: so.Offset}
	}
	return out
}

func (o offsetStore) Save(ctx context.Context, pipeline string, offsets []engine.SourceOffset) error {
	return o.ctl.SaveOffsets(ctx, pipeline, toControl(offsets))
}
