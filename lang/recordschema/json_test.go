package recordschema_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang/recordschema"
)

// order is a schema with every kind of attribute and default.
func order() *rs {
	return &rs{Type: recordschema.Struct, Name: "shop.Order", Version: 2, Doc: "An order.", Parameters: map[string]string{"source": "pg"},
		Fields: []recordschema.Field{
			{Name: "id", Schema: i64},
			{Name: "amount", Schema: &rs{Type: recordschema.Bytes, Logical: recordschema.Decimal, Precision: 10, Scale: 2, Default: "0.00"}},
			{Name: "placed", Schema: &rs{Type: recordschema.Int64, Logical: recordschema.TimestampMillis, Optional: true, Default: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)}},
			{Name: "day", Schema: &rs{Type: recordschema.Int32, Logical: recordschema.Date, Default: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}},
			{Name: "at", Schema: &rs{Type: recordschema.Int64, Logical: recordschema.TimeMicros, Default: 13*time.Hour + 1500*time.Microsecond}},
			{Name: "ref", Schema: &rs{Type: recordschema.String, Logical: recordschema.UUID, Default: "123e4567-e89b-12d3-a456-426614174000"}},
			{Name: "meta", Schema: &rs{Type: recordschema.String, Logical: recordschema.JSON, Default: map[string]any{"a": []any{int64(1), 2.5}}}},
			{Name: "blob", Schema: &rs{Type: recordschema.Bytes, Default: []byte{0, 1, 2}}},
			{Name: "ratio", Schema: &rs{Type: recordschema.Float32, Default: 0.5}},
			{Name: "tags", Schema: &rs{Type: recordschema.Map, Keys: i32, Values: str, Default: map[string]any{"1": "x"}}},
			{Name: "lines", Schema: &rs{Type: recordschema.Array, Items: strct("sku", str, "qty", i8), Default: []any{map[string]any{"sku": "a", "qty": int64(2)}}}},
			{Name: "note", Schema: optS},
		}}
}

const orderJSON = `{"type":"struct","name":"shop.Order","version":2,"doc":"An order.","parameters":{"source":"pg"},"fields":[` +
	`{"name":"id","schema":{"type":"int64"}},` +
	`{"name":"amount","schema":{"type":"bytes","logical":"decimal","precision":10,"scale":2,"default":"0.00"}},` +
	`{"name":"placed","schema":{"type":"int64","logical":"timestamp-millis","optional":true,"default":"2026-01-02T03:04:05.006Z"}},` +
	`{"name":"day","schema":{"type":"int32","logical":"date","default":"2026-01-02"}},` +
	`{"name":"at","schema":{"type":"int64","logical":"time-micros","default":"13:00:00.0015"}},` +
	`{"name":"ref","schema":{"type":"string","logical":"uuid","default":"123e4567-e89b-12d3-a456-426614174000"}},` +
	`{"name":"meta","schema":{"type":"string","logical":"json","default":{"a":[1,2.5]}}},` +
	`{"name":"blob","schema":{"type":"bytes","default":"AAEC"}},` +
	`{"name":"ratio","schema":{"type":"float32","default":0.5}},` +
	`{"name":"tags","schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"string"},"default":{"1":"x"}}},` +
	`{"name":"lines","schema":{"type":"array","items":{"type":"struct","fields":[{"name":"sku","schema":{"type":"string"}},{"name":"qty","schema":{"type":"int8"}}]},"default":[{"qty":2,"sku":"a"}]}},` +
	`{"name":"note","schema":{"type":"string","optional":true}}]}`

func TestJSONForm(t *testing.T) {
	b, err := json.Marshal(order())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orderJSON, string(b)); diff != "" {
		t.Errorf("the canonical JSON form changed (-want +got):\n%s", diff)
	}
	back, err := recordschema.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(order()) {
		t.Errorf("Parse(Marshal(s)) is not Equal to s:\n%s", back)
	}
	var viaUnmarshal rs
	if err := json.Unmarshal(b, &viaUnmarshal); err != nil || !viaUnmarshal.Equal(order()) {
		t.Errorf("json.Unmarshal: %v", err)
	}
	// Key order and spacing of the input do not matter.
	loose := `{ "fields": [{"schema": {"type": "int64"}, "name": "id"}], "type": "struct" }`
	s, err := recordschema.Parse([]byte(loose))
	if err != nil || !s.Equal(strct("id", i64)) {
		t.Errorf("Parse(%s) = %v, %v", loose, s, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{``, "schema: EOF"},
		{`null`, "null is not a schema"},
		{`{"type":"int64","optinal":true}`, `unknown field "optinal"`},
		{`{"type":"int64"} {}`, "text after the schema"},
		{`{"type":"int"}`, `unknown type "int"`},
		{`{"type":"struct","fields":[{"name":"a","schema":{"type":"int8"}},{"name":"a","schema":{"type":"int8"}}]}`, `at .a: the struct has two fields named "a"`},
		{`{"type":"struct","fields":[{"name":"a"}]}`, "at .a: no schema"},
		{`{"type":"bytes","logical":"decimal","precision":2,"scale":4}`, "scale 4 exceeds its precision 2"},
		{`{"type":"int8","default":300}`, "the default does not fit the schema: 300 is out of the range of int8"},
		{`{"type":"int8","default":1.5}`, "a JSON number is not the JSON form of int8"},
		{`{"type":"int8","default":null}`, "a default of null is no default"},
		{`{"type":"int32","logical":"date","default":"02/01/2026"}`, "is not the JSON form of date"},
		{`{"type":"bytes","default":"***"}`, "is not the JSON form of bytes"},
		{`{"type":"struct","fields":[],"default":{"x":1}}`, "at .x: no such field"},
		{`{"type":"array","items":{"type":"int8"},"default":[1,"a"]}`, "at [1]: a JSON string is not the JSON form of int8"},
		{`{"type":"string","logical":"json","default":{"a":1e400}}`, `at ["a"]: +Inf is not a JSON number`},
		{`{"type":"array","items":{"type":"int8","default":"x"}}`, "at []: the default does not fit the schema"},
	} {
		_, err := recordschema.Parse([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
	bad := &rs{Type: recordschema.Float64, Default: 1.0}
	bad.Default = "x" // not a value of the type: MarshalJSON refuses it
	if _, err := json.Marshal(bad); err == nil || !strings.Contains(err.Error(), "the default has no JSON form") {
		t.Errorf("Marshal of a bad default: %v", err)
	}
}

// FuzzParse checks that whatever Parse accepts is valid, marshals, and
// reads back Equal with the same canonical bytes.
func FuzzParse(f *testing.F) {
	f.Add([]byte(orderJSON))
	for _, s := range []string{
		`{"type":"int64"}`, `{"type":"string","optional":true,"default":"x"}`,
		`{"type":"map","keys":{"type":"boolean"},"values":{"type":"float64"},"default":{"true":1}}`,
		`{"type":"int32","logical":"time-millis","default":"23:59:59.999"}`,
		`{"type":"bytes","logical":"decimal","scale":3,"default":"-1.5"}`,
		`{"type":"struct","fields":[{"name":"a b","schema":{"type":"int16","default":-1}}],"default":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := recordschema.Parse(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid schema: %v", err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal of a parsed schema: %v", err)
		}
		back, err := recordschema.Parse(b)
		if err != nil {
			t.Fatalf("Parse of the canonical form %s: %v", b, err)
		}
		if !back.Equal(s) {
			t.Fatalf("the canonical form %s reads back as another schema", b)
		}
		if b2, _ := json.Marshal(back); string(b2) != string(b) {
			t.Fatalf("the canonical form is not stable:\n%s\n%s", b, b2)
		}
	})
}
