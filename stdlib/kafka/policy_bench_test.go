package kafka

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
)

// BenchmarkPollHeaders measures the headers of one Poll of maxBatch
// records with two headers each: "copy" is what Poll did before the
// replication policy (a slice per record), "origin" the provenance header
// added to every record from one slab sized for the Poll, "same cluster"
// the slab without it.
func BenchmarkPollHeaders(b *testing.B) {
	recs := make([]*kgo.Record, maxBatch)
	for i := range recs {
		recs[i] = &kgo.Record{Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("1")}, {Key: "trace", Value: []byte("abc")}}}
	}
	b.Run("copy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range recs {
				headers := make([]connector.Header, len(r.Headers))
				for i, h := range r.Headers {
					headers[i] = connector.Header{Key: h.Key, Value: h.Value}
				}
				_ = headers
			}
		}
	})
	for name, repl := range map[string]replication{
		"origin":       {origin: []byte("src"), fleet: []byte("dst")},
		"same cluster": {},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			fetches := kgo.Fetches{{Topics: []kgo.FetchTopic{{Partitions: []kgo.FetchPartition{{Records: recs}}}}}}
			for b.Loop() {
				slab := repl.slab(fetches)
				for _, r := range recs {
					if _, skip := repl.headers(r, &slab); skip {
						b.Fatal("skipped")
					}
				}
			}
		})
	}
}
