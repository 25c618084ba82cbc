package worker_test

import (
	"context"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// orderAvsc has every Avro type and logical type the pipeline test sends
// through Kafka (the converter's own tests cover general unions too).
const orderAvsc = `{
  "type": "record", "name": "Order", "namespace": "shop",
  "fields": [
    {"name": "id", "type": "long"},
    {"name": "n", "type": "int"},
    {"name": "ok", "type": "boolean"},
    {"name": "f", "type": "float"},
    {"name": "d", "type": "double"},
    {"name": "raw", "type": "bytes"},
    {"name": "name", "type": "string"},
    {"name": "email", "type": ["null", "string"], "default": null},
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
    {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "placedu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
    {"name": "hash", "type": {"type": "fixed", "name": "MD5", "size": 4}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "long"}},
    {"name": "addr", "type": ["null", {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]}], "default": null}
  ]
}`

// avroOrder is orderAvsc as hamba/avro maps it to Go, so that the records
// in and out are written and read by a library pipectl does not own.
type avroOrder struct {
	ID      int64            `avro:"id"`
	N       int32            `avro:"n"`
	OK      bool             `avro:"ok"`
	F       float32          `avro:"f"`
	D       float64          `avro:"d"`
	Raw     []byte           `avro:"raw"`
	Name    string           `avro:"name"`
	Email   *string          `avro:"email"`
	Amount  *big.Rat         `avro:"amount"`
	Day     time.Time        `avro:"day"`
	Tm      time.Duration    `avro:"tm"`
	Tu      time.Duration    `avro:"tu"`
	Placed  time.Time        `avro:"placed"`
	PlacedU time.Time        `avro:"placedu"`
	UID     string           `avro:"uid"`
	Status  string           `avro:"status"`
	Hash    [4]byte          `avro:"hash"`
	Tags    []string         `avro:"tags"`
	Attrs   map[string]int64 `avro:"attrs"`
	Addr    *avroAddress     `avro:"addr"`
}

type avroAddress struct {
	City string `avro:"city"`
}

func sampleOrder(i int) avroOrder {
	email := "u" + strconv.Itoa(i) + "@example.com"
	o := avroOrder{
		ID: int64(i), N: int32(-i), OK: i%3 == 0, F: 1.5, D: float64(i) / 4, Raw: []byte{byte(i), 0, 255},
		Name: "order-" + strconv.Itoa(i), Amount: big.NewRat(int64(i)*100+5, 100),
		Day: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), Tm: 13*time.Hour + time.Duration(i)*time.Millisecond,
		Tu: time.Duration(i) * time.Microsecond, Placed: time.UnixMilli(1700000000000 + int64(i)).UTC(),
		PlacedU: time.UnixMicro(1700000000000000 + int64(i)).UTC(), UID: "0f8fad5b-d9cb-469f-a165-70867728950e",
		Status: []string{"NEW", "PAID"}[i%2], Hash: [4]byte{1, 2, 3, byte(i)},
		Tags: []string{"t" + strconv.Itoa(i)}, Attrs: map[string]int64{"k": int64(i)},
	}
	if i%4 == 0 {
		o.Email = &email
		o.Addr = &avroAddress{City: "Lyon"}
	}
	return o
}

// TestAvroPipelineSRFake runs Avro records through a pipeline: encoded
// by hamba/avro with franz-go's sr Serde against srfake (a Schema
// Registry pipectl did not write) → Kafka → the avro converter decodes →
// CEL filters and sets a field → the avro converter encodes with the
// record's schema, auto-registered → Kafka → hamba/avro decodes with the
// schema fetched from srfake; compared field by field. Bytes without the
// magic byte and an unknown schema id go to the dead-letter topic.
func TestAvroPipelineSRFake(t *testing.T) {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	srcl, err := sr.NewClient(sr.URLs(reg.URL()))
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

	f := newFixture(t, "avro")
	f.apply(`
topic "in" {}
topic "out" {}
topic "dlq" {}
converter "avro" {
  type = "avro"
  registry {
    url = ` + strconv.Quote(reg.URL()) + `
  }
}
transform "even" {
  filter = "value.id % 2 == 0"
}
transform "shout" {
  set = { "value.name" = "value.name + '!'" }
}
source "kafka" "avro" {
  topics          = [topic.in.name]
  topic           = topic.out.name
  value_converter = converter.avro
  transforms      = [transform.even, transform.shout]
  errors {
    tolerance         = "all"
    dead_letter_topic = topic.dlq.name
  }
}
`)
	const n = 40
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
	recs = append(recs,
		&kgo.Record{Topic: "in", Key: []byte("json"), Value: []byte(`{"id": 2}`)},
		&kgo.Record{Topic: "in", Key: []byte("unknown"), Value: []byte{0, 0, 0, 0x7f, 0x7f, 2}})
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	f.startWorker()

	out := consumeRecords(t, f, "out", n/2)
	checkShoutedOrders(t, ctx, srcl, out)
	subjects, err := srcl.Subjects(ctx)
	if err != nil || !strings.Contains(strings.Join(subjects, ","), "out-value") {
		t.Errorf("subjects %v (%v): the record schema was not registered under out-value", subjects, err)
	}

	dlq := consumeRecords(t, f, "dlq", 2)
	reasons := map[string]string{}
	for _, r := range dlq {
		for _, h := range r.Headers {
			if h.Key == "pipectl.error.message" {
				reasons[string(r.Key)] = string(h.Value)
			}
		}
	}
	if !strings.Contains(reasons["json"], "magic byte") || !strings.Contains(reasons["unknown"], "no schema with id 32639") {
		t.Errorf("dead-letter reasons %q", reasons)
	}
}

// checkShoutedOrders decodes records pipectl wrote with the avro
// converter as a third party does (the id in the header, the schema by id
// from the registry, hamba/avro) and compares each with the sample order
// of its key, its name shouted by the test's transform.
func checkShoutedOrders(t *testing.T, ctx context.Context, srcl *sr.Client, out []*kgo.Record) {
	t.Helper()
	for _, r := range out {
		id, rest, err := (&sr.ConfluentHeader{}).DecodeID(r.Value)
		if err != nil {
			t.Fatalf("out: %v", err)
		}
		ss, err := srcl.SchemaByID(ctx, id)
		if err != nil {
			t.Fatalf("the out schema %d is not in the registry: %v", id, err)
		}
		outSchema, err := avro.Parse(ss.Schema)
		if err != nil {
			t.Fatalf("the registered out schema does not parse: %v\n%s", err, ss.Schema)
		}
		var got avroOrder
		if err := avro.Unmarshal(outSchema, rest, &got); err != nil {
			t.Fatalf("hamba/avro cannot read what pipectl wrote: %v", err)
		}
		i, _ := strconv.Atoi(string(r.Key))
		want := sampleOrder(i)
		want.Name += "!"
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b *big.Rat) bool { return a.Cmp(b) == 0 })); diff != "" {
			t.Errorf("record %d (-want +got):\n%s", i, diff)
		}
	}
}

// consumeRecords reads n records of topic from the start.
func consumeRecords(t *testing.T, f *fixture, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(f.clientOpts(t), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: %d records of %d within 60 s", topic, len(out), n)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

func (f *fixture) clientOpts(t *testing.T) []kgo.Opt {
	opts, err := f.kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

const pipelineProto = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Order {
  int64 id = 1;
  int32 n = 2;
  uint32 u32 = 3;
  uint64 u64 = 4;
  sint32 s32 = 5;
  fixed64 f64 = 6;
  bool ok = 7;
  float f = 8;
  double d = 9;
  string name = 10;
  bytes raw = 11;
  optional string email = 12;
  Status status = 13;
  Address addr = 14;
  repeated string tags = 15;
  map<string, int64> attrs = 16;
  map<int32, Address> by_n = 17;
  google.protobuf.Timestamp placed = 18;
  google.protobuf.StringValue note = 19;
  repeated Address lines = 20;
  enum Status { NEW = 0; PAID = 1; }
  message Address { string city = 1; }
}
`

const pipelineJSONSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "shop.Order",
  "type": "object",
  "properties": {
    "id": {"type": "integer"},
    "ok": {"type": "boolean"},
    "amount": {"type": "number"},
    "name": {"type": "string"},
    "email": {"type": ["string", "null"]},
    "day": {"type": "string", "format": "date"},
    "placed": {"type": "string", "format": "date-time"},
    "uid": {"type": "string", "format": "uuid"},
    "raw": {"type": "string", "contentEncoding": "base64"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "attrs": {"type": "object", "additionalProperties": {"type": "integer"}},
    "addr": {"type": "object", "title": "Address", "properties": {"city": {"type": "string"}}, "required": ["city"]}
  },
  "required": ["id", "ok", "amount", "name", "day", "placed", "uid", "raw", "tags", "attrs"]
}`

// TestRegistryConvertersPipeline sends Protobuf and JSON Schema values of
// every type through encode → Kafka → decode → CEL (filter and set) →
// encode (protobuf with its configured .proto; json_schema with the
// record's schema written as a JSON Schema and auto-registered) → Kafka →
// decode, against srfake, and compares them field by field.
func TestRegistryConvertersPipeline(t *testing.T) {
	for _, tc := range []struct {
		name, converter string
		config          map[string]any
		value           func(i int) map[string]any
	}{
		{"protobuf", `
  type    = "protobuf"
  schema  = ` + strconv.Quote(pipelineProto) + `
  message = "shop.Order"`, map[string]any{"schema": pipelineProto}, func(i int) map[string]any {
			return map[string]any{
				"id": int64(i), "n": int64(-i), "u32": int64(4000000000), "u64": int64(1) << 62, "s32": int64(-3),
				"f64": int64(99), "ok": i%3 == 0, "f": float64(1.5), "d": float64(i) / 4, "name": "order-" + strconv.Itoa(i),
				"raw": []byte{byte(i), 0, 255}, "email": nil, "status": []string{"NEW", "PAID"}[i%2],
				"addr": map[string]any{"city": "Lyon"}, "tags": []any{"x", "y"}, "attrs": map[string]any{"a": int64(i)},
				"by_n":   map[string]any{"3": map[string]any{"city": "Oslo"}},
				"placed": time.Unix(1700000000+int64(i), 123456789).UTC(), "note": "hi",
				"lines": []any{map[string]any{"city": "A"}, map[string]any{"city": "B"}},
			}
		}},
		{"json_schema", `
  type = "json_schema"`, map[string]any{"schema": pipelineJSONSchema}, func(i int) map[string]any {
			return map[string]any{
				"id": int64(i), "ok": i%2 == 0, "amount": float64(i) + 0.25, "name": "order-" + strconv.Itoa(i),
				"email": nil, "day": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
				"placed": time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "uid": "0f8fad5b-d9cb-469f-a165-70867728950e",
				"raw": []byte("hi"), "tags": []any{"x"}, "attrs": map[string]any{"a": int64(1)},
				"addr": map[string]any{"city": "Lyon"},
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := srfake.New()
			t.Cleanup(reg.Close)
			f := newFixture(t, "conv"+strings.ReplaceAll(tc.name, "_", ""))
			f.apply(`
topic "in" {}
topic "out" {}
converter "c" {` + tc.converter + `
  registry {
    url = ` + strconv.Quote(reg.URL()) + `
  }
}
transform "even" {
  filter = "value.id % 2 == 0"
}
transform "shout" {
  set = { "value.name" = "value.name + '!'" }
}
source "kafka" "copy" {
  topics          = [topic.in.name]
  topic           = topic.out.name
  value_converter = converter.c
  transforms      = [transform.even, transform.shout]
}
`)
			plugin, ok := f.reg.Plugin(configschema.Converter, tc.name)
			if !ok {
				t.Fatalf("converter %s is not registered", tc.name)
			}
			cfg := map[string]any{"registry": map[string]any{"url": reg.URL()}}
			for k, v := range tc.config {
				cfg[k] = v
			}
			enc, err := plugin.NewConverterWith(connector.ConverterEnv{}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			const n = 20
			cl, err := kgo.NewClient(append(f.clientOpts(t), kgo.ProducerLinger(0))...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			for i := range n {
				b, err := enc.(connector.TopicEncoder).EncodeFor("in", tc.value(i), nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := cl.ProduceSync(ctxFor(t, 10*time.Second), &kgo.Record{Topic: "in", Key: []byte(strconv.Itoa(i)), Value: b}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			f.startWorker()
			dec, err := plugin.NewConverterWith(connector.ConverterEnv{}, map[string]any{"registry": map[string]any{"url": reg.URL()}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range consumeRecords(t, f, "out", n/2) {
				got, err := dec.Decode(r.Value)
				if err != nil {
					t.Fatal(err)
				}
				i, _ := strconv.Atoi(string(r.Key))
				want := tc.value(i)
				want["name"] = want["name"].(string) + "!"
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("record %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}
