package file_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/file"
)

// BenchmarkSinkWrite writes batches of the records of issue 7's file_sink
// scenario (~200 bytes of JSON text from the json converter's Check) to
// os.DevNull: what it measures is the sink's own work, not the disk's.
func BenchmarkSinkWrite(b *testing.B) {
	value := json.RawMessage(`{"amount":42.5,"country":"DE","email":"customer123456@example.com","id":123456,"items":[{"price":6.99,"qty":2,"sku":"SKU-456"},{"price":3.75,"qty":1,"sku":"SKU-72"}],"ts":"2023-11-16T08:30:56Z"}`)
	records := make([]connector.Record, 1000)
	for i := range records {
		records[i] = connector.Record{Topic: "orders", Offset: int64(i), Key: "123456", Value: value}
	}
	s := file.Sink().NewSink()
	tc := &connector.TaskContext{Pipeline: "sink.file.bench", Tasks: 1,
		Config: map[string]any{"path": os.DevNull, "format": "value"}}
	if err := s.Open(context.Background(), tc); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetBytes(int64(len(records) * (len(value) + 1)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(context.Background(), records); err != nil {
			b.Fatal(err)
		}
	}
}
