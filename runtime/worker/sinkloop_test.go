package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// TestKafkaSinkNeverReadsItsOutput: a kafka sink on the fleet's own
// cluster whose topics_regex matches the topics it writes (copy.orders
// matches ".*orders") leaves them out of what it reads. Before, it read
// its own copies and wrote copy.copy.orders, and so on for ever.
func TestKafkaSinkNeverReadsItsOutput(t *testing.T) {
	f := newFixture(t, "loop")
	f.apply(`
topic "orders" {}
topic "copy" {
  name = "copy.orders"
}
topic "copy2" {
  name = "copy.copy.orders"
}
sink "kafka" "copy" {
  topics_regex    = ".*orders"
  topic_prefix    = "copy."
  key_converter   = "bytes"
  value_converter = "bytes"
}
`)
	cl, err := kafka.NewClient(f.kcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 20
	for i := range n {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "orders", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	base, _ := f.startWorker()
	ends := func() (map[string]int64, error) {
		listed, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), "orders", "copy.orders", "copy.copy.orders")
		if err != nil {
			return nil, err
		}
		out := map[string]int64{}
		listed.Each(func(o kadm.ListedOffset) { out[o.Topic] += o.Offset })
		return out, listed.Error()
	}
	eventually(t, 60*time.Second, "the copies", func() (bool, string) {
		e, err := ends()
		return err == nil && e["copy.orders"] >= n, fmt.Sprint(e, err, pipelineState(t, base, "sink.kafka.copy"))
	})
	time.Sleep(3 * time.Second) // a loop would go on copying meanwhile
	e, err := ends()
	if err != nil {
		t.Fatal(err)
	}
	if e["copy.orders"] != n || e["copy.copy.orders"] != 0 {
		t.Errorf("end offsets %v: want %d copies in copy.orders and none in copy.copy.orders", e, n)
	}
	if st := pipelineState(t, base, "sink.kafka.copy"); st != "RUNNING" {
		t.Errorf("the sink is %s, want RUNNING", st)
	}
}
