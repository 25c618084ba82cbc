package converters_test

import (
	"encoding/json"
	"testing"

	"github.com/pipectl/pipectl/stdlib/converters"
)

// benchRecord is ~200 bytes of JSON, the record size of the throughput
// figures in docs/performance.md.
var benchRecord = []byte(`{"id":123456,"email":"user123456@example.com","amount":42.5,"currency":"EUR","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"card":"4111111111111111","paid":true,"note":null}`)

func BenchmarkJSONDecode(b *testing.B) {
	c := newConverter(b, "json", nil)
	b.SetBytes(int64(len(benchRecord)))
	for b.Loop() {
		if _, err := c.Decode(benchRecord); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONCheck(b *testing.B) {
	c := newConverter(b, "json", nil)
	b.SetBytes(int64(len(benchRecord)))
	for b.Loop() {
		if _, err := c.Check(benchRecord); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONValid is Check's validator alone, without the allocation of
// the json.RawMessage in an interface that Check returns.
func BenchmarkJSONValid(b *testing.B) {
	b.SetBytes(int64(len(benchRecord)))
	for b.Loop() {
		if !converters.ValidJSON(benchRecord) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkJSONEncode(b *testing.B) {
	c := newConverter(b, "json", nil)
	v, err := c.Decode(benchRecord)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchRecord)))
	for b.Loop() {
		if _, err := c.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}

// The encoding/json baselines the converter is measured against.
func BenchmarkStdlibJSONUnmarshal(b *testing.B) {
	b.SetBytes(int64(len(benchRecord)))
	for b.Loop() {
		var v any
		if err := json.Unmarshal(benchRecord, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdlibJSONValid(b *testing.B) {
	b.SetBytes(int64(len(benchRecord)))
	for b.Loop() {
		if !json.Valid(benchRecord) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkStdlibJSONMarshal(b *testing.B) {
	var v any
	if err := json.Unmarshal(benchRecord, &v); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchRecord)))
	for b.Loop() {
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEnvelope is benchRecord's shape in Kafka Connect's envelope, as the
// json converter with schemas_enable writes it.
const benchEnvelopeSchema = `{"type":"struct","fields":[
	{"name":"id","schema":{"type":"int64"}},
	{"name":"email","schema":{"type":"string"}},
	{"name":"amount","schema":{"type":"bytes","logical":"decimal","precision":10,"scale":2}},
	{"name":"currency","schema":{"type":"string"}},
	{"name":"items","schema":{"type":"array","items":{"type":"struct","fields":[{"name":"sku","schema":{"type":"string"}},{"name":"qty","schema":{"type":"int32"}}]}}},
	{"name":"card","schema":{"type":"string"}},
	{"name":"paid","schema":{"type":"boolean"}},
	{"name":"note","schema":{"type":"string","optional":true}}]}`

func benchEnvelopeValue() map[string]any {
	return map[string]any{"id": int64(123456), "email": "user123456@example.com", "amount": "42.50", "currency": "EUR",
		"items": []any{map[string]any{"sku": "A-1", "qty": int64(2)}, map[string]any{"sku": "B-7", "qty": int64(1)}},
		"card":  "4111111111111111", "paid": true, "note": nil}
}

// BenchmarkJSONEnvelopeEncode writes benchRecord's shape with its schema
// (schemas_enable): the schema's JSON is cached, the value checked and
// written.
func BenchmarkJSONEnvelopeEncode(b *testing.B) {
	c := envelope(b)
	s, v := mustSchema(b, benchEnvelopeSchema), benchEnvelopeValue()
	out, err := c.EncodeWithSchema(v, s)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := c.EncodeWithSchema(v, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONEnvelopeDecode reads it back: the schema comes from the
// cache, the payload is decoded against it.
func BenchmarkJSONEnvelopeDecode(b *testing.B) {
	c := envelope(b)
	in, err := c.EncodeWithSchema(benchEnvelopeValue(), mustSchema(b, benchEnvelopeSchema))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := c.DecodeWithSchema(in); err != nil {
			b.Fatal(err)
		}
	}
}
