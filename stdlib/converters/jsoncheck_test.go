package converters

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkCases are inputs on which validJSON and decodeJSON must agree, with
// whether decodeJSON accepts them: the edges of every rule validJSON
// implements again.
var checkCases = []struct {
	in string
	ok bool
}{
	// Whitespace and emptiness.
	{"", false},
	{" ", false},
	{" \t\r\n", false},
	{" \t\r\n1 \t\r\n", true},
	{"\f1", false},
	{"1\v", false},
	{"\x001", false},
	{"\xef\xbb\xbf1", false}, // a byte-order mark is not whitespace

	// Literals.
	{"true", true},
	{"false", true},
	{"null", true},
	{"tru", false},
	{"nul", false},
	{"fals", false},
	{"truee", false},
	{"True", false},
	{"nul1", false},
	{"true false", false},
	{"[true,false,null]", true},

	// Numbers.
	{"0", true},
	{"-0", true},
	{"-0.0", true},
	{"01", false},
	{"00", false},
	{"-01", false},
	{"-", false},
	{"-a", false},
	{"+1", false},
	{".5", false},
	{"1.", false},
	{"1.e5", false},
	{"1e", false},
	{"1e+", false},
	{"1e-", false},
	{"1E5", true},
	{"1e+5", true},
	{"1e-5", true},
	{"1.5e3", true},
	{"0e0", true},
	{"-0e-0", true},
	{"0x10", false},
	{"1_000", false},
	{"Infinity", false},
	{"NaN", false},
	{"1e308", true},
	{"1.7976931348623157e308", true},
	{"1.7976931348623159e308", false}, // rounds to +Inf
	{"1e309", false},
	{"-1e309", false},
	{"1e400", false},
	{"1e-400", true}, // underflow is zero, not an error
	{"1e99999999999999999999", false},
	{"1e-99999999999999999999", true},
	{"9223372036854775807", true},
	{"9223372036854775808", true},
	{"-9223372036854775809", true},
	{"[1e309]", false},
	{"[1,2e3,-4.5E-6]", true},
	{strings.Repeat("9", 299), true},
	{strings.Repeat("9", 300), true},
	{strings.Repeat("9", 308), true},
	{strings.Repeat("9", 309), false},
	{"-" + strings.Repeat("9", 309), false},
	{strings.Repeat("9", 309) + ".5", false},
	{"0." + strings.Repeat("9", 400), true},
	{"1" + strings.Repeat("0", 308) + "e-10", true},

	// Strings.
	{`""`, true},
	{`"`, false},
	{`"abc`, false},
	{`"abcdefgh`, false},
	{`"abcdefghijklmnopq`, false},
	{`"\"\\\/\b\f\n\r\t"`, true},
	{`"\a"`, false},
	{`"\x41"`, false},
	{`"\'"`, false},
	{`"\`, false},
	{`"\"`, false},
	{`"\u0041"`, true},
	{`"\u00e9\u00E9\uABCD\uabcd"`, true},
	{`"\u004"`, false},
	{`"\u004g"`, false},
	{`"\u12`, false},
	{`"\uZZZZ"`, false},
	{`"\U0041"`, false},
	{`"\ud83d\ude00"`, true},   // a surrogate pair
	{`"\ud800"`, true},         // a lone high surrogate: U+FFFD
	{`"\udc00"`, true},         // a lone low surrogate
	{`"\ud800\u0041"`, true},   // a high surrogate and no low one
	{`"\ud800\ud800"`, true},   // two high surrogates
	{`"\ud800\u00zz"`, false},  // the second escape is bad
	{`"\ud800\n"`, true},       // a high surrogate and another escape
	{`"\ud800\`, false},        // cut after the backslash
	{`"\ud800\u12"`, false},    // cut in the second escape
	{"\"a\xffb\"", true},       // invalid UTF-8 becomes U+FFFD
	{"\"\xed\xa0\x80\"", true}, // an encoded surrogate
	{"\"\xc3\"", true},         // a cut sequence
	{"\"\x80\x80\x80\x80\x80\x80\x80\x80\x80\"", true},
	{"\"é😀\"", true},
	{"\"\x7f\"", true},
	{"\"a\x00b\"", false},
	{"\"a\tb\"", false},
	{"\"a\nb\"", false},
	{"\"\x1f\"", false},
	{"\"\x20\"", true},
	{"\"aaaaaaa\x1f\"", false},
	{"\"aaaaaaaa\x1f\"", false},
	{"\"\x00 aaaaaaaaa\"", false},
	{`"#"`, true},       // '#' is '"'+1: a borrow could mark it
	{`"a\"#\"#"`, true}, // … after a quote in the same word
	{`"\\]\\]"`, true},  // ']' is '\\'+1
	{"\"\x1f aaaaa\"", false},
	{`"aaaaaaa"`, true}, // the closing quote at each place in a word
	{`"aaaaaaaa"`, true},
	{`"aaaaaaaaa"`, true},
	{`"aaaaaaaaaaaaaaa"`, true},
	{`"aaaaaaaaaaaaaaaa"`, true},
	{`"aaaaaaa\n"`, true},
	{`"aaaaaaaa\u0041aaaaaaaa"`, true},
	{"\xff", false},
	{"\"a\"\"b\"", false},

	// Objects and arrays.
	{"{}", true},
	{"[]", true},
	{"{ }", true},
	{"[ ]", true},
	{"{", false},
	{"[", false},
	{"}", false},
	{"]", false},
	{"[}", false},
	{"{]", false},
	{"[1,]", false},
	{"[,1]", false},
	{"[1 2]", false},
	{"[1,,2]", false},
	{`{"a":1,}`, false},
	{`{,}`, false},
	{`{"a"}`, false},
	{`{"a":}`, false},
	{`{"a" 1}`, false},
	{`{"a"::1}`, false},
	{`{1:2}`, false},
	{`{a:1}`, false},
	{`{'a':1}`, false},
	{`{"a":1 "b":2}`, false},
	{`{"a":1,"a":2}`, true},
	{` { "a" : [ 1 , { "b" : null } ] , "c" : "d" } `, true},
	{`[[[]],[{}],{"a":[{}]}]`, true},
	{`[{"a":1}]]`, false},
	{`{"a":[1}`, false},
	{`[{"a":1]}`, false},
	{`{"a":1}x`, false},
	{`{"a":1}{}`, false},
	{"[1]\x00", false},
	{`{"id":123456,"email":"user123456@example.com","amount":42.5,"currency":"EUR","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"card":"4111111111111111","paid":true,"note":null}`, true},

	// Nesting: maxDepth deep is fine, one more is not.
	{strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), true},
	{strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), false},
	{strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth), true},
	{strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1), false},
	{strings.Repeat(`[{"a":`, maxDepth/2) + "[]" + strings.Repeat("}]", maxDepth/2), false},
	{strings.Repeat(`[{"a":`, maxDepth/2-1) + "[]" + strings.Repeat("}]", maxDepth/2-1), true},
	{strings.Repeat("[", maxDepth+1), false},
	{strings.Repeat("[", 300) + strings.Repeat("]", 299), false},
	// Objects and arrays alternating across the words of the stack.
	{strings.Repeat(`[{"a":`, 200) + "0" + strings.Repeat("}]", 200), true},
	{strings.Repeat(`[{"a":`, 200) + "0" + strings.Repeat("}]", 199) + "]}", false},
	{strings.Repeat("[", 64) + `{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "}" + strings.Repeat("]", 64), true},
	{strings.Repeat("[", 64) + `{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "]" + strings.Repeat("]", 64), false},
	{strings.Repeat("[", 63) + `{"a":1}` + strings.Repeat("]", 63), true},
	{strings.Repeat("[", 63) + `{"a":1]` + strings.Repeat("]", 63), false},
}

// TestValidJSON checks validJSON against decodeJSON on checkCases, and that
// Check reports the decoder's error.
func TestValidJSON(t *testing.T) {
	for _, tc := range checkCases {
		name := tc.in
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		_, err := decodeJSON([]byte(tc.in), false, "check")
		if (err == nil) != tc.ok {
			t.Errorf("decodeJSON(%q) error %v, want ok %v", name, err, tc.ok)
		}
		if got := validJSON([]byte(tc.in)); got != tc.ok {
			t.Errorf("validJSON(%q) = %v, want %v", name, got, tc.ok)
		}
		compareCheck(t, []byte(tc.in))
	}
}

// compareCheck fails t unless Check of b gives what decodeJSON says: the
// input back as a json.RawMessage, or the decoder's *Error.
func compareCheck(t *testing.T, b []byte) {
	t.Helper()
	_, want := decodeJSON(b, false, "check")
	got, err := (&JSON{}).Check(b)
	if want != nil {
		if cerr, ok := err.(*Error); !ok || *cerr != *want {
			t.Errorf("Check(%q) error (-decodeJSON +Check):\n%s", b, cmp.Diff(want, err))
		}
		return
	}
	if err != nil {
		t.Errorf("Check(%q): %v", b, err)
		return
	}
	if diff := cmp.Diff(json.RawMessage(b), got); diff != "" {
		t.Errorf("Check(%q) (-want +got):\n%s", b, diff)
	}
}

// FuzzJSONCheck checks that validJSON accepts exactly what decodeJSON
// accepts, and that Check gives the decoder's error.
func FuzzJSONCheck(f *testing.F) {
	for _, tc := range checkCases {
		// The nesting limit is TestValidJSON's: inputs of tens of
		// kilobytes would slow the fuzzer down.
		if len(tc.in) <= 4096 {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decodeJSON(data, false, "check")
		if got := validJSON(data); got != (err == nil) {
			t.Fatalf("validJSON(%q) = %v, decodeJSON error %v", data, got, err)
		}
		compareCheck(t, data)
	})
}
