package connectimport_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/planner/connectimport"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/engine"
)

// rec is a record as the test writes it: key and value as JSON text ("" is
// null), headers, topic.
type rec struct {
	Key, Value string
	Headers    map[string]string
	Topic      string
}

// TestSMTBehaviour imports Kafka Connect transform chains, compiles the
// result with the engine and runs records through it (the JSON converter,
// then the transforms, as a sink task does). The expected outputs are what
// Kafka Connect's documentation says each SMT does to a schemaless JSON
// record (JsonConverter with schemas.enable=false).
func TestSMTBehaviour(t *testing.T) {
	ts := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		smts map[string]string // transforms.* and predicates.* settings
		in   rec
		want *rec // nil: the record is dropped
		// check inspects the decoded output where JSON text cannot tell
		// (an int from a double).
		check func(t *testing.T, r *connector.Record)
	}{
		{
			name: "InsertField inserts topic, partition, offset and a static field",
			smts: map[string]string{"transforms": "ins", "transforms.ins.type": "org.apache.kafka.connect.transforms.InsertField$Value",
				"transforms.ins.topic.field": "t", "transforms.ins.partition.field": "p", "transforms.ins.offset.field": "o",
				"transforms.ins.timestamp.field": "ts", "transforms.ins.static.field": "src", "transforms.ins.static.value": "connect"},
			in:   rec{Value: `{"id":1}`, Topic: "orders"},
			want: &rec{Value: `{"id":1,"t":"orders","p":2,"o":41,"ts":1795514400000,"src":"connect"}`, Topic: "orders"},
		},
		{
			name: "InsertField passes a tombstone through",
			smts: map[string]string{"transforms": "ins", "transforms.ins.type": "org.apache.kafka.connect.transforms.InsertField$Value", "transforms.ins.topic.field": "t"},
			in:   rec{Topic: "orders"},
			want: &rec{Topic: "orders"},
		},
		{
			name: "ReplaceField excludes, then renames",
			smts: map[string]string{"transforms": "rf", "transforms.rf.type": "org.apache.kafka.connect.transforms.ReplaceField$Value",
				"transforms.rf.exclude": "card", "transforms.rf.renames": "amt:amount,card:c"},
			in:   rec{Value: `{"id":1,"card":"4111","amt":5}`, Topic: "o"},
			want: &rec{Value: `{"id":1,"amount":5}`, Topic: "o"},
		},
		{
			name: "ReplaceField includes only the listed fields; a missing one stays missing",
			smts: map[string]string{"transforms": "rf", "transforms.rf.type": "org.apache.kafka.connect.transforms.ReplaceField$Value", "transforms.rf.include": "a,c,z"},
			in:   rec{Value: `{"a":1,"b":2,"c":{"d":3}}`, Topic: "o"},
			want: &rec{Value: `{"a":1,"c":{"d":3}}`, Topic: "o"},
		},
		{
			name: "ReplaceField$Key",
			smts: map[string]string{"transforms": "rf", "transforms.rf.type": "org.apache.kafka.connect.transforms.ReplaceField$Key", "transforms.rf.renames": "id:key_id"},
			in:   rec{Key: `{"id":9}`, Value: `{"x":1}`, Topic: "o"},
			want: &rec{Key: `{"key_id":9}`, Value: `{"x":1}`, Topic: "o"},
		},
		{
			name: "MaskField replaces with the empty value of each type",
			smts: map[string]string{"transforms": "m", "transforms.m.type": "org.apache.kafka.connect.transforms.MaskField$Value", "transforms.m.fields": "email,age,ok,tags,ratio"},
			in:   rec{Value: `{"email":"a@b.c","age":42,"ok":true,"tags":["x"],"ratio":0.5,"keep":"k"}`, Topic: "o"},
			want: &rec{Value: `{"email":"","age":0,"ok":false,"tags":[],"ratio":0,"keep":"k"}`, Topic: "o"},
		},
		{
			name: "MaskField with a replacement",
			smts: map[string]string{"transforms": "m", "transforms.m.type": "org.apache.kafka.connect.transforms.MaskField$Value", "transforms.m.fields": "card", "transforms.m.replacement": "****"},
			in:   rec{Value: `{"card":"4111111111111111"}`, Topic: "o"},
			want: &rec{Value: `{"card":"****"}`, Topic: "o"},
		},
		{
			name: "ValueToKey then ExtractField$Key",
			smts: map[string]string{"transforms": "vk,ek", "transforms.vk.type": "org.apache.kafka.connect.transforms.ValueToKey", "transforms.vk.fields": "id",
				"transforms.ek.type": "org.apache.kafka.connect.transforms.ExtractField$Key", "transforms.ek.field": "id"},
			in:   rec{Key: `"old"`, Value: `{"id":7,"name":"n"}`, Topic: "o"},
			want: &rec{Key: `7`, Value: `{"id":7,"name":"n"}`, Topic: "o"},
		},
		{
			name: "ExtractField$Value of a missing field gives null",
			smts: map[string]string{"transforms": "ef", "transforms.ef.type": "org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.ef.field": "after"},
			in:   rec{Value: `{"before":{"x":0}}`, Topic: "o"},
			want: &rec{Topic: "o"},
		},
		{
			name: "ExtractField$Value",
			smts: map[string]string{"transforms": "ef", "transforms.ef.type": "org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.ef.field": "after"},
			in:   rec{Value: `{"before":null,"after":{"x":1}}`, Topic: "o"},
			want: &rec{Value: `{"x":1}`, Topic: "o"},
		},
		{
			name: "HoistField$Value wraps the value",
			smts: map[string]string{"transforms": "h", "transforms.h.type": "org.apache.kafka.connect.transforms.HoistField$Value", "transforms.h.field": "line"},
			in:   rec{Value: `"hello"`, Topic: "o"},
			want: &rec{Value: `{"line":"hello"}`, Topic: "o"},
		},
		{
			name: "Cast fields",
			smts: map[string]string{"transforms": "c", "transforms.c.type": "org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec": "amount:float64,id:string,flag:boolean,n:int32"},
			in:   rec{Value: `{"amount":10,"id":5,"flag":"true","n":"12"}`, Topic: "o"},
			want: &rec{Value: `{"amount":10,"id":"5","flag":true,"n":12}`, Topic: "o"},
			check: func(t *testing.T, r *connector.Record) {
				v := r.Value.(map[string]any)
				if _, ok := v["amount"].(float64); !ok {
					t.Errorf("amount is %T, want a double (float64)", v["amount"])
				}
				if _, ok := v["n"].(int64); !ok {
					t.Errorf("n is %T, want an int (int64)", v["n"])
				}
			},
		},
		{
			name: "Cast the whole value",
			smts: map[string]string{"transforms": "c", "transforms.c.type": "org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec": "int64"},
			in:   rec{Value: `"42"`, Topic: "o"},
			want: &rec{Value: `42`, Topic: "o"},
		},
		{
			name: "RegexRouter renames a matching topic",
			smts: map[string]string{"transforms": "r", "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter", "transforms.r.regex": `(.*)\.orders`, "transforms.r.replacement": "$1.archive"},
			in:   rec{Value: `1`, Topic: "eu.orders"},
			want: &rec{Value: `1`, Topic: "eu.archive"},
		},
		{
			name: "RegexRouter leaves a topic the regex does not match whole",
			smts: map[string]string{"transforms": "r", "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter", "transforms.r.regex": `orders`, "transforms.r.replacement": "x"},
			in:   rec{Value: `1`, Topic: "eu.orders"},
			want: &rec{Value: `1`, Topic: "eu.orders"},
		},
		{
			name: "TimestampRouter with its defaults",
			smts: map[string]string{"transforms": "tr", "transforms.tr.type": "org.apache.kafka.connect.transforms.TimestampRouter"},
			in:   rec{Value: `1`, Topic: "orders"},
			want: &rec{Value: `1`, Topic: "orders-20261124"},
		},
		{
			name: "TimestampConverter from Unix milliseconds to a string",
			smts: map[string]string{"transforms": "tc", "transforms.tc.type": "org.apache.kafka.connect.transforms.TimestampConverter$Value",
				"transforms.tc.field": "at", "transforms.tc.target.type": "string", "transforms.tc.format": "yyyy-MM-dd HH:mm"},
			in:   rec{Value: `{"at":1764000000000}`, Topic: "o"},
			want: &rec{Value: `{"at":"2025-11-24 16:00"}`, Topic: "o"},
		},
		{
			name: "TimestampConverter from a string to Unix milliseconds",
			smts: map[string]string{"transforms": "tc", "transforms.tc.type": "org.apache.kafka.connect.transforms.TimestampConverter$Value",
				"transforms.tc.field": "at", "transforms.tc.target.type": "unix", "transforms.tc.format": "yyyy-MM-dd'T'HH:mm:ss'Z'"},
			in:   rec{Value: `{"at":"2026-11-24T10:00:00Z"}`, Topic: "o"},
			want: &rec{Value: `{"at":1795514400000}`, Topic: "o"},
		},
		{
			name: "Filter with TopicNameMatches drops the matching records",
			smts: map[string]string{"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Filter", "transforms.f.predicate": "isTest",
				"predicates": "isTest", "predicates.isTest.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicates.isTest.pattern": `test\..*`},
			in: rec{Value: `1`, Topic: "test.orders"},
		},
		{
			name: "Filter with TopicNameMatches keeps the others",
			smts: map[string]string{"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Filter", "transforms.f.predicate": "isTest",
				"predicates": "isTest", "predicates.isTest.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicates.isTest.pattern": `test\..*`},
			in:   rec{Value: `1`, Topic: "prod.test.orders"},
			want: &rec{Value: `1`, Topic: "prod.test.orders"},
		},
		{
			name: "Filter with a negated HasHeaderKey drops records without the header",
			smts: map[string]string{"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Filter", "transforms.f.predicate": "hasKeep", "transforms.f.negate": "true",
				"predicates": "hasKeep", "predicates.hasKeep.type": "org.apache.kafka.connect.transforms.predicates.HasHeaderKey", "predicates.hasKeep.name": "keep"},
			in: rec{Value: `1`, Topic: "o", Headers: map[string]string{"other": "x"}},
		},
		{
			name: "Filter with a negated HasHeaderKey keeps records with the header",
			smts: map[string]string{"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Filter", "transforms.f.predicate": "hasKeep", "transforms.f.negate": "true",
				"predicates": "hasKeep", "predicates.hasKeep.type": "org.apache.kafka.connect.transforms.predicates.HasHeaderKey", "predicates.hasKeep.name": "keep"},
			in:   rec{Value: `1`, Topic: "o", Headers: map[string]string{"keep": ""}},
			want: &rec{Value: `1`, Topic: "o", Headers: map[string]string{"keep": ""}},
		},
		{
			name: "Filter with RecordIsTombstone drops tombstones",
			smts: map[string]string{"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Filter", "transforms.f.predicate": "tomb",
				"predicates": "tomb", "predicates.tomb.type": "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"},
			in: rec{Key: `"k"`, Topic: "o"},
		},
		{
			name: "A transform under a predicate applies only where it matches",
			smts: map[string]string{"transforms": "ins", "transforms.ins.type": "org.apache.kafka.connect.transforms.InsertField$Value", "transforms.ins.static.field": "test", "transforms.ins.static.value": "yes",
				"transforms.ins.predicate": "isTest",
				"predicates":               "isTest", "predicates.isTest.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicates.isTest.pattern": `test\..*`},
			in:   rec{Value: `{"a":1}`, Topic: "prod"},
			want: &rec{Value: `{"a":1}`, Topic: "prod"},
		},
		{
			name: "InsertHeader and DropHeaders",
			smts: map[string]string{"transforms": "ih,dh", "transforms.ih.type": "org.apache.kafka.connect.transforms.InsertHeader", "transforms.ih.header": "src", "transforms.ih.value.literal": "connect",
				"transforms.dh.type": "org.apache.kafka.connect.transforms.DropHeaders", "transforms.dh.headers": "a,b"},
			in:   rec{Value: `1`, Topic: "o", Headers: map[string]string{"a": "1", "b": "2", "c": "3"}},
			want: &rec{Value: `1`, Topic: "o", Headers: map[string]string{"c": "3", "src": "connect"}},
		},
		{
			name: "HeaderFrom moves fields to headers",
			smts: map[string]string{"transforms": "hf", "transforms.hf.type": "org.apache.kafka.connect.transforms.HeaderFrom$Value",
				"transforms.hf.fields": "id,who", "transforms.hf.headers": "id-hdr,who-hdr", "transforms.hf.operation": "move"},
			in:   rec{Value: `{"id":1,"who":"ann","x":true}`, Topic: "o"},
			want: &rec{Value: `{"x":true}`, Topic: "o", Headers: map[string]string{"id-hdr": "1", "who-hdr": "ann"}},
		},
		{
			name: "Flatten joins nested names with the delimiter, keeps lists and nulls, drops empty maps",
			smts: map[string]string{"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Flatten$Value", "transforms.f.delimiter": "_"},
			in:   rec{Value: `{"id":1,"user":{"name":"ann","address":{"city":"Oslo","zip":null}},"tags":["a",{"b":1}],"empty":{}}`, Topic: "o"},
			want: &rec{Value: `{"id":1,"user_name":"ann","user_address_city":"Oslo","user_address_zip":null,"tags":["a",{"b":1}]}`, Topic: "o"},
		},
		{
			name: "Flatten with the default delimiter",
			smts: map[string]string{"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Flatten$Value"},
			in:   rec{Value: `{"a":{"b":{"c":{"d":true}}},"x":"y"}`, Topic: "o"},
			want: &rec{Value: `{"a.b.c.d":true,"x":"y"}`, Topic: "o"},
		},
		{
			name: "A chain: ReplaceField, InsertField, RegexRouter, in order",
			smts: map[string]string{"transforms": "rf,ins,r",
				"transforms.rf.type": "org.apache.kafka.connect.transforms.ReplaceField$Value", "transforms.rf.exclude": "secret",
				"transforms.ins.type": "org.apache.kafka.connect.transforms.InsertField$Value", "transforms.ins.topic.field": "from",
				"transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter", "transforms.r.regex": `db\.public\.(.*)`, "transforms.r.replacement": "cdc.$1"},
			in:   rec{Value: `{"id":3,"secret":"s"}`, Topic: "db.public.users"},
			want: &rec{Value: `{"id":3,"from":"db.public.users"}`, Topic: "cdc.users"},
		},
	}
	reg := registry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := map[string]string{
				"connector.class":                "org.apache.kafka.connect.file.FileStreamSinkConnector",
				"topics":                         "o",
				"file":                           "out.jsonl",
				"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
				"key.converter.schemas.enable":   "false",
				"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
				"value.converter.schemas.enable": "false",
			}
			maps.Copy(cfg, tt.smts)
			res, err := connectimport.Convert([]connectimport.Connector{{Name: "s", Config: cfg, Origin: "test"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range res.Warnings {
				t.Errorf("warning: %s: %s: %s", w.Key, w.Summary, w.Detail)
			}
			lc := validate(t, reg, res.Files)
			rs, err := control.Resources(lc, nil)
			if err != nil {
				t.Fatal(err)
			}
			var spec *control.PipelineSpec
			for _, r := range rs {
				if r.Pipeline != nil {
					spec = r.Pipeline
				}
			}
			p, err := engine.Compile("sink.file.s", spec, reg, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := connector.Record{Topic: tt.in.Topic, Partition: 2, Offset: 41, Timestamp: ts}
			var key, value []byte
			if tt.in.Key != "" {
				key = []byte(tt.in.Key)
			}
			if tt.in.Value != "" {
				value = []byte(tt.in.Value)
			}
			for _, k := range slices.Sorted(maps.Keys(tt.in.Headers)) {
				r.Headers = append(r.Headers, connector.Header{Key: k, Value: []byte(tt.in.Headers[k])})
			}
			out := p.Offline().Sink(r, key, value)
			if out.Err != nil {
				t.Fatalf("the sink's converters and transforms: %v\n%s", out.Err, res.Files[0].Src)
			}
			keep := out.Kept
			r = out.Record
			if tt.want == nil {
				if keep {
					t.Fatalf("the record was kept, want it dropped: %+v", r)
				}
				return
			}
			if !keep {
				t.Fatalf("the record was dropped\n%s", res.Files[0].Src)
			}
			got := rec{Key: jsonText(t, r.Key), Value: jsonText(t, r.Value), Topic: r.Topic}
			for _, h := range r.Headers {
				if got.Headers == nil {
					got.Headers = map[string]string{}
				}
				got.Headers[h.Key] = string(h.Value)
			}
			want := *tt.want
			want.Key, want.Value = canonical(t, want.Key), canonical(t, want.Value)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("output record (-want +got):\n%s\n%s", diff, res.Files[0].Src)
			}
			if tt.check != nil {
				tt.check(t, &r)
			}
		})
	}
}

// jsonText is a decoded key or value as canonical JSON, "" for null.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func canonical(t *testing.T, s string) string {
	t.Helper()
	if s == "" {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in the test: %s", s)
	}
	return jsonText(t, v)
}
