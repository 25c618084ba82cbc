package converters_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
)

// envelope returns the json converter with schemas_enable.
func envelope(t testing.TB) interface {
	connector.SchemaEncoder
	connector.SchemaDecoder
	connector.WireChecker
} {
	t.Helper()
	c := newConverter(t, "json", map[string]any{"schemas_enable": true})
	e, ok := c.(interface {
		connector.SchemaEncoder
		connector.SchemaDecoder
		connector.WireChecker
	})
	if !ok {
		t.Fatalf("the json converter with schemas_enable is a %T: not a SchemaEncoder, SchemaDecoder and WireChecker", c)
	}
	return e
}

func mustSchema(t testing.TB, s string) *connector.Schema {
	t.Helper()
	schema, err := connector.ParseSchema([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// TestEnvelopeEncode checks the bytes written for every type against
// Kafka Connect's JsonConverter format.
func TestEnvelopeEncode(t *testing.T) {
	c := envelope(t)
	ts := time.Date(2026, 12, 2, 10, 30, 15, 123456789, time.UTC)
	for _, tt := range []struct {
		name   string
		schema string
		value  any
		want   string
	}{
		{"boolean", `{"type":"boolean"}`, true, `{"schema":{"type":"boolean","optional":false},"payload":true}`},
		{"int8", `{"type":"int8"}`, int64(-12), `{"schema":{"type":"int8","optional":false},"payload":-12}`},
		{"int64", `{"type":"int64","optional":true}`, int64(4398046511104), `{"schema":{"type":"int64","optional":true},"payload":4398046511104}`},
		{"float32 rounds to float32", `{"type":"float32"}`, 12.34, `{"schema":{"type":"float","optional":false},"payload":12.34}`},
		{"float64", `{"type":"float64"}`, 0.1, `{"schema":{"type":"double","optional":false},"payload":0.1}`},
		{"string", `{"type":"string"}`, "héllo \"x\"", `{"schema":{"type":"string","optional":false},"payload":"héllo \"x\""}`},
		{"bytes", `{"type":"bytes"}`, []byte("test-string"), `{"schema":{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="}`},
		{"optional null", `{"type":"string","optional":true}`, nil, `{"schema":{"type":"string","optional":true},"payload":null}`},
		{"null stands for the default", `{"type":"int32","default":7}`, nil, `{"schema":{"type":"int32","optional":false,"default":7},"payload":7}`},
		{"metadata", `{"type":"boolean","name":"flag","version":3,"doc":"the doc","parameters":{"foo":"bar"}}`, false,
			`{"schema":{"type":"boolean","optional":false,"name":"flag","version":3,"doc":"the doc","parameters":{"foo":"bar"}},"payload":false}`},
		{"decimal", `{"type":"bytes","logical":"decimal","scale":2}`, "1.56",
			`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}`},
		{"negative decimal with precision", `{"type":"bytes","logical":"decimal","precision":5,"scale":3}`, "-1.5",
			`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"connect.decimal.precision":"5","scale":"3"}},"payload":"+iQ="}`},
		{"date", `{"type":"int32","logical":"date"}`, time.Date(1997, 5, 19, 0, 0, 0, 0, time.UTC),
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}`},
		{"date before 1970", `{"type":"int32","logical":"date"}`, time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":-1}`},
		{"time-millis", `{"type":"int32","logical":"time-millis"}`, 14*time.Hour + 1500*time.Microsecond,
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":50400001}`},
		{"time-micros", `{"type":"int64","logical":"time-micros"}`, 1500 * time.Microsecond,
			`{"schema":{"type":"int64","optional":false,"name":"io.debezium.time.MicroTime"},"payload":1500}`},
		{"timestamp-millis", `{"type":"int64","logical":"timestamp-millis"}`, ts,
			`{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":1796207415123}`},
		{"timestamp-micros", `{"type":"int64","logical":"timestamp-micros"}`, ts,
			`{"schema":{"type":"int64","optional":false,"name":"io.debezium.time.MicroTimestamp"},"payload":1796207415123456}`},
		{"uuid", `{"type":"string","logical":"uuid"}`, "123e4567-e89b-12d3-a456-426614174000",
			`{"schema":{"type":"string","optional":false,"name":"io.debezium.data.Uuid"},"payload":"123e4567-e89b-12d3-a456-426614174000"}`},
		{"json", `{"type":"string","logical":"json"}`, map[string]any{"b": []any{int64(1), 2.5}, "a": nil},
			`{"schema":{"type":"string","optional":false,"name":"io.debezium.data.Json"},"payload":"{\"a\":null,\"b\":[1,2.5]}"}`},
		{"array", `{"type":"array","items":{"type":"int32"}}`, []any{int64(1), int64(2), int64(3)},
			`{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2,3]}`},
		{"map with string keys", `{"type":"map","keys":{"type":"string"},"values":{"type":"int32"}}`, map[string]any{"key2": int64(15), "key1": int64(12)},
			`{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12,"key2":15}}`},
		{"map with int keys", `{"type":"map","keys":{"type":"int32"},"values":{"type":"string"}}`, map[string]any{"2": "b", "-1": "a"},
			`{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":false},"optional":false},"payload":[[-1,"a"],[2,"b"]]}`},
		{"struct", `{"type":"struct","name":"shop.Order","fields":[{"name":"id","schema":{"type":"int64"}},{"name":"note","schema":{"type":"string","optional":true}},{"name":"n","schema":{"type":"int8","default":1}}]}`,
			map[string]any{"id": int64(7)},
			`{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":true,"field":"note"},{"type":"int8","optional":false,"default":1,"field":"n"}],"optional":false,"name":"shop.Order"},"payload":{"id":7,"note":null,"n":1}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSchema(t, tt.schema)
			got, err := c.EncodeWithSchema(tt.value, s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("EncodeWithSchema (-want +got):\n%s", diff)
			}
			v, back, err := c.DecodeWithSchema(got)
			if err != nil {
				t.Fatalf("DecodeWithSchema(%s): %v", got, err)
			}
			if !back.Equal(s) {
				t.Errorf("the schema read back differs:\n%s\nwant %s", back, s)
			}
			if err := s.CheckValue(v); err != nil {
				t.Errorf("the value read back does not fit: %v", err)
			}
			if again, err := c.EncodeWithSchema(v, back); err != nil || !bytes.Equal(again, got) {
				t.Errorf("encode(decode(b)) = %s, %v; want b", again, err)
			}
		})
	}
}

// TestEnvelopeDecode reads envelopes written the way Kafka Connect writes
// them (spacing, member order and optional members as its JsonConverter
// and its tests use them).
func TestEnvelopeDecode(t *testing.T) {
	c := envelope(t)
	for _, tt := range []struct {
		name, in   string
		wantSchema string // the canonical JSON form; "null" for none
		want       any
	}{
		{"struct", `{ "schema": { "type": "struct", "fields": [{ "field": "field1", "type": "boolean" }, { "field": "field2", "type": "string", "optional": true }], "optional": false, "name": "test" }, "payload": { "field1": true } }`,
			`{"type":"struct","name":"test","fields":[{"name":"field1","schema":{"type":"boolean"}},{"name":"field2","schema":{"type":"string","optional":true}}]}`,
			map[string]any{"field1": true, "field2": nil}},
		{"decimal", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": "AN8=" }`,
			`{"type":"bytes","logical":"decimal","scale":2}`, "2.23"},
		{"numeric decimal", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "3" } }, "payload": 1.5 }`,
			`{"type":"bytes","logical":"decimal","scale":3}`, "1.500"},
		{"numeric decimal with an exponent", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"0"}},"payload":-1.5E2}`,
			`{"type":"bytes","logical":"decimal"}`, "-150"},
		{"numeric decimal below one", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"3"}},"payload":1e-2}`,
			`{"type":"bytes","logical":"decimal","scale":3}`, "0.010"},
		{"numeric decimal zero", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"1"}},"payload":0.00}`,
			`{"type":"bytes","logical":"decimal","scale":1}`, "0.0"},
		{"decimal default", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "default": "/w==", "parameters": { "scale": "1" } }, "payload": null }`,
			`{"type":"bytes","logical":"decimal","scale":1,"default":"-0.1"}`, "-0.1"},
		{"timestamp default", `{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1, "optional": true, "default": 42 }, "payload": null }`,
			`{"type":"int64","logical":"timestamp-millis","optional":true,"default":"1970-01-01T00:00:00.042Z"}`, time.UnixMilli(42).UTC()},
		{"time", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}`,
			`{"type":"int32","logical":"time-millis"}`, 4 * time.Hour},
		{"debezium micro timestamp", `{"schema":{"type":"int64","optional":false,"name":"io.debezium.time.MicroTimestamp","version":1},"payload":1}`,
			`{"type":"int64","logical":"timestamp-micros","version":1}`, time.UnixMicro(1).UTC()},
		{"debezium json", `{"schema":{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1},"payload":"{\"a\": [1, 2.0]}"}`,
			`{"type":"string","logical":"json","optional":true,"version":1}`, map[string]any{"a": []any{int64(1), 2.0}}},
		{"a name that is not a logical type stays a name", `{"schema":{"type":"int32","name":"io.debezium.time.Date","version":1},"payload":3}`,
			`{"type":"int32","name":"io.debezium.time.Date","version":1}`, int64(3)},
		{"map with int keys", `{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }`,
			`{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}}`, map[string]any{"1": int64(12), "2": int64(15)}},
		{"array", `{ "schema": { "type": "array", "items": { "type" : "float" } }, "payload": [1, 12.34] }`,
			`{"type":"array","items":{"type":"float32"}}`, []any{1.0, float64(float32(12.34))}},
		{"no schema", `{ "schema": null, "payload": { "field1": 1, "field2": [2.5, "x"] } }`,
			"null", map[string]any{"field1": int64(1), "field2": []any{2.5, "x"}}},
		{"no schema, null payload", `{"payload": null, "schema": null}`, "null", nil},
		{"unknown schema members are ignored", `{"schema":{"type":"string","x-extra":1},"payload":"s"}`, `{"type":"string"}`, "s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, s, err := c.DecodeWithSchema([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got := "null"
			if s != nil {
				b, _ := json.Marshal(s)
				got = string(b)
			}
			if diff := cmp.Diff(tt.wantSchema, got); diff != "" {
				t.Errorf("schema (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, v); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if checked, err := c.Check([]byte(tt.in)); err != nil || string(checked.(json.RawMessage)) != tt.in {
				t.Errorf("Check = %v, %v; want the input as JSON text", checked, err)
			}
		})
	}
}

func TestEnvelopeErrors(t *testing.T) {
	c := envelope(t)
	for _, tt := range []struct{ in, want string }{
		{`{"a": 1}`, `with schemas_enable, a key or value is an envelope of exactly "schema" and "payload"`},
		{`{"schema": null, "payload": 1, "x": 2}`, "an envelope of exactly"},
		{`[1]`, "an envelope of exactly"},
		{`{"schema": null`, "unexpected end of input"},
		{`{"schema": {"type": "int"}, "payload": 1}`, `the schema: the schema has no known "type"`},
		{`{"schema": {"type": "array"}, "payload": []}`, `a array schema needs "items"`},
		{`{"schema": {"type": "struct", "fields": [{"type": "int8"}]}, "payload": {}}`, `a struct field needs its name in "field"`},
		{`{"schema": {"type": "struct", "fields": [{"type": "int8", "field": "a"}, {"type": "int8", "field": "a"}]}, "payload": {}}`, `two fields named "a"`},
		{`{"schema": {"type": "int64", "name": "org.apache.kafka.connect.data.Date"}, "payload": 1}`, "org.apache.kafka.connect.data.Date is carried by int32, not int64"},
		{`{"schema": {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal"}, "payload": "AA=="}`, `a decimal needs its "scale" parameter`},
		{`{"schema": {"type": "int8"}, "payload": 300}`, "300 is out of the range of int8"},
		{`{"schema": {"type": "int8"}, "payload": 1.5}`, "a JSON number is not a payload of int8"},
		{`{"schema": {"type": "string"}, "payload": null}`, "null for a schema that is not optional and has no default"},
		{`{"schema": {"type": "struct", "fields": [{"type": "int8", "field": "a"}]}, "payload": {"b": 1}}`, "at .a: null for a schema that is not optional"},
		{`{"schema": {"type": "bytes"}, "payload": "%%%"}`, "a JSON string is not a payload of bytes"},
		{`{"schema": {"type": "map", "keys": {"type": "int8"}, "values": {"type": "int8"}}, "payload": {"1": 1}}`, "a map with int8 keys is a JSON array of [key, value] pairs"},
		{`{"schema": {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "parameters": {"scale": "1"}}, "payload": 1.25}`, "1.25 has more digits after the point than the scale 1"},
		{`{"schema": {"type": "float"}, "payload": 1e39}`, "1e39 is out of the range of float32"},
		{`{"schema": {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "parameters": {"scale": "1"}}, "payload": 1e-999999999}`, "has an exponent out of the range of a decimal"},
		{`{"schema": {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "parameters": {"scale": "1000"}}, "payload": 1e300}`, "has more than 1000 digits"},
		{`{"schema": {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "parameters": {"scale": "1"}}, "payload": 1e400}`, "out of the range of a 64-bit float"},
		{`{"schema": {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "parameters": {"scale": "999999999"}}, "payload": 1}`, "a decimal has at most 1000 digits"},
		{`{"schema": {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "parameters": {"scale": "0"}}, "payload": "` + strings.Repeat("f", 600) + `"}`, "a decimal of more than 1000 digits"},
		{`{"schema": {"type": "string", "name": "io.debezium.data.Uuid"}, "payload": "nope"}`, `"nope" is not a UUID`},
		{`{"schema": {"type": "int32", "name": "org.apache.kafka.connect.data.Time"}, "payload": 86400000}`, "is not a time of day"},
	} {
		_, _, err := c.DecodeWithSchema([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeWithSchema(%s) = %v, want an error containing %q", tt.in, err, tt.want)
		}
		if _, cerr := c.Check([]byte(tt.in)); cerr == nil {
			t.Errorf("Check(%s) accepted what Decode refuses", tt.in)
		}
	}
	// Values that do not fit their schema are refused when encoding.
	s := mustSchema(t, `{"type":"struct","fields":[{"name":"a","schema":{"type":"int8"}}]}`)
	if _, err := c.EncodeWithSchema(map[string]any{"a": "x"}, s); err == nil || !strings.Contains(err.Error(), "the value does not fit its schema: at .a: a string is not a value of int8") {
		t.Errorf("EncodeWithSchema of a bad value: %v", err)
	}
	if _, err := c.EncodeWithSchema(1.0, &connector.Schema{Type: "int"}); err == nil || !strings.Contains(err.Error(), "the schema is invalid") {
		t.Errorf("EncodeWithSchema with an invalid schema: %v", err)
	}
	if _, err := c.EncodeWithSchema(nilFloat(), mustSchema(t, `{"type":"float64"}`)); err == nil || !strings.Contains(err.Error(), "JSON has no NaN") {
		t.Errorf("EncodeWithSchema of NaN: %v", err)
	}
}

func nilFloat() float64 { var z float64; return z / z }

// TestEnvelopeSchemaless checks values without a schema and the pass-through
// of Check's result.
func TestEnvelopeSchemaless(t *testing.T) {
	c := envelope(t)
	b, err := c.Encode(map[string]any{"b": int64(1), "a": []any{"x"}})
	if want := `{"schema":null,"payload":{"a":["x"],"b":1}}`; err != nil || string(b) != want {
		t.Errorf("Encode = %s, %v; want %s", b, err, want)
	}
	if b, err := c.Encode(nil); b != nil || err != nil {
		t.Errorf("Encode(nil) = %q, %v; want a tombstone", b, err)
	}
	in := []byte(`{"schema":{"type":"int8"},"payload":1}`)
	checked, err := c.Check(in)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := c.Encode(checked); err != nil || !bytes.Equal(back, in) {
		t.Errorf("Encode(Check(b)) = %s, %v; want b", back, err)
	}
	// on_invalid = "string" keeps what is not an envelope as a string.
	lax := newConverter(t, "json", map[string]any{"schemas_enable": true, "on_invalid": "string"}).(connector.SchemaDecoder)
	if v, s, err := lax.DecodeWithSchema([]byte(`{"plain": true}`)); v != `{"plain": true}` || s != nil || err != nil {
		t.Errorf("on_invalid string: %#v, %v, %v", v, s, err)
	}
}

// TestEnvelopeSchemaCache checks that one schema text read twice gives one
// *Schema (the engine works transforms out once per pointer) and that a
// default handed out as a value is a copy.
func TestEnvelopeSchemaCache(t *testing.T) {
	c := envelope(t)
	in := []byte(`{"schema":{"type":"struct","fields":[{"field":"m","type":"map","keys":{"type":"string"},"values":{"type":"int8"},"optional":true,"default":{"a":1}}]},"payload":{"m":null}}`)
	v1, s1, err := c.DecodeWithSchema(in)
	if err != nil {
		t.Fatal(err)
	}
	v1.(map[string]any)["m"].(map[string]any)["a"] = int64(2) // a transform changes the value in place
	v2, s2, err := c.DecodeWithSchema(in)
	if err != nil {
		t.Fatal(err)
	}
	if s1 != s2 {
		t.Error("one schema text gave two *Schema values")
	}
	if got := v2.(map[string]any)["m"].(map[string]any)["a"]; got != int64(1) {
		t.Errorf("the default changed with a value made from it: %v", got)
	}
}

// FuzzJSONEnvelope checks the json converter with schemas_enable: Check
// agrees with Decode, whatever decodes fits its schema and encodes, and
// decode→encode→decode is stable.
func FuzzJSONEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"schema":null,"payload":{"a":1}}`, `{"schema":null,"payload":null}`,
		`{"schema":{"type":"struct","fields":[{"field":"a","type":"int8","optional":true},{"field":"b","type":"array","items":{"type":"float"}}],"name":"x","version":2},"payload":{"b":[1.5]}}`,
		`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"4"}},"payload":"AJw="}`,
		`{"schema":{"type":"map","keys":{"type":"boolean"},"values":{"type":"string","name":"io.debezium.data.Json"}},"payload":[[true,"[1]"]]}`,
		`{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date","default":3},"payload":null}`,
		`{"schema":{"type":"int64","name":"io.debezium.time.MicroTime"},"payload":12}`,
		`{"schema":{"type":"string","name":"io.debezium.data.Uuid","doc":"d","parameters":{"k":"v"}},"payload":"123e4567-e89b-12d3-a456-426614174000"}`,
		`{"schema":{"type":"double"},"payload":1e308}`, `{"schema":{"type":"bytes"},"payload":"AAE"}`, `{"a":1}`, `[]`, ``,
		`{"schema":null,"payload":1,}`, `{"schema":null,"payload":1} x`, `{"schema":null "payload":1}`, `{"sch\u0065ma":null,"payload":1}`,
	} {
		f.Add([]byte(s))
	}
	c := envelope(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkWireAgrees(t, c, data)
		v, s, err := c.DecodeWithSchema(data)
		if _, cerr := c.Check(data); (cerr == nil) != (err == nil) {
			t.Fatalf("Check(%q) error %v, Decode error %v", data, cerr, err)
		}
		if err != nil {
			if len(err.Error()) > maxErrLen+100 {
				t.Fatalf("error of %d bytes: %s", len(err.Error()), err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("Decode accepted %q, which is not JSON", data)
		}
		if s != nil {
			if err := s.Validate(); err != nil {
				t.Fatalf("Decode(%q) gave an invalid schema: %v", data, err)
			}
			if err := s.CheckValue(v); err != nil {
				t.Fatalf("Decode(%q) gave a value that does not fit its schema: %v", data, err)
			}
		}
		if v == nil && s == nil {
			return // a null payload without a schema: a tombstone
		}
		enc, err := c.EncodeWithSchema(v, s)
		if err != nil {
			t.Fatalf("EncodeWithSchema(Decode(%q)): %v", data, err)
		}
		v2, s2, err := c.DecodeWithSchema(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) = Decode(%s): %v", data, enc, err)
		}
		if !s2.Equal(s) {
			t.Fatalf("the schema of %q changed through encode: %v then %v", data, s, s2)
		}
		if diff := cmp.Diff(v, v2); diff != "" {
			t.Fatalf("Decode→Encode→Decode of %q not stable (-first +second):\n%s", data, diff)
		}
		if enc2, err := c.EncodeWithSchema(v2, s2); err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("Encode not stable: %s then %s (%v)", enc, enc2, err)
		}
	})
}
