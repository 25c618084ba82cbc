package engine

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// envelopeJSON is the json converter with schemas_enable.
var envelopeJSON = control.ConverterSpec{Type: "json", Config: map[string]any{"schemas_enable": true}}

// TestSourceSchemasToKafka runs a source whose records carry a value
// schema through a chain of transforms into the json converter with
// schemas_enable, and reads the records back with a plain JSON decoder:
// each is Kafka Connect's envelope with the schema the transforms made.
func TestSourceSchemasToKafka(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "orders", 1)
	schema, err := connector.ParseSchema([]byte(`{"type": "struct", "name": "shop.Order", "version": 1, "fields": [
		{"name": "id", "schema": {"type": "int64"}},
		{"name": "email", "schema": {"type": "string"}},
		{"name": "amount", "schema": {"type": "bytes", "logical": "decimal", "precision": 10, "scale": 2}},
		{"name": "placed", "schema": {"type": "int64", "logical": "timestamp-millis"}},
		{"name": "card", "schema": {"type": "string", "optional": true}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	const total = 20
	record := func(seq int) connector.Record {
		return connector.Record{
			Value: map[string]any{
				"id": int64(seq), "email": fmt.Sprintf("u%d@example.com", seq), "amount": fmt.Sprintf("%d.25", seq),
				"placed": baseTime.Add(time.Duration(seq) * time.Second), "card": "4111",
			},
			ValueSchema: schema, // one pointer for every record
			Topic:       "orders", Partition: 0, Timestamp: baseTime,
		}
	}
	var resumedAt, acked atomic.Int64
	reg := testRegistry(t, func() connector.Source {
		return &seqSource{total: total, per: 7, resumedAt: &resumedAt, acked: &acked, record: record}
	}, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test", KeyConverter: envelopeJSON, ValueConverter: envelopeJSON,
		Transforms: []control.TransformSpec{
			{Name: "some", Filter: "value.id % 10 != 3"},
			{
				Name:   "mask",
				Set:    []control.SetSpec{{Path: "value.email", Expr: "sha256(value.email)"}, {Path: "value.total", Expr: "double(value.amount) * 2.0"}},
				Rename: []control.RenameSpec{{From: "value.placed", To: "value.placed_at"}},
				Drop:   []string{"value.card"},
			},
			{Name: "key", Key: "value.id"},
		}}
	a := TaskArgs{Pipeline: mustCompile(t, "source.test.schemas", spec, reg), Fleet: "fleet", Producer: c.producer, Admin: c.admin, Offsets: newMemOffsets(), Counters: &Counters{}}
	r := runTask(t, a)
	got := c.readTopic(t, "orders", total-2)
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	wantValueSchema := `{"type": "struct", "optional": false, "name": "shop.Order", "version": 1, "fields": [
		{"field": "id", "type": "int64", "optional": false},
		{"field": "email", "type": "string", "optional": false},
		{"field": "amount", "type": "bytes", "optional": false, "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "10"}},
		{"field": "placed_at", "type": "int64", "optional": false, "name": "org.apache.kafka.connect.data.Timestamp", "version": 1},
		{"field": "total", "type": "double", "optional": false}
	]}`
	var ids []int
	for _, kr := range got {
		var value struct {
			Schema  any            `json:"schema"`
			Payload map[string]any `json:"payload"`
		}
		var keyPayload struct {
			Schema  any `json:"schema"`
			Payload int `json:"payload"`
		}
		if err := json.Unmarshal(kr.Key, &keyPayload); err != nil {
			t.Fatalf("key %s: %v", kr.Key, err)
		}
		if err := json.Unmarshal(kr.Value, &value); err != nil {
			t.Fatalf("value %s: %v", kr.Value, err)
		}
		seq := keyPayload.Payload
		ids = append(ids, seq)
		if diff := cmp.Diff(decodeJSON(t, `{"type": "int64", "optional": false}`), keyPayload.Schema); diff != "" {
			t.Errorf("key schema of %d (-want +got):\n%s", seq, diff)
		}
		if diff := cmp.Diff(decodeJSON(t, wantValueSchema), value.Schema); diff != "" {
			t.Errorf("value schema of %d (-want +got):\n%s", seq, diff)
		}
		amount := fmt.Sprintf("%d.25", seq)
		wantPayload := map[string]any{
			"id": float64(seq), "email": sha256Hex(fmt.Sprintf("u%d@example.com", seq)), "amount": decimalBase64(t, seq*100+25),
			"placed_at": float64(baseTime.Add(time.Duration(seq) * time.Second).UnixMilli()), "total": mustFloat(t, amount) * 2,
		}
		if diff := cmp.Diff(wantPayload, value.Payload); diff != "" {
			t.Errorf("payload of %d (-want +got):\n%s", seq, diff)
		}
	}
	sort.Ints(ids)
	var want []int
	for seq := range total {
		if seq%10 != 3 {
			want = append(want, seq)
		}
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestSinkSchemasFromKafka reads Kafka Connect envelopes with the json
// converter's schemas_enable into a sink through transforms: the sink gets
// each record's value with the schema the transforms made (one pointer for
// records of one schema), and a record whose dynamically typed result does
// not fit goes to the dead-letter topic as a transform failure.
func TestSinkSchemasFromKafka(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 1)
	envelope := func(id int, note string) []byte {
		return fmt.Appendf(nil, `{"schema": {"type": "struct", "fields": [{"field": "id", "type": "int32"}, {"field": "note", "type": "string", "optional": true}, {"field": "tags", "type": "map", "keys": {"type": "string"}, "values": {"type": "int64"}}], "optional": false, "name": "in.Value"}, "payload": {"id": %d, "note": %s, "tags": {"a": %d}}}`, id, note, id)
	}
	for i, note := range []string{`"x"`, `null`, `"y"`, `"z"`} {
		c.produce(t, jsonRecord("in", fmt.Sprint("k", i), string(envelope(i, note))))
	}
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{
		Kind: "sink", Type: "test", Topics: []string{"in"}, ValueConverter: envelopeJSON,
		Transforms: []control.TransformSpec{{
			Name:   "shape",
			Set:    []control.SetSpec{{Path: "value.first_tag", Expr: "value.tags.a"}, {Path: "value.label", Expr: "value.id == 2 ? value.note : value.id"}},
			Rename: []control.RenameSpec{{From: "value.note", To: "value.comment"}},
		}},
		Errors: control.ErrorsSpec{Tolerance: "all", DeadLetterTopic: "in.dlq", RetryTimeout: "5s"},
	}
	a := sinkArgs(c, mustCompile(t, "sink.test.schemas", spec, reg))
	r := runTask(t, a)
	waitFor(t, "three records durable", func() bool { return sink.durableCount() == 3 })
	dead := c.readTopic(t, "in.dlq", 1)
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	recs := sink.snapshot()
	want := `{"type":"struct","name":"in.Value","fields":[{"name":"id","schema":{"type":"int32"}},{"name":"comment","schema":{"type":"string","optional":true}},` +
		`{"name":"tags","schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int64"}}},{"name":"first_tag","schema":{"type":"int64"}},{"name":"label","schema":{"type":"int64"}}]}`
	for _, rec := range recs {
		if diff := cmp.Diff(want, schemaJSON(t, rec.ValueSchema)); diff != "" {
			t.Errorf("%s: value schema (-want +got):\n%s", rec.Key, diff)
		}
		if err := rec.ValueSchema.CheckValue(rec.Value); err != nil {
			t.Errorf("%s: the value does not fit its schema: %v", rec.Key, err)
		}
		if rec.ValueSchema != recs[0].ValueSchema {
			t.Errorf("%s: another *Schema than the first record's", rec.Key)
		}
	}
	if len(dead) != 1 || string(dead[0].Key) != "k2" {
		t.Fatalf("dead letters %v, want k2's", dead)
	}
	hs := map[string]string{}
	for _, h := range dead[0].Headers {
		hs[h.Key] = string(h.Value)
	}
	if hs[HeaderErrorClass] != "engine.SchemaError" || hs[HeaderErrorStage] != "transform" ||
		hs[HeaderErrorMessage] != `transform "shape": set value.label: cannot type value.label: the result does not fit int64, the schema an earlier record with the same input schema gave it (a string is not a value of int64 (an int64)); give the expression a fixed type` {
		t.Errorf("dead-letter headers %v", hs)
	}
	if string(dead[0].Value) != string(envelope(2, `"y"`)) {
		t.Errorf("the dead letter holds %s, want the consumed bytes", dead[0].Value)
	}
}

// TestSinkSchemasWithoutTransforms checks that a sink whose value
// converter reads schemas gets the decoded value and its schema even when
// no transform reads the value.
func TestSinkSchemasWithoutTransforms(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 1)
	c.produce(t, jsonRecord("in", "k", `{"schema": {"type": "array", "items": {"type": "int16"}, "optional": false}, "payload": [1, 2]}`))
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}, ValueConverter: envelopeJSON}
	r := runTask(t, sinkArgs(c, mustCompile(t, "sink.test.plain", spec, reg)))
	waitFor(t, "the record durable", func() bool { return sink.durableCount() == 1 })
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	rec := sink.snapshot()[0]
	if diff := cmp.Diff([]any{int64(1), int64(2)}, rec.Value); diff != "" {
		t.Errorf("value (-want +got):\n%s", diff)
	}
	if got := schemaJSON(t, rec.ValueSchema); got != `{"type":"array","items":{"type":"int16"}}` {
		t.Errorf("value schema %s", got)
	}
	if rec.Key != "k" || rec.KeySchema != nil {
		t.Errorf("key %#v with schema %v; the string converter reads none", rec.Key, rec.KeySchema)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// decimalBase64 is Kafka Connect's payload of a decimal whose unscaled
// value is n >= 0: the base64 of its shortest two's complement.
func decimalBase64(t *testing.T, n int) string {
	t.Helper()
	b := big.NewInt(int64(n)).Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatal(err)
	}
	return f
}
