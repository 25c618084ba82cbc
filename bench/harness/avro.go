package harness

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/pipectl/pipectl/bench/baseline"
)

// avroInput is the input topic of the avro_transform scenario.
const avroInput = "bench.avro"

// runAvroTransform measures kafka → CEL filter + set → kafka with Avro in
// and out: a kafka source on the fleet's cluster with the avro converter
// (the registry: franz-go's srfake, served by the harness) against
// baseline.AvroTransform (franz-go and hamba/avro, the schema known).
func runAvroTransform(ctx context.Context, e *env) (*Result, error) {
	reg := srfake.New()
	defer reg.Close()
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		return nil, err
	}
	ss, err := cl.CreateSchema(ctx, avroInput+"-value", sr.Schema{Schema: baseline.RecordAvsc})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	kept, err := seedAvro(ctx, e.broker, e.cfg.Records, ss.ID)
	if err != nil {
		return nil, err
	}
	e.logf("seeded %d Avro records into %s in %s", e.cfg.Records, avroInput, time.Since(start).Round(time.Millisecond))
	if err := e.broker.each(ctx, avroInput, e.cfg.Records, func(*kgo.Record) {}); err != nil {
		return nil, fmt.Errorf("reading the input once before the runs: %w", err)
	}
	out := topicOutput(func(*env) int64 { return kept })
	return runThroughput(ctx, e, throughput{
		records: e.cfg.Records,
		output: func(ctx context.Context, e *env, name string) (*output, error) {
			o, err := out(ctx, e, name)
			if o != nil {
				o.records = nil // Avro, not the JSON -verify compares
			}
			return o, err
		},
		pipeline: func(e *env, target string) string {
			return fmt.Sprintf(`converter "avro" {
  type = "avro"
  registry {
    url = %q
  }
}
%s
source "kafka" "bench" {
  topics          = [%q]
  topic           = %q
  key_converter   = "bytes"
  value_converter = converter.avro
  transforms      = [transform.bench]
}
`, reg.URL(), transformHCL, avroInput, target)
		},
		baseline: func(e *env, target, group string) []string {
			return []string{"-name", "avro_transform", "-brokers", e.broker.addr, "-input", avroInput, "-group", group,
				"-output", target, "-schema-id", strconv.Itoa(ss.ID)}
		},
	})
}

// seedAvro fills the avro_transform input with records 0 to n-1 written
// with schema id, keyed by id, and returns how many the filter keeps.
func seedAvro(ctx context.Context, b *broker, n int64, id int) (kept int64, err error) {
	if err := b.createTopic(ctx, avroInput, inputPartitions); err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var once sync.Once
	var firstErr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			once.Do(func() { firstErr = err })
		}
	}
	for seq := range n {
		v, err := baseline.AvroValue(seq, id)
		if err != nil {
			return 0, err
		}
		if baseline.Kept(seq) {
			kept++
		}
		cl.Produce(ctx, &kgo.Record{Topic: avroInput, Key: baseline.Key(seq), Value: v}, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, err
	}
	if firstErr != nil {
		return 0, fmt.Errorf("seeding %s: %w", avroInput, firstErr)
	}
	return kept, nil
}
