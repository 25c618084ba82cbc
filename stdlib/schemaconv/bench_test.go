package schemaconv_test

import (
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/pipectl/pipectl/stdlib/schemaconv"
)

const benchAvsc = `{"type": "record", "name": "Order", "namespace": "bench", "fields": [
  {"name": "id", "type": "long"},
  {"name": "email", "type": "string"},
  {"name": "amount", "type": "double"},
  {"name": "country", "type": "string"},
  {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item",
    "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "long"}]}}},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "note", "type": ["null", "string"], "default": null}
]}`

// benchValue is a record of the bench's usual shape (an order with two
// items).
func benchValue() map[string]any {
	return map[string]any{
		"id": int64(123456), "email": "someone@example.com", "amount": 42.5, "country": "FR",
		"items": []any{map[string]any{"sku": "A-1", "qty": int64(2)}, map[string]any{"sku": "B-22", "qty": int64(1)}},
		"ts":    time.UnixMilli(1700000000123).UTC(), "note": nil,
	}
}

// BenchmarkAvroConverter decodes and encodes one record through the avro
// converter (schema id cached), as a pipeline with a transform does.
func BenchmarkAvroConverter(b *testing.B) {
	reg := fake(b)
	c := build(b, schemaconv.NewAvro, reg, map[string]any{"schema": benchAvsc})
	wire, err := c.EncodeFor("t", benchValue(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.DecodeWithSchema(wire); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, s, err := c.DecodeWithSchema(wire)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.EncodeFor("t", v, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAvroHambaGeneric is the baseline: hamba/avro's own generic
// decode into a map and encode of it, after the 5-byte header.
func BenchmarkAvroHambaGeneric(b *testing.B) {
	schema := avro.MustParse(benchAvsc)
	reg := fake(b)
	c := build(b, schemaconv.NewAvro, reg, map[string]any{"schema": benchAvsc})
	wire, err := c.EncodeFor("t", benchValue(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var v map[string]any
		if err := avro.Unmarshal(schema, wire[5:], &v); err != nil {
			b.Fatal(err)
		}
		out, err := avro.Marshal(schema, v)
		if err != nil {
			b.Fatal(err)
		}
		_ = append(wire[:5:5], out...)
	}
}

// BenchmarkAvroDecodeUncached decodes with a new converter each time: one
// registry round trip (srfake over HTTP) per record, what the id cache
// saves.
func BenchmarkAvroDecodeUncached(b *testing.B) {
	reg := fake(b)
	wire, err := build(b, schemaconv.NewAvro, reg, map[string]any{"schema": benchAvsc}).EncodeFor("t", benchValue(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		c := build(b, schemaconv.NewAvro, reg, nil)
		b.StartTimer()
		if _, err := c.Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}
