package converters_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

func newConverter(t testing.TB, name string, config map[string]any) connector.Converter {
	t.Helper()
	for _, p := range converters.Plugins() {
		if p.Schema.Type == name {
			c, err := p.NewConverter(config)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
	t.Fatalf("no converter %q", name)
	return nil
}

func TestJSONDecode(t *testing.T) {
	c := newConverter(t, "json", map[string]any{"on_invalid": "error"})
	for _, tc := range []struct {
		in   string
		want any
	}{
		{`1`, int64(1)},
		{`-7`, int64(-7)},
		{`-0`, int64(0)},
		{`1.0`, 1.0},
		{`1e2`, 100.0},
		{`1E+2`, 100.0},
		{`-2.5e-3`, -0.0025},
		{`9223372036854775807`, int64(math.MaxInt64)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775808`, 9223372036854775808.0},
		{`-9223372036854775809`, -9223372036854775809.0},
		{` true `, true},
		{"\t\nfalse\r\n", false},
		{`null`, nil},
		{`""`, ""},
		{`"plain"`, "plain"},
		{`"esc \" \\ \/ \b \f \n \r \t"`, "esc \" \\ / \b \f \n \r \t"},
		{`"\u00e9\ud83d\ude00 é"`, "é😀 é"},
		{`"\ud800x"`, "\uFFFDx"},
		{`"\ud800\u0041"`, "\uFFFDA"},
		{"\"a\xffb\"", "a\uFFFDb"},
		{"\"\xed\xa0\x80\"", "\uFFFD\uFFFD\uFFFD"},
		{`[]`, []any{}},
		{`{}`, map[string]any{}},
		{`{"a":1,"a":2}`, map[string]any{"a": int64(2)}},
		{
			`{"id": 12, "amount": 10.5, "tags": ["x", 1, 2.0, null], "nested": {"deep": {"n": -3}}, "ok": true}`,
			map[string]any{
				"id": int64(12), "amount": 10.5, "tags": []any{"x", int64(1), 2.0, nil},
				"nested": map[string]any{"deep": map[string]any{"n": int64(-3)}}, "ok": true,
			},
		},
	} {
		got, err := c.Decode([]byte(tc.in))
		if err != nil {
			t.Errorf("Decode(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Decode(%q) (-want +got):\n%s", tc.in, diff)
		}
		// Check accepts what Decode accepts and hands back the same bytes.
		checked, err := c.Check([]byte(tc.in))
		if err != nil {
			t.Errorf("Check(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(json.RawMessage(tc.in), checked); diff != "" {
			t.Errorf("Check(%q) (-want +got):\n%s", tc.in, diff)
		}
		enc, err := c.Encode(checked)
		if err != nil || string(enc) != tc.in {
			t.Errorf("Encode(Check(%q)) = %q, %v; want the input back", tc.in, enc, err)
		}
	}
}

func TestJSONDecodeErrors(t *testing.T) {
	c := newConverter(t, "json", nil)
	for _, tc := range []struct {
		in   string
		want string // the whole message
	}{
		{``, `json converter: cannot decode: empty input is not JSON at byte 0 of 0 near ""`},
		{`  `, `json converter: cannot decode: no JSON value at byte 2 of 2 near "  "`},
		{`{`, `json converter: cannot decode: unexpected end of input at byte 1 of 1 near "{"`},
		{`[1,]`, `json converter: cannot decode: unexpected ']' at byte 3 of 4 near "[1,]"`},
		{`01`, `json converter: cannot decode: unexpected '1' after the JSON value at byte 1 of 2 near "01"`},
		{`1.`, `json converter: cannot decode: unexpected end of input at byte 2 of 2 near "1."`},
		{`-`, `json converter: cannot decode: unexpected end of input at byte 1 of 1 near "-"`},
		{`tru`, `json converter: cannot decode: unexpected end of input at byte 3 of 3 near "tru"`},
		{`nul1`, `json converter: cannot decode: unexpected '1' at byte 3 of 4 near "nul1"`},
		{`"abc`, `json converter: cannot decode: unexpected end of input in a string at byte 4 of 4 near "\"abc"`},
		{"\"a\tb\"", `json converter: cannot decode: control character '\t' in a string at byte 2 of 5 near "\"a\tb\""`},
		{`"\x"`, `json converter: cannot decode: invalid escape 'x' in a string at byte 2 of 4 near "\"\\x\""`},
		{`"\u12g4"`, `json converter: cannot decode: invalid \u escape at byte 5 of 8 near "\"\\u12g4\""`},
		{`{"a" 1}`, `json converter: cannot decode: unexpected '1' at byte 5 of 7 near "{\"a\" 1}"`},
		{`{1:2}`, `json converter: cannot decode: unexpected '1' at byte 1 of 5 near "{1:2}"`},
		{`{"a":1}x`, `json converter: cannot decode: unexpected 'x' after the JSON value at byte 7 of 8 near "{\"a\":1}x"`},
		{`1e400`, `json converter: cannot decode: number 1e400 is out of the range of a 64-bit float at byte 0 of 5 near "1e400"`},
		{"\xef\xbb\xbf1", `json converter: cannot decode: unexpected byte 0xef at byte 0 of 4 near "\ufeff1"`},
	} {
		_, err := c.Decode([]byte(tc.in))
		if err == nil {
			t.Errorf("Decode(%q) succeeded", tc.in)
			continue
		}
		if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
			t.Errorf("Decode(%q) error (-want +got):\n%s", tc.in, diff)
		}
		var cerr *converters.Error
		if !errors.As(err, &cerr) || connector.IsRetriable(err) {
			t.Errorf("Decode(%q): error %T is not a non-retriable *converters.Error", tc.in, err)
		}
		if _, err := c.Check([]byte(tc.in)); err == nil {
			t.Errorf("Check(%q) succeeded where Decode failed", tc.in)
		}
	}
}

func TestJSONErrorQuotesLittle(t *testing.T) {
	c := newConverter(t, "json", nil)
	in := `{"secret": "` + strings.Repeat("s", 10000) + `", "x": ?}`
	_, err := c.Decode([]byte(in))
	if err == nil {
		t.Fatal("Decode succeeded")
	}
	msg := err.Error()
	if len(msg) > 200 || strings.Count(msg, "s") > 70 {
		t.Errorf("error quotes too much (%d bytes): %s", len(msg), msg)
	}
	if !strings.Contains(msg, `at byte 10020 of 10022`) || !strings.Contains(msg, `"x\": ?}"`) {
		t.Errorf("error does not say where: %s", msg)
	}
}

func TestJSONDepth(t *testing.T) {
	c := newConverter(t, "json", nil)
	ok := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	if _, err := c.Decode([]byte(ok)); err != nil {
		t.Errorf("10000 levels: %v", err)
	}
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	_, err := c.Decode([]byte(deep))
	if err == nil || !strings.Contains(err.Error(), "nesting deeper than 10000") {
		t.Errorf("10001 levels: got %v", err)
	}
	var v any
	if json.Unmarshal([]byte(deep), &v) == nil || json.Unmarshal([]byte(ok), &v) != nil {
		t.Error("encoding/json's limit differs from ours")
	}
}

func TestJSONOnInvalidString(t *testing.T) {
	c := newConverter(t, "json", map[string]any{"on_invalid": "string"})
	for _, in := range []string{"plain text", "", "{broken"} {
		for name, f := range map[string]func([]byte) (any, error){"Decode": c.Decode, "Check": c.Check} {
			got, err := f([]byte(in))
			if err != nil || got != in {
				t.Errorf("%s(%q) = %#v, %v; want the string", name, in, got, err)
			}
		}
	}
	got, err := c.Decode([]byte(`{"a":1}`))
	if diff := cmp.Diff(map[string]any{"a": int64(1)}, got); err != nil || diff != "" {
		t.Errorf("valid JSON with on_invalid=string: %v %s", err, diff)
	}
	if _, err := converters.NewJSON(map[string]any{"on_invalid": "drop"}); err == nil {
		t.Error("on_invalid = drop was accepted")
	}
}

func TestJSONEncode(t *testing.T) {
	c := newConverter(t, "json", nil)
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"raw message untouched", json.RawMessage(`{"b": 1,  "a":2}`), `{"b": 1,  "a":2}`},
		{"int", int64(3), `3`},
		{"integral float keeps a fraction", 3.0, `3.0`},
		{"negative zero", math.Copysign(0, -1), `-0.0`},
		{"float", 0.1, `0.1`},
		{"big float", 1e21, `1e+21`},
		{"small float", 1e-7, `1e-7`},
		{"large integral float", 1e20, `100000000000000000000.0`},
		{"uint64", uint64(math.MaxUint64), `18446744073709551615`},
		{"string without html escaping", "a\"<b>&\n\t\x01\u2028é", `"a\"<b>&\n\t\u0001\u2028é"`},
		{"invalid utf-8", "a\xffb", `"a\ufffdb"`},
		{"bytes as base64", []byte{0, 1, 2, 0xff}, `"AAEC/w=="`},
		{"bool", true, `true`},
		{"sorted keys and nesting", map[string]any{
			"b": []any{1.5, "x", nil, false, map[string]any{"z": int64(1), "y": map[string]string{"q": "r", "p": "s"}}},
			"a": json.RawMessage(`[1, 2]`),
		}, `{"a":[1, 2],"b":[1.5,"x",null,false,{"y":{"p":"s","q":"r"},"z":1}]}`},
		{"list of strings", []string{"a", "b"}, `["a","b"]`},
		{"time via encoding/json", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), `"2026-01-02T03:04:05.000000006Z"`},
		{"typed slice via encoding/json", []int{1, 2}, `[1,2]`},
	} {
		got, err := c.Encode(tc.in)
		if err != nil {
			t.Errorf("%s: Encode: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, string(got)); diff != "" {
			t.Errorf("%s: Encode (-want +got):\n%s", tc.name, diff)
		}
	}
	for name, in := range map[string]any{
		"NaN":                math.NaN(),
		"infinity in a map":  map[string]any{"x": math.Inf(1)},
		"invalid nested raw": []any{json.RawMessage(`{`)},
		"channel":            make(chan int),
	} {
		if got, err := c.Encode(in); err == nil {
			t.Errorf("Encode(%s) = %q, want an error", name, got)
		}
	}
}

func TestTombstones(t *testing.T) {
	for _, name := range []string{"json", "string", "bytes"} {
		c := newConverter(t, name, nil)
		for op, f := range map[string]func([]byte) (any, error){"Decode": c.Decode, "Check": c.Check} {
			if v, err := f(nil); v != nil || err != nil {
				t.Errorf("%s.%s(nil) = %#v, %v; want nil, nil", name, op, v, err)
			}
		}
		if b, err := c.Encode(nil); b != nil || err != nil {
			t.Errorf("%s.Encode(nil) = %#v, %v; want nil, nil", name, b, err)
		}
	}
}

func TestString(t *testing.T) {
	c := newConverter(t, "string", nil)
	for _, in := range []string{"", "héllo", "line\nbreak", `{"json": 1}`} {
		v, err := c.Decode([]byte(in))
		if err != nil || v != in {
			t.Errorf("Decode(%q) = %#v, %v", in, v, err)
		}
		b, err := c.Encode(v)
		if err != nil || string(b) != in || b == nil {
			t.Errorf("Encode(%q) = %q, %v", in, b, err)
		}
	}
	_, err := c.Decode([]byte("ab\xffcd"))
	if diff := cmp.Diff(`string converter: cannot decode: invalid UTF-8 at byte 2 of 5 near "ab\xffcd"`, errString(err)); diff != "" {
		t.Errorf("Decode(invalid UTF-8) error (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{[]byte("bytes"), "bytes"},
		{json.RawMessage(`{"a":1}`), `{"a":1}`},
		{int64(-42), "-42"},
		{0.5, "0.5"},
		{3.0, "3"},
		{1e21, "1e+21"},
		{true, "true"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z"},
	} {
		got, err := c.Encode(tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("Encode(%#v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []any{map[string]any{"a": 1}, []any{1}, "bad\xff", []byte("bad\xff")} {
		if got, err := c.Encode(in); err == nil {
			t.Errorf("Encode(%#v) = %q, want an error", in, got)
		}
	}
}

func TestBytes(t *testing.T) {
	c := newConverter(t, "bytes", nil)
	for _, in := range [][]byte{{}, {0, 0xff, '\n'}, []byte("text")} {
		v, err := c.Decode(in)
		if err != nil || !bytes.Equal(v.([]byte), in) || v.([]byte) == nil {
			t.Errorf("Decode(%q) = %#v, %v", in, v, err)
		}
		b, err := c.Encode(v)
		if err != nil || !bytes.Equal(b, in) {
			t.Errorf("Encode(%q) = %q, %v", in, b, err)
		}
	}
	if b, err := c.Encode("héllo"); err != nil || string(b) != "héllo" {
		t.Errorf("Encode(string) = %q, %v", b, err)
	}
	if b, err := c.Encode(json.RawMessage(`[1]`)); err != nil || string(b) != "[1]" {
		t.Errorf("Encode(RawMessage) = %q, %v", b, err)
	}
	for _, in := range []any{map[string]any{}, int64(1), true} {
		if got, err := c.Encode(in); err == nil {
			t.Errorf("Encode(%#v) = %q, want an error", in, got)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
