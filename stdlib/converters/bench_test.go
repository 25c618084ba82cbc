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
