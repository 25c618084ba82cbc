package converters_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
)

var fuzzSeeds = []string{
	``, ` `, `null`, `true`, `0`, `-0`, `1.0`, `-0.0`, `1e400`, `1e-400`, `9223372036854775808`,
	`"a\u00e9\ud83d\ude00\ud800"`, "\"\xff\"", `[1,2.5,"x",null,{"a":[]}]`, `{"a":{"b":{"c":1}}}`,
	`{"a":1,"a":2}`, `[1,]`, `{"a" 1}`, "plain text", "\x00\x01", `"\u2028<>&"`,
}

// maxErrLen bounds an error message: the quoted data is capped at ~64 bytes.
const maxErrLen = 300

// normalize turns numbers decoded by encoding/json with UseNumber into
// what the converter promises: int64 for integer literals that fit, else
// float64.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if !strings.ContainsAny(string(v), ".eE") {
			if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return i
			}
		}
		f, _ := strconv.ParseFloat(string(v), 64)
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
	}
	return v
}

// FuzzJSONConverter checks the json converter against encoding/json (same
// inputs accepted, same values up to the int64/float64 rule), Check against
// Decode, and that Decode→Encode→Decode is stable.
func FuzzJSONConverter(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	c := newConverter(f, "json", nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkWireAgrees(t, c, data)
		v, err := c.Decode(data)
		var std any
		stdErr := json.Unmarshal(data, &std)
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("Decode(%q) error %v, encoding/json error %v", data, err, stdErr)
		}
		if _, cerr := c.Check(data); (cerr == nil) != (err == nil) {
			t.Fatalf("Check(%q) error %v, Decode error %v", data, cerr, err)
		}
		if err != nil {
			if len(err.Error()) > maxErrLen {
				t.Fatalf("error of %d bytes: %s", len(err.Error()), err)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(normalize(want), v); diff != "" {
			t.Fatalf("Decode(%q) differs from encoding/json (-std +ours):\n%s", data, diff)
		}

		checked, _ := c.Check(data)
		if back, err := c.Encode(checked); err != nil || !bytes.Equal(back, data) {
			t.Fatalf("Encode(Check(%q)) = %q, %v", data, back, err)
		}

		enc, err := c.Encode(v)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)): %v", data, err)
		}
		v2, err := c.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) = Decode(%q): %v", data, enc, err)
		}
		if diff := cmp.Diff(v, v2); diff != "" {
			t.Fatalf("Decode→Encode→Decode of %q not stable (-first +second):\n%s", data, diff)
		}
		if enc2, err := c.Encode(v2); err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("Encode not stable: %q then %q (%v)", enc, enc2, err)
		}
	})
}

// FuzzStringConverter checks that the string converter accepts exactly
// valid UTF-8 and gives it back unchanged.
func FuzzStringConverter(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	c := newConverter(f, "string", nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkWireAgrees(t, c, data)
		v, err := c.Decode(data)
		if (err == nil) != utf8.Valid(data) {
			t.Fatalf("Decode(%q): error %v, but utf8.Valid is %v", data, err, utf8.Valid(data))
		}
		if err != nil {
			if len(err.Error()) > maxErrLen {
				t.Fatalf("error of %d bytes: %s", len(err.Error()), err)
			}
			return
		}
		enc, err := c.Encode(v)
		if err != nil || !bytes.Equal(enc, data) {
			t.Fatalf("Encode(Decode(%q)) = %q, %v", data, enc, err)
		}
		v2, err := c.Decode(enc)
		if err != nil || v2 != v {
			t.Fatalf("Decode→Encode→Decode of %q: %#v, %v", data, v2, err)
		}
	})
}

// FuzzBytesConverter checks that the bytes converter passes everything
// through.
func FuzzBytesConverter(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	c := newConverter(f, "bytes", nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkWireAgrees(t, c, data)
		v, err := c.Decode(data)
		if err != nil {
			t.Fatalf("Decode(%q): %v", data, err)
		}
		enc, err := c.Encode(v)
		if err != nil || !bytes.Equal(enc, data) {
			t.Fatalf("Encode(Decode(%q)) = %q, %v", data, enc, err)
		}
		v2, err := c.Decode(enc)
		if err != nil || !bytes.Equal(v2.([]byte), data) {
			t.Fatalf("Decode→Encode→Decode of %q: %#v, %v", data, v2, err)
		}
	})
}

// checkWireAgrees checks connector.WireChecker's promise for c and data
// (not nil): CheckWire fails as Check does, and otherwise Check returns
// data as the type CheckWire names.
func checkWireAgrees(t *testing.T, c connector.Converter, data []byte) {
	t.Helper()
	if data == nil {
		data = []byte{}
	}
	wc, ok := c.(connector.WireChecker)
	if !ok {
		t.Fatalf("%T is not a connector.WireChecker", c)
	}
	typ, err := wc.CheckWire(data)
	v, cerr := c.Check(data)
	if (err == nil) != (cerr == nil) || (err != nil && err.Error() != cerr.Error()) {
		t.Fatalf("CheckWire(%q) error %v, Check error %v", data, err, cerr)
	}
	if err != nil {
		return
	}
	if diff := cmp.Diff(v, typ.Of(data)); diff != "" {
		t.Fatalf("Check(%q) is not CheckWire's type %d of it (-Check +Of):\n%s", data, typ, diff)
	}
}

// validAsDecoded is the json converter's validity: encoding/json decodes
// b (1e400 is valid JSON but no float64).
func validAsDecoded(b []byte) bool {
	var v any
	return json.Unmarshal(b, &v) == nil
}

// TestCheckWire checks what Check returns (the type CheckWire names)
// against what each converter promises, for the fuzz seeds and a few more.
func TestCheckWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    connector.Converter
		want func(b []byte) any // nil: an error
	}{
		{"json", newConverter(t, "json", nil), func(b []byte) any {
			if validAsDecoded(b) {
				return json.RawMessage(b)
			}
			return nil
		}},
		{"json on_invalid", newConverter(t, "json", map[string]any{"on_invalid": "string"}), func(b []byte) any {
			if validAsDecoded(b) {
				return json.RawMessage(b)
			}
			return string(b)
		}},
		{"string", newConverter(t, "string", nil), func(b []byte) any {
			if utf8.Valid(b) {
				return string(b)
			}
			return nil
		}},
		{"bytes", newConverter(t, "bytes", nil), func(b []byte) any { return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range append(fuzzSeeds, "{broken", `{"id":1}`, "\xff", "[1, 2]\n") {
				b := []byte(s)
				checkWireAgrees(t, tc.c, b)
				got, err := tc.c.Check(b)
				want := tc.want(b)
				if want == nil {
					if err == nil {
						t.Errorf("Check(%q) = %#v, want an error", b, got)
					}
					continue
				}
				if err != nil {
					t.Errorf("Check(%q): %v", b, err)
				} else if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Check(%q) (-want +got):\n%s", b, diff)
				}
			}
		})
	}
}
