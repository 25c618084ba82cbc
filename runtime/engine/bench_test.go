package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// quickstartTransforms are the transforms of the quickstart example
// (examples/pipelines/quickstart).
var quickstartTransforms = []control.TransformSpec{
	{Name: "drop_small", Filter: "value.amount >= 10"},
	{
		Name: "mask_pii",
		When: &control.ConditionSpec{Predicate: "external", Expr: "!value.email.endsWith('@corp.example')"},
		Set:  []control.SetSpec{{Path: "value.email", Expr: "sha256(value.email)"}},
		Drop: []string{"value.card"},
	},
}

// quickstartValues are n records of the quick start's generator, as JSON.
func quickstartValues(n int) [][]byte {
	out := make([][]byte, n)
	for seq := range n {
		domain := "@example.com"
		if seq%3 == 0 {
			domain = "@corp.example"
		}
		out[seq], _ = json.Marshal(map[string]any{"id": seq, "email": fmt.Sprint("u", seq, domain), "amount": seq % 100, "card": "4111"})
	}
	return out
}

// BenchmarkTransform runs the quick start's transforms over 10k JSON
// records in memory: decode, transforms, encode. One op is one record.
func BenchmarkTransform(b *testing.B) {
	reg := testRegistry(b, nil, nil)
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"shop.dev.orders"}, Transforms: quickstartTransforms}
	p := mustCompile(b, "sink.test.bench", spec, reg)
	tr := newTransformer(p)
	values := quickstartValues(10_000)
	kept := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, _, err := fromBytes(p.valueConv, nil, values[(i+10)%len(values)], p.uses.readValue) // from 10: the first ones are filtered
		if err != nil {
			b.Fatal(err)
		}
		rec := connector.Record{Key: "k", Value: v, Topic: "shop.dev.orders", Partition: 1, Offset: int64(i)}
		keep, err := tr.apply(&rec, true)
		if err != nil {
			b.Fatal(err)
		}
		if !keep {
			continue
		}
		kept++
		if _, err := toBytes(p.valueConv, rec.Topic, rec.Value, rec.ValueSchema); err != nil {
			b.Fatal(err)
		}
	}
	if kept == 0 {
		b.Fatal("every record was filtered")
	}
}

// BenchmarkSinkBatch measures the sink loop's processing of a fetched
// batch of 10k records (converters, transforms, building the records the
// sink gets), with a sink that does nothing; committer: one that is a
// Committer, for which the loop also tracks each partition's offsets. One
// op is one record.
func BenchmarkSinkBatch(b *testing.B) {
	for _, bm := range []struct {
		name       string
		transforms []control.TransformSpec
		committer  bool
	}{
		{"passthrough", nil, false},
		{"passthrough_committer", nil, true},
		{"quickstart", quickstartTransforms, false},
	} {
		b.Run(bm.name, func(b *testing.B) {
			reg := testRegistry(b, nil, nil)
			spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"shop.dev.orders"}, Transforms: bm.transforms}
			p := mustCompile(b, "sink.test.bench", spec, reg)
			t := &task{p: p, counters: &Counters{}, log: slog.New(slog.DiscardHandler), tr: newTransformer(p), budget: newStopBudget(context.Background(), DefaultStopTimeout)}
			defer t.budget.close()
			s := &sinkLoop{task: t, sink: nopSink{}}
			if bm.committer {
				s.sink, s.committer = nopCommitter{}, nopCommitter{}
				s.parts = map[connector.TopicPartition]*partition{}
			}
			values := quickstartValues(10_000)
			krs := make([]*kgo.Record, len(values))
			for i, v := range values {
				// Fetched from 4 partitions, a quarter of the batch each.
				krs[i] = &kgo.Record{Topic: "shop.dev.orders", Partition: int32(i * 4 / len(values)), Key: fmt.Appendf(nil, "k%d", i), Value: v, Offset: int64(i),
					Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("generator")}}}
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := s.process(krs); err != nil {
					b.Fatal(err)
				}
				n += len(krs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
		})
	}
}

// BenchmarkSourceConvert measures what a source task does to one record
// before the produce: a mirrored (Encoded) record passed through, and a
// generator's structured record through the quick start's transforms and
// the JSON encoder. One op is one record.
func BenchmarkSourceConvert(b *testing.B) {
	values := quickstartValues(10_000)
	for _, bm := range []struct {
		name       string
		transforms []control.TransformSpec
		encoded    bool
	}{
		{"passthrough", nil, true},
		{"quickstart", quickstartTransforms, false},
	} {
		b.Run(bm.name, func(b *testing.B) {
			reg := testRegistry(b, nil, nil)
			spec := &control.PipelineSpec{Kind: "source", Type: "test", Transforms: bm.transforms}
			p := mustCompile(b, "source.test.bench", spec, reg)
			t := &task{p: p, counters: &Counters{}, log: slog.New(slog.DiscardHandler), tr: newTransformer(p)}
			s := &sourceLoop{task: t}
			structured := make([]map[string]any, len(values))
			for i, v := range values {
				if err := json.Unmarshal(v, &structured[i]); err != nil {
					b.Fatal(err)
				}
			}
			headers := []connector.Header{{Key: "source", Value: []byte("generator")}}
			slab := make([]kgo.RecordHeader, 0, 1<<20)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				rec := connector.Record{Key: "k", Topic: "shop.dev.orders", Partition: -1, Headers: headers}
				if bm.encoded {
					rec.Key, rec.Value, rec.Encoded = []byte("k"), values[i%len(values)], true
				} else {
					// A generator builds a fresh map per record; the
					// copy stands for that work in both cases.
					rec.Value = maps.Clone(structured[i%len(values)])
				}
				if _, _, _, err := convertSource(s.p, s.tr, &s.orig, &rec, &slab); err != nil {
					b.Fatal(err)
				}
				if len(slab) == cap(slab) {
					slab = slab[:0]
				}
			}
		})
	}
}

// nopCommitter is a Committer that does nothing and holds nothing.
type nopCommitter struct{ nopSink }

func (nopCommitter) PreCommit(_ context.Context, written map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error) {
	return written, nil
}
