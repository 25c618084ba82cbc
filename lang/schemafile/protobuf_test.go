package schemafile

import (
	"strings"
	"testing"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

const orderProto = `syntax = "proto3";
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
  oneof pay { string card = 21; int64 points = 22; }
  enum Status { NEW = 0; PAID = 1; }
}
message Address { string city = 1; }
`

func TestProtobufAllTypes(t *testing.T) {
	s, err := Protobuf(orderProto, "shop.Order", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"id": "int64", "n": "int32", "u32": "int64", "u64": "int64", "s32": "int32", "f64": "int64",
		"ok": "boolean", "f": "float32", "d": "float64", "name": "string", "raw": "bytes",
		"email": "optional string", "status": "string", "addr": "optional struct shop.Address<city string>",
		"tags": "array<string>", "attrs": "map<string, int64>", "by_n": "map<int32, struct shop.Address<city string>>",
		"placed": "optional timestamp-micros", "note": "optional string",
		"lines": "array<struct shop.Address<city string>>", "card": "optional string", "points": "optional int64",
	}
	if s.Name != "shop.Order" || len(s.Fields) != len(want) {
		t.Fatalf("got %s", s)
	}
	for _, f := range s.Fields {
		if got := f.Schema.String(); got != want[f.Name] {
			t.Errorf("%s: got %s, want %s", f.Name, got, want[f.Name])
		}
	}
	if f, _ := s.Field("status"); f.Schema.Parameters[ProtobufEnum+".PAID"] != "1" {
		t.Errorf("enum parameters: %v", f.Schema.Parameters)
	}
	// The first message by default, a name relative to the package.
	if s, err := Protobuf(orderProto, "", nil); err != nil || s.Name != "shop.Order" {
		t.Errorf("default message: %v, %v", s, err)
	}
	if s, err := Protobuf(orderProto, "Address", nil); err != nil || s.Name != "shop.Address" {
		t.Errorf("relative name: %v, %v", s, err)
	}
}

func TestProtobufErrors(t *testing.T) {
	for _, tc := range []struct{ text, message, want string }{
		{"syntax = \"proto3\";\nmessage A {\n  int64 id = 1\n}\n", "", "line 4, column 1"},
		{"syntax = \"proto3\";\nmessage A {\n  Nope id = 1;\n}\n", "", "line 3, column 3"},
		{"syntax = \"proto3\";\nmessage A { int64 id = 1; }\n", "B", `no message "B" in the file; it declares A`},
		{"syntax = \"proto3\";\nmessage L { L next = 1; }\n", "", "recursive"},
		{"syntax = \"proto3\";\nimport \"other.proto\";\nmessage A { int64 id = 1; }\n", "", "other.proto"},
		{"syntax = \"proto3\";\n", "", "no message"},
	} {
		_, err := Protobuf(tc.text, tc.message, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Protobuf(%q): %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestProtobufImports(t *testing.T) {
	s, err := Protobuf("syntax = \"proto3\";\nimport \"addr.proto\";\nmessage A { geo.Address a = 1; }\n", "A",
		map[string]string{"addr.proto": "syntax = \"proto3\";\npackage geo;\nmessage Address { string city = 1; }\n"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != "struct A<a optional struct geo.Address<city string>>" {
		t.Errorf("got %s", got)
	}
}

func TestToProtobuf(t *testing.T) {
	s, err := Protobuf(orderProto, "shop.Order", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A schema read from a .proto is written back as one that reads the
	// same, but for the oneof (its members stay optional fields) and the
	// wrapper (an optional string).
	text, err := ToProtobuf(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Protobuf(text, "", nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if back.String() != s.String() {
		t.Errorf("round trip:\n%s\n%s\n%s", s, back, text)
	}
	if _, err := ToProtobuf(&rs.Schema{Type: rs.Int64}); err == nil {
		t.Error("a bare int64 was written as a message")
	}
	if _, err := ToProtobuf(&rs.Schema{Type: rs.Struct, Fields: []rs.Field{{Name: "t", Schema: &rs.Schema{Type: rs.Int32, Logical: rs.TimeMillis}}}}); err == nil {
		t.Error("a time of day was written")
	}
}
