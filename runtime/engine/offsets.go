package engine

import (
	"context"
	"encoding/json"
	"math"
	"reflect"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/control"
)

// SourceOffset is the saved position of one source partition: the
// connector.Record fields SourcePartition and SourceOffset of the latest
// acknowledged record of that partition.
type SourceOffset = control.SourceOffset

// OffsetStore keeps the source offsets of pipelines (in the fleet, the
// compacted <fleet>.offsets topic: control.OffsetStore). Every task of a
// pipeline loads all of the pipeline's offsets and saves those of the
// partitions it reads.
type OffsetStore interface {
	// Load returns the latest saved offset of every source partition of
	// the pipeline. Values may have gone through JSON: the engine turns
	// whole numbers (float64 or json.Number) back into int64 before a
	// connector sees them.
	Load(ctx context.Context, pipeline string) ([]SourceOffset, error)
	// Save records offsets, one per source partition; a later Save of the
	// same partition replaces it. An error marked retriable is retried.
	Save(ctx context.Context, pipeline string, offsets []SourceOffset) error
}

// TxnOffsetStore is an OffsetStore that can hand over the records that
// save offsets, so that an exactly-once source writes them in its own
// transaction.
type TxnOffsetStore interface {
	OffsetStore
	Records(ctx context.Context, pipeline string, offsets []SourceOffset) ([]*kgo.Record, error)
}

// keyCache remembers the key of the last partition map it saw, so that a
// source that gives all records of a batch the same map pays for one key.
// It is reset for every batch: within one batch every map is still
// referenced, so an address cannot be reused by another map.
type keyCache struct {
	ptr  uintptr
	n    int
	last string
}

func (c *keyCache) reset() { *c = keyCache{} }

func (c *keyCache) key(p map[string]any) string {
	if p == nil {
		return "{}"
	}
	ptr := reflect.ValueOf(p).Pointer()
	if ptr == c.ptr && len(p) == c.n && c.last != "" {
		return c.last
	}
	c.ptr, c.n, c.last = ptr, len(p), control.PartitionKey(p)
	return c.last
}

// normalize turns whole JSON numbers back into int64, recursively.
func normalize(v any) any {
	switch v := v.(type) {
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v)
		}
		return v
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return normalize(m).(map[string]any)
}
