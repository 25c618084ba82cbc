package schemaconv_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/pipectl/pipectl/lang/schemafile"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/schemaconv"
)

func read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fake starts franz-go's in-memory Schema Registry, a registry
// implementation pipectl did not write, on a random port.
func fake(t testing.TB) *srfake.Registry {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	return reg
}

type builder func(connector.ConverterEnv, map[string]any) (connector.Converter, error)

func build(t testing.TB, f builder, reg *srfake.Registry, config map[string]any) *schemaconv.Converter {
	t.Helper()
	if config == nil {
		config = map[string]any{}
	}
	config["registry"] = map[string]any{"url": reg.URL()}
	c, err := f(connector.ConverterEnv{}, config)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*schemaconv.Converter)
}

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// avroOrder is a value of testdata/order.avsc with every type.
func avroOrder() map[string]any {
	return map[string]any{
		"id": int64(1) << 40, "n": int64(-7), "small": int64(-128), "ok": true, "f": float64(1.5), "d": 3.25,
		"raw": []byte{0, 1, 255}, "email": "a@b.c", "amount": "-12.30", "day": day(2024, 2, 29),
		"tm":     13*time.Hour + 4*time.Minute + 5*time.Second + 6*time.Millisecond,
		"tu":     23*time.Hour + 59*time.Minute + 7*time.Microsecond,
		"placed": time.UnixMilli(1700000000123).UTC(), "placedu": time.UnixMicro(-1700000000123456).UTC(),
		"uid": "0f8fad5b-d9cb-469f-a165-70867728950e", "status": "PAID", "hash": []byte{1, 2, 3, 4},
		"tags": []any{"x", "y"}, "attrs": map[string]any{"a": int64(1), "b": int64(-2)},
		"addr":   map[string]any{"city": "Lyon"},
		"either": map[string]any{"shop.Address": map[string]any{"city": "Oslo"}},
	}
}

func TestAvroRoundTrip(t *testing.T) {
	reg := fake(t)
	text := read(t, "order.avsc")
	enc := build(t, schemaconv.NewAvro, reg, map[string]any{"schema": text})
	dec := build(t, schemaconv.NewAvro, reg, nil)
	for _, v := range []map[string]any{avroOrder(), func() map[string]any {
		v := avroOrder()
		v["email"], v["addr"], v["either"], v["tags"] = nil, nil, map[string]any{"long": int64(5)}, []any{}
		v["attrs"] = map[string]any{}
		return v
	}()} {
		b, err := enc.EncodeFor("orders", v, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0 {
			t.Fatalf("no magic byte: %x", b[:5])
		}
		got, s, err := dec.DecodeWithSchema(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, got); diff != "" {
			t.Errorf("round trip (-sent +got):\n%s", diff)
		}
		if err := s.CheckValue(got); err != nil {
			t.Errorf("the decoded value does not fit its schema: %v", err)
		}
		want, _ := schemafile.Avro(text)
		if !s.Equal(want) {
			t.Errorf("schema %s, want %s", s, want)
		}
	}
	// The schema was registered under the topic's value subject.
	cl, _ := sr.NewClient(sr.URLs(reg.URL()))
	ss, err := cl.SchemaByVersion(t.Context(), "orders-value", -1)
	if err != nil || ss.Type != sr.TypeAvro {
		t.Fatalf("orders-value: %v %v", ss, err)
	}
}

// A record's own schema is written as Avro and registered; a decoder
// fetches it and gets the same record schema back.
func TestAvroAutoRegisterRecordSchema(t *testing.T) {
	reg := fake(t)
	s, err := schemafile.Avro(read(t, "order.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	enc := build(t, schemaconv.NewAvro, reg, nil)
	v := avroOrder()
	b1, err := enc.EncodeFor("orders", v, s)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := enc.EncodeFor("orders", v, s)
	if err != nil {
		t.Fatal(err)
	}
	if string(b1) != string(b2) {
		t.Error("two encodings of one value differ")
	}
	got, gs, err := build(t, schemaconv.NewAvro, reg, nil).DecodeWithSchema(b1)
	if err != nil {
		t.Fatal(err)
	}
	if !gs.Equal(s) {
		t.Errorf("schema %s, want %s", gs, s)
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("(-sent +got):\n%s", diff)
	}
}

func TestSubjectStrategies(t *testing.T) {
	text := read(t, "order.avsc")
	for _, tc := range []struct {
		strategy string
		key      bool
		want     string
	}{
		{"topic", false, "orders-value"},
		{"topic", true, "orders-key"},
		{"record", false, "shop.Order"},
		{"topic_record", false, "orders-shop.Order"},
	} {
		reg := fake(t)
		c, err := schemaconv.NewAvro(connector.ConverterEnv{Key: tc.key}, map[string]any{
			"schema": text, "subject_strategy": tc.strategy, "registry": map[string]any{"url": reg.URL()},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.(connector.TopicEncoder).EncodeFor("orders", avroOrder(), nil); err != nil {
			t.Fatal(err)
		}
		cl, _ := sr.NewClient(sr.URLs(reg.URL()))
		subjects, err := cl.Subjects(t.Context())
		if err != nil || len(subjects) != 1 || subjects[0] != tc.want {
			t.Errorf("%s: subjects %v (%v), want %s", tc.strategy, subjects, err, tc.want)
		}
	}
}

func TestAutoRegisterOffAndUseLatest(t *testing.T) {
	reg := fake(t)
	text := read(t, "order.avsc")
	off := build(t, schemaconv.NewAvro, reg, map[string]any{"schema": text, "auto_register": false})
	if _, err := off.EncodeFor("orders", avroOrder(), nil); err == nil || !strings.Contains(err.Error(), "auto_register is false") {
		t.Fatalf("unregistered schema with auto_register false: %v", err)
	}
	latest := build(t, schemaconv.NewAvro, reg, map[string]any{"use_latest": true})
	if _, err := latest.EncodeFor("orders", avroOrder(), nil); err == nil || !strings.Contains(err.Error(), "has no version") {
		t.Fatalf("use_latest without a version: %v", err)
	}
	cl, _ := sr.NewClient(sr.URLs(reg.URL()))
	ss, err := cl.CreateSchema(t.Context(), "orders-value", sr.Schema{Schema: text})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*schemaconv.Converter{off, build(t, schemaconv.NewAvro, reg, map[string]any{"use_latest": true})} {
		b, err := c.EncodeFor("orders", avroOrder(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if id := int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4]); id != ss.ID {
			t.Errorf("encoded with id %d, want %d", id, ss.ID)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	reg := fake(t)
	dec := build(t, schemaconv.NewAvro, reg, nil)
	enc := build(t, schemaconv.NewAvro, reg, map[string]any{"schema": `{"type": "record", "name": "A", "fields": [{"name": "s", "type": "string"}]}`})
	good, err := enc.EncodeFor("t", map[string]any{"s": "hello"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"no magic byte", []byte(`{"s": "hello"}`), "magic byte"},
		{"short", []byte{0, 0, 1}, "magic byte"},
		{"unknown id", []byte{0, 0, 0, 0x30, 0x39, 2, 'a'}, "no schema with id 12345"},
		{"truncated", good[:len(good)-2], "not Avro"},
		{"forged length", append(append([]byte{}, good[:5]...), 0xfe, 0xff, 0xff, 0xff, 0x0f), "not Avro"},
	} {
		_, err := dec.Decode(tc.b)
		var ce *schemaconv.Error
		if err == nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a converter error with %q", tc.name, err, tc.want)
		}
	}
	// A protobuf converter refuses an Avro schema's id.
	pb := build(t, schemaconv.NewProtobuf, reg, nil)
	if _, err := pb.Decode(good); err == nil || !strings.Contains(err.Error(), "is AVRO, not PROTOBUF") {
		t.Errorf("protobuf decoding Avro: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	reg := fake(t)
	enc := build(t, schemaconv.NewAvro, reg, map[string]any{"schema": read(t, "order.avsc")})
	for _, tc := range []struct {
		change func(map[string]any)
		want   string
	}{
		{func(v map[string]any) { v["id"] = "one" }, ".id: string does not fit int64"},
		{func(v map[string]any) { v["status"] = "LOST" }, "LOST is not a symbol of enum shop.Status"},
		{func(v map[string]any) { v["n"] = int64(1) << 40 }, "out of the range of int32"},
		{func(v map[string]any) { v["amount"] = "1.234" }, "more than 2 digits after the point"},
		{func(v map[string]any) { v["hash"] = []byte{1} }, "exactly 4 bytes"},
		{func(v map[string]any) { v["extra"] = 1 }, `no field "extra"`},
		{func(v map[string]any) { delete(v, "id") }, ".id: <nil> does not fit int64"},
		{func(v map[string]any) { v["either"] = map[string]any{"long": int64(1), "string": "x"} }, "exactly one of its branches"},
	} {
		v := avroOrder()
		tc.change(v)
		if _, err := enc.EncodeFor("orders", v, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
	noSchema := build(t, schemaconv.NewAvro, reg, nil)
	if _, err := noSchema.EncodeFor("orders", map[string]any{}, nil); err == nil || !strings.Contains(err.Error(), "has no schema") {
		t.Errorf("schemaless value: %v", err)
	}
}

func TestNoRegistry(t *testing.T) {
	_, err := schemaconv.NewAvro(connector.ConverterEnv{}, map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "no Schema Registry") {
		t.Errorf("no registry: %v", err)
	}
}

func protoOrder() map[string]any {
	return map[string]any{
		"id": int64(1) << 40, "n": int64(-7), "u32": int64(4000000000), "u64": int64(1) << 62, "s32": int64(-3),
		"f64": int64(99), "ok": true, "f": float64(1.5), "d": 3.25, "name": "Ann", "raw": []byte{0, 1, 255},
		"email": "a@b.c", "status": "PAID", "addr": map[string]any{"city": "Lyon"},
		"tags": []any{"x", "y"}, "attrs": map[string]any{"a": int64(1)},
		"by_n":   map[string]any{"3": map[string]any{"city": "Oslo"}},
		"placed": time.Unix(1700000000, 123456000).UTC(), "note": "hi",
		"lines": []any{map[string]any{"city": "A"}, map[string]any{"city": "B"}},
	}
}

func TestProtobufRoundTrip(t *testing.T) {
	reg := fake(t)
	text := read(t, "order.proto")
	enc := build(t, schemaconv.NewProtobuf, reg, map[string]any{"schema": text, "message": "shop.Order"})
	dec := build(t, schemaconv.NewProtobuf, reg, nil)
	empty := map[string]any{
		"id": int64(0), "n": int64(0), "u32": int64(0), "u64": int64(0), "s32": int64(0), "f64": int64(0), "ok": false,
		"f": float64(0), "d": float64(0), "name": "", "raw": []byte{}, "email": nil, "status": "NEW", "addr": nil,
		"tags": []any{}, "attrs": map[string]any{}, "by_n": map[string]any{}, "placed": nil, "note": nil, "lines": []any{},
	}
	for _, v := range []map[string]any{protoOrder(), empty} {
		b, err := enc.EncodeFor("orders", v, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, s, err := dec.DecodeWithSchema(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, got); diff != "" {
			t.Errorf("round trip (-sent +got):\n%s", diff)
		}
		if err := s.CheckValue(got); err != nil {
			t.Errorf("the decoded value does not fit its schema: %v", err)
		}
	}
	// The second top-level message has index [1]; Address is the third
	// type nested in Order, after the map entries of attrs and by_n: [0, 2].
	for _, tc := range []struct {
		message string
		index   []byte
		v       map[string]any
	}{
		{"shop.Refund", []byte{2, 2}, map[string]any{"order_id": int64(5)}},
		{"shop.Order.Address", []byte{4, 0, 4}, map[string]any{"city": "Rome"}},
	} {
		e := build(t, schemaconv.NewProtobuf, reg, map[string]any{"schema": text, "message": tc.message, "subject_strategy": "record"})
		b, err := e.EncodeFor("orders", tc.v, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := b[5 : 5+len(tc.index)]; string(got) != string(tc.index) {
			t.Errorf("%s: message index %x, want %x", tc.message, got, tc.index)
		}
		got, s, err := dec.DecodeWithSchema(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.v, got); diff != "" || s.Name != tc.message {
			t.Errorf("%s: schema %s (-sent +got):\n%s", tc.message, s, diff)
		}
	}
}

func TestProtobufEncodeErrors(t *testing.T) {
	reg := fake(t)
	enc := build(t, schemaconv.NewProtobuf, reg, map[string]any{"schema": read(t, "order.proto")})
	for _, tc := range []struct {
		change func(map[string]any)
		want   string
	}{
		{func(v map[string]any) { v["n"] = int64(1) << 40 }, "out of the range of int32"},
		{func(v map[string]any) { v["u32"] = int64(-1) }, "out of the range of uint32"},
		{func(v map[string]any) { v["status"] = "LOST" }, `"LOST" is not a value of enum shop.Order.Status`},
		{func(v map[string]any) { v["nope"] = 1 }, `no field "nope"`},
		{func(v map[string]any) { v["by_n"] = map[string]any{"x": map[string]any{}} }, "not an integer"},
	} {
		v := protoOrder()
		tc.change(v)
		if _, err := enc.EncodeFor("orders", v, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
	// A record's own schema is written as a .proto and registered.
	s, _ := schemafile.Avro(`{"type": "record", "name": "shop.A", "fields": [{"name": "s", "type": "string"},
	  {"name": "when", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
	  {"name": "sub", "type": {"type": "record", "name": "B", "fields": [{"name": "n", "type": "int"}]}},
	  {"name": "subs", "type": {"type": "array", "items": "shop.B"}}]}`)
	plain := build(t, schemaconv.NewProtobuf, reg, nil)
	v := map[string]any{"s": "x", "when": time.UnixMilli(1700000000123).UTC(), "sub": map[string]any{"n": int64(3)},
		"subs": []any{map[string]any{"n": int64(4)}}}
	b, err := plain.EncodeFor("t", v, s)
	if err != nil {
		t.Fatal(err)
	}
	got, gs, err := build(t, schemaconv.NewProtobuf, reg, nil).DecodeWithSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, got); diff != "" || gs.Name != "shop.A" {
		t.Errorf("schema %s (-sent +got):\n%s", gs, diff)
	}
	if _, err := plain.EncodeFor("t", "x", &connector.Schema{Type: connector.TypeString}); err == nil || !strings.Contains(err.Error(), "a Protobuf schema is a message") {
		t.Errorf("a string as a message: %v", err)
	}
}

func jsonOrder() map[string]any {
	return map[string]any{
		"id": int64(42), "ok": true, "amount": 12.5, "name": "Ann", "email": nil, "day": day(2024, 2, 29),
		"placed": time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "uid": "0f8fad5b-d9cb-469f-a165-70867728950e",
		"raw": []byte("hi"), "tags": []any{"x"}, "attrs": map[string]any{"a": int64(1)},
		"addr": map[string]any{"city": "Lyon"},
	}
}

func TestJSONSchemaRoundTrip(t *testing.T) {
	reg := fake(t)
	enc := build(t, schemaconv.NewJSONSchema, reg, map[string]any{"schema": read(t, "order.schema.json")})
	dec := build(t, schemaconv.NewJSONSchema, reg, nil)
	v := jsonOrder()
	b, err := enc.EncodeFor("orders", v, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, s, err := dec.DecodeWithSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("round trip (-sent +got):\n%s", diff)
	}
	if s.Name != "shop.Order" {
		t.Errorf("schema %s", s)
	}
	// A value the JSON Schema refuses is an error both ways.
	v["uid"] = "not-a-uuid"
	if _, err := enc.EncodeFor("orders", v, nil); err == nil {
		t.Error("a bad uuid was encoded")
	}
	bad := append(append([]byte{}, b[:5]...), []byte(`{"id": "x"}`)...)
	if _, err := dec.Decode(bad); err == nil || !strings.Contains(err.Error(), "does not validate") {
		t.Errorf("invalid payload: %v", err)
	}
	// A record schema is written as a JSON Schema and registered.
	auto := build(t, schemaconv.NewJSONSchema, reg, nil)
	b, err = auto.EncodeFor("auto", jsonOrder(), s)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err = dec.DecodeWithSchema(b); err != nil {
		t.Fatal(err)
	} else if diff := cmp.Diff(jsonOrder(), got); diff != "" {
		t.Errorf("auto-registered round trip (-sent +got):\n%s", diff)
	}
}

// @kafkajs/confluent-schema-registry (4.x) writes Protobuf without the
// message-index list: such bytes decode as the schema's first message.
func TestProtobufWithoutIndexList(t *testing.T) {
	reg := fake(t)
	enc := build(t, schemaconv.NewProtobuf, reg, map[string]any{"schema": read(t, "order.proto")})
	v := protoOrder()
	b, err := enc.EncodeFor("orders", v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b[5] != 0 {
		t.Fatalf("the first message's index list is %x, want the 0 shortcut", b[5])
	}
	noIndex := append(append([]byte{}, b[:5]...), b[6:]...)
	got, _, err := build(t, schemaconv.NewProtobuf, reg, nil).DecodeWithSchema(noIndex)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("(-sent +got):\n%s", diff)
	}
}

func TestProtobufOneof(t *testing.T) {
	reg := fake(t)
	text := "syntax = \"proto3\";\nmessage Pay { oneof how { string card = 1; int64 points = 2; } }\n"
	enc := build(t, schemaconv.NewProtobuf, reg, map[string]any{"schema": text})
	b, err := enc.EncodeFor("pay", map[string]any{"points": int64(7)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, s, err := build(t, schemaconv.NewProtobuf, reg, nil).DecodeWithSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"card": nil, "points": int64(7)}, got); diff != "" || s.String() != "struct Pay<card optional string, points optional int64>" {
		t.Errorf("schema %s (-want +got):\n%s", s, diff)
	}
	if _, err := enc.EncodeFor("pay", map[string]any{"points": int64(7), "card": "x"}, nil); err == nil || !strings.Contains(err.Error(), "members of one oneof how") {
		t.Errorf("two members of a oneof: %v", err)
	}
}
