package s3

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
)

// orderSchema has every kind of column: nested structs, lists, a map,
// decimals, dates, times and timestamps.
var orderSchema = &connector.Schema{Type: connector.TypeStruct, Name: "shop.Order", Fields: []connector.Field{
	{Name: "id", Schema: &connector.Schema{Type: connector.TypeInt64}},
	{Name: "small", Schema: &connector.Schema{Type: connector.TypeInt16}},
	{Name: "ratio", Schema: &connector.Schema{Type: connector.TypeFloat32}},
	{Name: "email", Schema: &connector.Schema{Type: connector.TypeString, Optional: true}},
	{Name: "amount", Schema: &connector.Schema{Type: connector.TypeBytes, Logical: connector.LogicalDecimal, Precision: 30, Scale: 2}},
	{Name: "free", Schema: &connector.Schema{Type: connector.TypeBytes, Logical: connector.LogicalDecimal}},
	{Name: "day", Schema: &connector.Schema{Type: connector.TypeInt32, Logical: connector.LogicalDate}},
	{Name: "at", Schema: &connector.Schema{Type: connector.TypeInt64, Logical: connector.LogicalTimestampMicros}},
	{Name: "tod", Schema: &connector.Schema{Type: connector.TypeInt32, Logical: connector.LogicalTimeMillis}},
	{Name: "blob", Schema: &connector.Schema{Type: connector.TypeBytes, Optional: true}},
	{Name: "tags", Schema: &connector.Schema{Type: connector.TypeArray, Items: &connector.Schema{Type: connector.TypeString}}},
	{Name: "attrs", Schema: &connector.Schema{Type: connector.TypeMap, Keys: &connector.Schema{Type: connector.TypeString}, Values: &connector.Schema{Type: connector.TypeInt64}}},
	{Name: "doc", Schema: &connector.Schema{Type: connector.TypeString, Logical: connector.LogicalJSON, Optional: true}},
	{Name: "ship", Schema: &connector.Schema{Type: connector.TypeStruct, Optional: true, Fields: []connector.Field{
		{Name: "city", Schema: &connector.Schema{Type: connector.TypeString}},
		{Name: "lines", Schema: &connector.Schema{Type: connector.TypeArray, Items: &connector.Schema{Type: connector.TypeStruct, Fields: []connector.Field{
			{Name: "sku", Schema: &connector.Schema{Type: connector.TypeString}},
			{Name: "qty", Schema: &connector.Schema{Type: connector.TypeInt32}},
		}}}},
	}}},
}}

func orderValue(i int64) map[string]any {
	v := map[string]any{
		"id": i, "small": int64(-3), "ratio": 0.5, "email": nil,
		"amount": "-12345678901234567890123.45", "free": "314159",
		"day":  time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC),
		"at":   time.Date(2026, 3, 14, 10, 11, 12, 123456000, time.UTC),
		"tod":  13*time.Hour + 14*time.Millisecond,
		"blob": []byte{0, 0xff, 1},
		"tags": []any{"a", "b"}, "attrs": map[string]any{"x": int64(1)},
		"doc":  map[string]any{"k": []any{int64(1), "two"}},
		"ship": map[string]any{"city": "Lyon", "lines": []any{map[string]any{"sku": "s1", "qty": int64(2)}}},
	}
	if i%2 == 1 {
		v["email"] = "a@example.com"
		v["ship"] = nil
		v["blob"] = nil
	}
	return v
}

// TestParquetDeclaredSchema writes records with a record schema to a
// Parquet object and reads them back: every value, its schema, the key,
// headers, offsets and timestamps come back.
func TestParquetDeclaredSchema(t *testing.T) {
	o := &object{}
	var want []connector.Record
	for i := range int64(4) {
		r := connector.Record{OriginalTopic: "orders", OriginalPartition: 3, Offset: 100 + i, Key: "k", Value: orderValue(i), ValueSchema: orderSchema,
			Timestamp: time.UnixMilli(1700000000000 + i).UTC(), Headers: []connector.Header{{Key: "h", Value: []byte{0xff}}, {Key: "n"}}}
		if err := orderSchema.CheckValue(r.Value); err != nil {
			t.Fatal(err)
		}
		v, s, declared, err := parquetValue(&r, nil)
		if err != nil || !declared {
			t.Fatal(err, declared)
		}
		if !o.fits(v, s, declared) {
			t.Fatal("a record of the object's schema does not fit")
		}
		o.schema, o.declared = s, declared
		row, _, err := parquetRow(&r, v, s, declared)
		if err != nil {
			t.Fatal(err)
		}
		o.rows = append(o.rows, row)
		want = append(want, connector.Record{Offset: r.Offset, Key: r.Key, Value: r.Value, ValueSchema: orderSchema, Timestamp: r.Timestamp, Headers: r.Headers})
	}
	for _, c := range []string{"none", "snappy", "gzip", "zstd"} {
		b, err := o.encode("parquet", c)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := o.encode("parquet", c)
		if string(again) != string(b) {
			t.Errorf("%s: the same records made another object", c)
		}
		got, err := decodeParquet(b)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !got[i].ValueSchema.Equal(orderSchema) {
				t.Fatalf("schema %s, want %s", got[i].ValueSchema, orderSchema)
			}
			got[i].ValueSchema = orderSchema
			if err := orderSchema.CheckValue(got[i].Value); err != nil {
				t.Errorf("restored value does not fit its schema: %v", err)
			}
		}
		norm := func(rs []connector.Record) []connector.Record {
			out := append([]connector.Record(nil), rs...)
			for i := range out {
				m := map[string]any{}
				for k, v := range out[i].Value.(map[string]any) {
					if v != nil {
						m[k] = v
					}
				}
				out[i].Value = m
			}
			return out
		}
		if diff := cmp.Diff(norm(want), norm(got)); diff != "" {
			t.Fatalf("%s (-written +read):\n%s", c, diff)
		}
	}
}

// TestLinesRoundTrip writes records as JSON lines and reads them back.
func TestLinesRoundTrip(t *testing.T) {
	recs := []connector.Record{
		{OriginalTopic: "t", Offset: 5, Key: []byte{0xff, 0}, Value: json.RawMessage(`{"a": 1,
 "b": [true]}`), Timestamp: time.UnixMilli(1700000000123).UTC(), Headers: []connector.Header{{Key: "x", Value: []byte("y")}, {Key: "bin", Value: []byte{0xfe}}, {Key: "null"}}},
		{OriginalTopic: "t", Offset: 7, Key: "plain", Value: "just text"},
		{OriginalTopic: "t", Offset: 8},
	}
	var body []byte
	for i := range recs {
		line, err := appendLine(nil, &recs[i])
		if err != nil {
			t.Fatal(err)
		}
		body = append(append(body, line...), '\n')
	}
	for _, c := range []string{"none", "gzip", "zstd"} {
		z, err := compress(body, c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeObject("p/t+0+0000000005"+extension("jsonl", c), z, 5, false, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		want := []connector.Record{
			{Offset: 5, Key: []byte{0xff, 0}, Value: map[string]any{"a": int64(1), "b": []any{true}}, Timestamp: recs[0].Timestamp, Headers: recs[0].Headers},
			{Offset: 7, Key: "plain", Value: "just text"},
			{Offset: 8},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s (-written +read):\n%s", c, diff)
		}
	}
}

func TestDecimalBytes(t *testing.T) {
	for _, d := range []string{"0.00", "1.00", "-1.00", "127.00", "-128.00", "12345678901234567890.12", "-0.01"} {
		b, err := unscaled(d, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := scaled(b, 2); got != d {
			t.Errorf("%s came back as %s", d, got)
		}
	}
}

// FuzzDecodeObject feeds any bytes to the object decoders: an error, never
// a panic.
func FuzzDecodeObject(f *testing.F) {
	f.Add([]byte(`{"topic":"t","partition":0,"offset":1,"timestamp":null,"key":null,"value":{"a":1},"headers":[]}`), "x+0+1.jsonl")
	f.Add([]byte("PAR1"), "x+0+1.parquet")
	f.Add([]byte(craftedParquet), "x+0+1.parquet")
	f.Add([]byte{0x1f, 0x8b}, "x+0+1.jsonl.gz")
	f.Add([]byte("a\nb\n"), "x+0+1.bin.zst")
	// A real object of the sink, to mutate.
	r := connector.Record{OriginalTopic: "t", Offset: 1, Key: "k", Value: orderValue(1), ValueSchema: orderSchema, Headers: []connector.Header{{Key: "h", Value: []byte("v")}}}
	if v, s, declared, err := parquetValue(&r, nil); err == nil {
		if row, _, err := parquetRow(&r, v, s, declared); err == nil {
			o := &object{schema: s, declared: declared, rows: []any{row}}
			if b, err := o.encode("parquet", "snappy"); err == nil {
				f.Add(b, "x+0+1.parquet")
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		_, _ = decodeObject(name, body, 0, false, 1<<20)
		_, _ = decodeObject(name, body, 0, true, 1<<20)
	})
}
