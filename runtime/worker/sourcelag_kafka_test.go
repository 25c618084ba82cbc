package worker_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

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
