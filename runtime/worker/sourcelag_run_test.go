package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
	"github.com/pipectl/pipectl/runtime/worker"
)

// TestSourceLagShown runs a kafka source (a mirror of another broker's
// topic of two partitions) and checks that, once it copied everything,
// /metrics shows its lag by source partition (0 records, 0 s) and that
// pipectl status's report carries the task's lag (0, not absent as for a
// source that does not report one).
func TestSourceLagShown(t *testing.T) {
	f := newFixture(t, "srclag")
	_, origin := kafkatest.Start(t)
	cl, err := kafka.NewClient(origin, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxFor(t, 30*time.Second)
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := range 20 {
		recs = append(recs, &kgo.Record{Topic: "orders", Partition: int32(i % 2), Value: []byte(fmt.Sprint(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	f.apply(fmt.Sprintf(`
topic "t" {}
source "kafka" "dr" {
  brokers         = [%q]
  topics          = ["orders"]
  topic_prefix    = "copy."
  key_converter   = "bytes"
  value_converter = "bytes"
  offset_syncs    = false
}
source "generator" "gen" {
  topic = topic.t.name
  rate  = 5
  value = "seq"
}
`, origin.Brokers[0]))
	base, _ := f.startWorker()

	want := []string{
		`pipectl_source_lag{partition="orders/0",pipeline="source.kafka.dr",task="0"} 0`,
		`pipectl_source_lag{partition="orders/1",pipeline="source.kafka.dr",task="0"} 0`,
		`pipectl_source_latency_seconds{partition="orders/0",pipeline="source.kafka.dr",task="0"} 0`,
		`pipectl_source_latency_seconds{partition="orders/1",pipeline="source.kafka.dr",task="0"} 0`,
	}
	eventually(t, 60*time.Second, "the mirror's lag by partition in /metrics", func() (bool, string) {
		m := metricsText(t, base)
		for _, w := range want {
			if !strings.Contains(m, w) {
				return false, "no " + w + " in\n" + m
			}
		}
		return true, ""
	})
	for _, line := range strings.Split(metricsText(t, base), "\n") {
		if strings.HasPrefix(line, "pipectl_source_") && strings.Contains(line, "source.generator.gen") {
			t.Errorf("a generator reports no lag, yet /metrics shows %s", line)
		}
	}

	var dr, gen *worker.TaskReport
	eventually(t, 30*time.Second, "the mirror's lag in pipectl status's report", func() (bool, string) {
		r, err := worker.Report(ctxFor(t, 30*time.Second), f.ctl, f.fleet)
		if err != nil {
			return false, err.Error()
		}
		for _, p := range r.Pipelines {
			switch p.Address {
			case "source.kafka.dr":
				dr = &p.Tasks[0]
			case "source.generator.gen":
				gen = &p.Tasks[0]
			}
		}
		b, _ := json.Marshal(r)
		return dr != nil && dr.Lag != nil && dr.Out == 20 && gen != nil && gen.State == "RUNNING", string(b)
	})
	if *dr.Lag != 0 || dr.LagSeconds != 0 {
		t.Errorf("mirror task caught up: lag %d records, %v s, want 0 and 0", *dr.Lag, dr.LagSeconds)
	}
	if gen.Lag != nil {
		t.Errorf("generator task reports a lag of %d, want none", *gen.Lag)
	}
}

// behindSource is a source plugin that polls nothing and says it is
// behind by a fixed amount on two source partitions: what the worker adds
// up and shows of a lag is then known exactly.
type behindSource struct{ connector.UnimplementedSource }

func (behindSource) Open(context.Context, *connector.TaskContext) error { return nil }
func (behindSource) Close() error                                       { return nil }

func (behindSource) Poll(ctx context.Context) ([]connector.Record, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Second):
		return nil, nil
	}
}

func (behindSource) Lag() []connector.SourceLag {
	return []connector.SourceLag{
		{Partition: map[string]any{"shard": "a"}, Records: 40, Latency: 3 * time.Second},
		{Partition: map[string]any{"shard": "b", "region": "eu"}, Records: 2, Latency: 500 * time.Millisecond},
	}
}

// TestSourceLagTotals checks what the worker makes of a source's lag on
// several partitions: each in /metrics, and in the status record the sum
// of the records and the largest latency, which pipectl status reports.
func TestSourceLagTotals(t *testing.T) {
	f := newFixture(t, "srclagsum")
	if err := f.reg.Register(connector.Plugin{
		Schema:    configschema.Schema{Kind: configschema.Source, Type: "behind", Attributes: []configschema.Attribute{{Name: "topic", Type: configschema.String}}},
		NewSource: func() connector.Source { return behindSource{} },
	}); err != nil {
		t.Fatal(err)
	}
	f.apply(`
topic "t" {}
source "behind" "b" {
  topic = topic.t.name
}
`)
	base, _ := f.startWorker()
	want := []string{
		`pipectl_source_lag{partition="shard=a",pipeline="source.behind.b",task="0"} 40`,
		`pipectl_source_lag{partition="region=eu,shard=b",pipeline="source.behind.b",task="0"} 2`,
		`pipectl_source_latency_seconds{partition="shard=a",pipeline="source.behind.b",task="0"} 3`,
		`pipectl_source_latency_seconds{partition="region=eu,shard=b",pipeline="source.behind.b",task="0"} 0.5`,
	}
	eventually(t, 60*time.Second, "the source's lag by partition in /metrics", func() (bool, string) {
		m := metricsText(t, base)
		for _, w := range want {
			if !strings.Contains(m, w) {
				return false, "no " + w + " in\n" + m
			}
		}
		return true, ""
	})
	var task worker.TaskReport
	eventually(t, 30*time.Second, "the source's lag in pipectl status's report", func() (bool, string) {
		r, err := worker.Report(ctxFor(t, 30*time.Second), f.ctl, f.fleet)
		if err != nil || len(r.Pipelines) != 1 || len(r.Pipelines[0].Tasks) != 1 {
			return false, fmt.Sprint(r, err)
		}
		task = r.Pipelines[0].Tasks[0]
		return task.Lag != nil, fmt.Sprintf("%+v", task)
	})
	if *task.Lag != 42 || task.LagSeconds != 3 {
		t.Errorf("status lag = %d records, %v s; want 42 (40 + 2) and 3 (the largest)", *task.Lag, task.LagSeconds)
	}
}
