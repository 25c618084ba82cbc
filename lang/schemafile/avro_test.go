package schemafile

import (
	"os"
	"strings"
	"testing"
	"time"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

func TestAvroAllTypes(t *testing.T) {
	text, err := os.ReadFile("testdata/all.avsc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Avro(string(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"id": "int64", "n": "int32", "small": "int8", "ok": "boolean", "f": "float32", "d": "float64",
		"raw": "bytes", "email": "optional string", "amount": "decimal(10,2)", "day": "date",
		"tm": "time-millis", "tu": "time-micros", "placed": "timestamp-millis", "placedu": "timestamp-micros",
		"uid": "uuid", "status": "string", "hash": "bytes", "tags": "array<string>", "attrs": "map<string, int64>",
		"addr":   "optional struct shop.Address<city string>",
		"either": "optional struct " + AvroUnion + "<string optional string, long optional int64, shop.Address optional struct shop.Address<city string>>",
	}
	if s.Name != "shop.Order" || s.Doc != "An order." || len(s.Fields) != len(want) {
		t.Fatalf("got %s", s)
	}
	for _, f := range s.Fields {
		if got := f.Schema.String(); got != want[f.Name] {
			t.Errorf("%s: got %s, want %s", f.Name, got, want[f.Name])
		}
	}
	if f, _ := s.Field("n"); f.Schema.Default != int64(7) {
		t.Errorf("default of n: %#v", f.Schema.Default)
	}
	if f, _ := s.Field("status"); f.Schema.Parameters[AvroEnum+".PAID"] != "PAID" {
		t.Errorf("enum parameters: %v", f.Schema.Parameters)
	}

	// Back to Avro and again to a record schema: the same schema.
	back, err := ToAvro(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Avro(back)
	if err != nil {
		t.Fatalf("%v\n%s", err, back)
	}
	if !again.Equal(s) {
		t.Errorf("round trip differs:\n%s\n%s\n%s", s, again, back)
	}
}

func TestToAvroUnnamed(t *testing.T) {
	s := &rs.Schema{Type: rs.Struct, Fields: []rs.Field{
		{Name: "a", Schema: &rs.Schema{Type: rs.Int16, Optional: true}},
		{Name: "b", Schema: &rs.Schema{Type: rs.Struct, Fields: []rs.Field{{Name: "c", Schema: &rs.Schema{Type: rs.String, Logical: rs.JSON}}}}},
		{Name: "d", Schema: &rs.Schema{Type: rs.Bytes, Logical: rs.Decimal, Scale: 3, Default: "-1.500"}},
	}}
	text, err := ToAvro(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `"name":"ConnectDefault","namespace":"io.confluent.connect.avro"`) {
		t.Errorf("no ConnectDefault name: %s", text)
	}
	back, err := Avro(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	f, _ := back.Field("d")
	if f.Schema.Default != "-1.500" {
		t.Errorf("decimal default: %#v in %s", f.Schema.Default, text)
	}
	if g, _ := back.Field("b"); g.Schema.Fields[0].Schema.Logical != rs.JSON {
		t.Errorf("json logical lost: %s", text)
	}
}

func TestAvroErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"{\n  \"type\": \"record\",\n  \"name\": \"X\",\n  \"fields\": [\n    {\"name\": \"a\" \"type\": \"int\"}]}", "line 5, column 18"},
		{`{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}`, "nope"},
		{`{"type": "record", "name": "L", "fields": [{"name": "next", "type": ["null", "L"]}]}`, "recursive"},
		{`"null"`, "null has no record-schema form"},
		{`{"type": "long", "logicalType": "local-timestamp-millis"}`, "local-timestamp-millis"},
		{`{"type": "int", "logicalType": "date"} x`, "avro schema"},
	} {
		_, err := Avro(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Avro(%s): %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestDecimalBytes(t *testing.T) {
	for _, d := range []string{"0.00", "1.00", "-1.00", "1.27", "1.28", "-1.28", "-1.29", "123456789.12", "-0.01"} {
		b, err := DecimalToBytes(d, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := DecimalFromBytes(b, 2); got != d {
			t.Errorf("%s → %x → %s", d, b, got)
		}
	}
	if _, err := DecimalToBytes("1.234", 2); err == nil {
		t.Error("1.234 at scale 2 was taken")
	}
}

// TestAvroDateDefault: a date default is the day it falls on, floored
// before the epoch.
func TestAvroDateDefault(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(1970, 1, 2, 12, 0, 0, 0, time.UTC), 1},
		{time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), -1},
		{time.Date(1969, 12, 31, 12, 0, 0, 0, time.UTC), -1},
		{time.Date(1969, 12, 30, 23, 59, 59, 0, time.UTC), -2},
	} {
		got, err := avroDefault(&rs.Schema{Type: rs.Int32, Logical: rs.Date}, tc.t)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v %v, want %d", tc.t, got, err, tc.want)
		}
	}
}
