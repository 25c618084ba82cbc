package baseline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// RecordAvsc is the Avro schema of Record, the values of the
// avro_transform scenario.
const RecordAvsc = `{"type": "record", "name": "Record", "namespace": "bench", "fields": [
  {"name": "amount", "type": "double"},
  {"name": "country", "type": "string"},
  {"name": "email", "type": "string"},
  {"name": "id", "type": "long"},
  {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
    {"name": "price", "type": "double"},
    {"name": "qty", "type": "long"},
    {"name": "sku", "type": "string"}]}}},
  {"name": "ts", "type": "string"}
]}`

var recordSchema = avro.MustParse(RecordAvsc)

// AvroValue returns record seq in Confluent's wire format with schema id.
func AvroValue(seq int64, id int) ([]byte, error) {
	b, err := (&sr.ConfluentHeader{}).AppendEncode(nil, id, nil)
	if err != nil {
		return nil, err
	}
	v, err := avro.Marshal(recordSchema, NewRecord(seq))
	return append(b, v...), err
}

// AvroTransform is Transform on Avro values in Confluent's wire format:
// hamba/avro decodes each value into a Record (the schema is known, so no
// registry is asked), the records whose amount is at least 10 are kept
// with email replaced by its SHA-256 in hex, and hamba/avro encodes them
// again with a.SchemaID.
func AvroTransform(ctx context.Context, a Args) error {
	var h sr.ConfluentHeader
	return kafkaToKafka(ctx, a, func(r *kgo.Record) ([]byte, bool, error) {
		_, payload, err := h.DecodeID(r.Value)
		if err != nil {
			return nil, false, fmt.Errorf("record at %s/%d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		var rec Record
		if err := avro.Unmarshal(recordSchema, payload, &rec); err != nil {
			return nil, false, fmt.Errorf("record at %s/%d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		if !(rec.Amount >= MinAmount) {
			return nil, false, nil
		}
		sum := sha256.Sum256([]byte(rec.Email))
		rec.Email = hex.EncodeToString(sum[:])
		out, err := h.AppendEncode(make([]byte, 0, len(r.Value)+32), a.SchemaID, nil)
		if err != nil {
			return nil, false, err
		}
		v, err := avro.Marshal(recordSchema, rec)
		return append(out, v...), true, err
	})
}
