package postgrescdc

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
)

func TestDecodeText(t *testing.T) {
	numeric102 := int32((10<<16 | 2) + 4)
	cases := []struct {
		oid    uint32
		typmod int32
		text   string
		want   any
	}{
		{oidBool, -1, "t", true},
		{oidBool, -1, "f", false},
		{oidInt2, -1, "-32768", int64(-32768)},
		{oidInt4, -1, "42", int64(42)},
		{oidInt8, -1, "9223372036854775807", int64(9223372036854775807)},
		{oidFloat8, -1, "1.5", 1.5},
		{oidNumeric, numeric102, "-12.30", "-12.30"},
		{oidNumeric, -1, "3.14159265358979", "3.14159265358979"},
		{oidText, -1, "héllo", "héllo"},
		{oidBytea, -1, `\x00ff`, []byte{0, 0xff}},
		{oidDate, -1, "2026-12-03", time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)},
		{oidTime, -1, "13:14:15.5", 13*time.Hour + 14*time.Minute + 15*time.Second + 500*time.Millisecond},
		{oidTimestamp, -1, "2026-12-03 13:14:15.123456", time.Date(2026, 12, 3, 13, 14, 15, 123456000, time.UTC)},
		{oidTimestamptz, -1, "2026-12-03 13:14:15+00", time.Date(2026, 12, 3, 13, 14, 15, 0, time.UTC)},
		{oidUUID, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{oidJSONB, -1, `{"a": [1, "x", null]}`, map[string]any{"a": []any{int64(1), "x", nil}}},
		{1009, -1, "{a,b}", "{a,b}"}, // text[]: its text form
	}
	for _, c := range cases {
		got, err := decodeText(c.oid, c.typmod, []byte(c.text))
		if err != nil {
			t.Errorf("decodeText(%d, %q): %v", c.oid, c.text, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("decodeText(%d, %q) (-want +got):\n%s", c.oid, c.text, diff)
		}
		if err := columnSchema(c.oid, c.typmod).CheckValue(got); err != nil {
			t.Errorf("decodeText(%d, %q) = %#v does not fit its schema: %v", c.oid, c.text, got, err)
		}
	}
	for _, bad := range []struct {
		oid    uint32
		typmod int32
		text   string
	}{{oidBool, -1, "yes"}, {oidInt4, -1, "x"}, {oidNumeric, numeric102, "NaN"}, {oidBytea, -1, "abc"}, {oidDate, -1, "infinity"}, {oidJSON, -1, "{"}} {
		if v, err := decodeText(bad.oid, bad.typmod, []byte(bad.text)); err == nil {
			t.Errorf("decodeText(%d, %q) = %#v, want an error", bad.oid, bad.text, v)
		}
	}
}

func TestDecodeRowToastAndKey(t *testing.T) {
	tb := &table{Schema: "public", Name: "docs", Columns: []column{
		{Name: "id", OID: oidInt4, Typmod: -1, Key: true},
		{Name: "note", OID: oidText, Typmod: -1},
		{Name: "body", OID: oidText, Typmod: -1},
	}}
	tb.build()
	row, toast, err := tb.decodeRow([]cell{{Kind: 't', Data: []byte("7")}, {Kind: 'n'}, {Kind: 'u'}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"id": int64(7), "note": nil}, row); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"body"}, toast); diff != "" {
		t.Errorf("toast (-want +got):\n%s", diff)
	}
	key := tb.keyOf(row)
	if diff := cmp.Diff(map[string]any{"id": int64(7)}, key); diff != "" {
		t.Errorf("key (-want +got):\n%s", diff)
	}
	if err := tb.key.CheckValue(key); err != nil {
		t.Error(err)
	}
	v := map[string]any{"op": "u", "after": row, "unchanged_toast": toast,
		"source": map[string]any{"lsn": "0/1", "txid": int64(1), "schema": "public", "table": "docs", "ts_ms": int64(0)}}
	if err := tb.value.CheckValue(v); err != nil {
		t.Errorf("envelope does not fit its schema: %v", err)
	}
	if _, _, err := tb.decodeRow([]cell{{Kind: 't', Data: []byte("x")}}); err == nil {
		t.Error("a bad integer decoded")
	}
	if got := columnSchema(oidNumeric, int32((10<<16|2)+4)); got.Logical != connector.LogicalDecimal || got.Precision != 10 || got.Scale != 2 {
		t.Errorf("numeric(10,2) = %v", got)
	}
}

func FuzzDecodeText(f *testing.F) {
	f.Add(uint32(oidNumeric), int32(-1), []byte("1.5"))
	f.Add(uint32(oidTimestamptz), int32(-1), []byte("2026-12-03 13:14:15+00"))
	f.Add(uint32(oidBytea), int32(-1), []byte(`\x00`))
	f.Add(uint32(oidJSONB), int32(-1), []byte(`{"n": 9007199254740993, "f": 1.5, "a": [1e3, -0]}`))
	f.Add(uint32(oidInt2), int32(-1), []byte("40000"))
	f.Add(uint32(oidDate), int32(-1), []byte("2026-12-03"))
	f.Fuzz(func(t *testing.T, oid uint32, typmod int32, text []byte) {
		v, err := decodeText(oid, typmod, text)
		if err != nil {
			return
		}
		if err := columnSchema(oid, typmod).CheckValue(v); err != nil {
			t.Fatalf("decodeText(%d, %d, %q) = %#v, which does not fit its schema: %v", oid, typmod, text, v, err)
		}
	})
}

// JSON integers stay exact (a float64 rounds those above 2^53) and every
// decoded value fits the json schema.
func TestDecodeJSONNumbers(t *testing.T) {
	v, err := decodeText(oidJSONB, -1, []byte(`{"big": 9007199254740993, "f": 1.5, "e": 1e3, "a": [-7, {"n": 2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"big": int64(9007199254740993), "f": 1.5, "e": 1000.0, "a": []any{int64(-7), map[string]any{"n": int64(2)}}}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	if err := columnSchema(oidJSONB, -1).CheckValue(v); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{`{"a": 1} 2`, `1e400`, `{`} {
		if v, err := decodeText(oidJSON, -1, []byte(bad)); err == nil {
			t.Errorf("json %s decoded as %#v", bad, v)
		}
	}
	if v, err := decodeText(oidInt2, -1, []byte("40000")); err == nil {
		t.Errorf("int2 40000 decoded as %v", v)
	}
}
