package schemaconv_test

import (
	"testing"

	"github.com/pipectl/pipectl/stdlib/schemaconv"
)

// The fuzz targets feed arbitrary bytes to each decoder, after a schema
// of every type is registered under the ids the seeds use: no input may
// panic, and what decodes must fit the schema it comes with.

func fuzzDecoder(f *testing.F, nb builder, schema string, config map[string]any, seed map[string]any) {
	reg := fake(f)
	enc := build(f, nb, reg, map[string]any{"schema": schema})
	for k, v := range config {
		enc = build(f, nb, reg, map[string]any{"schema": schema, k: v})
	}
	b, err := enc.EncodeFor("t", seed, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Add([]byte("{}"))
	dec := build(f, nb, reg, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, s, err := dec.DecodeWithSchema(b)
		if err != nil {
			return
		}
		if err := s.CheckValue(v); err != nil {
			t.Fatalf("decoded %#v, which does not fit %s: %v", v, s, err)
		}
	})
}

func FuzzAvroDecode(f *testing.F) {
	fuzzDecoder(f, schemaconv.NewAvro, read(f, "order.avsc"), nil, avroOrder())
}

func FuzzProtobufDecode(f *testing.F) {
	fuzzDecoder(f, schemaconv.NewProtobuf, read(f, "order.proto"), nil, protoOrder())
}

func FuzzJSONSchemaDecode(f *testing.F) {
	fuzzDecoder(f, schemaconv.NewJSONSchema, read(f, "order.schema.json"), nil, jsonOrder())
}
