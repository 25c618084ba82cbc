package worker_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// TestAvroPipelineFleetRegistry is the converters' fleet-registry path: a
// converter without a registry block uses the worker's own Schema
// Registry. Records encoded by hamba/avro with an id registered through
// the worker's REST API (franz-go's sr client) → the avro converter
// decodes → CEL sets a field → the converter re-encodes, auto-registering
// the record schema under out-value in the fleet registry → hamba/avro
// decodes by the id in each record's header, fetched over REST.
func TestAvroPipelineFleetRegistry(t *testing.T) {
	f := newFixture(t, "avrofleet")
	f.apply(`
topic "in" {}
topic "out" {}
converter "avro" {
  type = "avro"
}
transform "shout" {
  set = { "value.name" = "value.name + '!'" }
}
source "kafka" "avro" {
  topics          = [topic.in.name]
  topic           = topic.out.name
  value_converter = converter.avro
  transforms      = [transform.shout]
}
`)
	url, _ := f.startWorker()
	waitRegistry(t, url)
	srcl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 60*time.Second)
	schema := avro.MustParse(orderAvsc)
	in, err := srcl.CreateSchema(ctx, "in-value", sr.Schema{Schema: orderAvsc})
	if err != nil {
		t.Fatal(err)
	}
	var serde sr.Serde
	serde.Register(in.ID, avroOrder{},
		sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(schema, v) }))
	const n = 10
	cl, err := kgo.NewClient(append(f.clientOpts(t), kgo.ProducerLinger(0))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range n {
		b, err := serde.Encode(sampleOrder(i))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: "in", Key: []byte(strconv.Itoa(i)), Value: b})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	out := consumeRecords(t, f, "out", n)
	checkShoutedOrders(t, ctx, srcl, out)
	latest, err := srcl.SchemaByVersion(ctx, "out-value", -1)
	if err != nil {
		t.Fatalf("out-value was not auto-registered in the worker's registry: %v", err)
	}
	if id, _, _ := (&sr.ConfluentHeader{}).DecodeID(out[0].Value); latest.ID != id {
		t.Errorf("out-value's latest id %d, the records carry %d", latest.ID, id)
	}
}
