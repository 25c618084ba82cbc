package expr_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pipectl/pipectl/lang/expr"
)

func compile(t *testing.T, env *expr.Env, src string) *expr.Program {
	t.Helper()
	p, issues := env.Compile(src, expr.Dyn)
	if len(issues) > 0 {
		t.Fatalf("Compile(%q): %v", src, issues)
	}
	return p
}

// TestVars checks the variables programs read, with expressions that fool
// a scan of the source text: names in string literals and comments,
// comprehension variables named like record variables, fields named like
// them.
func TestVars(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want []string
	}{
		{"value.amount >= 10", []string{"value"}},
		{"'value' == topic", []string{"topic"}},
		{`"key" + r'offset' + string(b'headers'.size()) == topic`, []string{"topic"}},
		{"key.value == 'x'", []string{"key"}},
		{"key['value'].timestamp", []string{"key"}},
		{"[1, 2].exists(value, value > 1)", nil},
		{"[1, 2].map(key, key * 2).size() == partition", []string{"partition"}},
		{"headers.exists(topic, headers[topic] == key)", []string{"headers", "key"}},
		{"[1].exists(value, .value.x == value)", []string{"value"}},
		{"[1].exists(x, x == offset)", []string{"offset"}},
		{"[[1]].exists(value, value.exists(key, key == value[0]))", nil},
		{"[1].map(value, value).size() == size(value)", []string{"value"}},
		{"value.items.filter(i, i.qty > 0).map(i, i.sku + key)", []string{"key", "value"}},
		{"has(value.x) // reads key? no", []string{"value"}},
		{"sha256(headers.h) + topic + string(partition) + string(offset) + string(timestamp)", []string{"headers", "offset", "partition", "timestamp", "topic"}},
		{"type(value) == map", []string{"value"}},
		{"1 + 2", nil},
	} {
		p := compile(t, expr.RecordEnv(), tt.src)
		if got := p.Vars(); !slices.Equal(got, tt.want) {
			t.Errorf("Vars(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestPath(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want []string
	}{
		{"value", []string{"value"}},
		{"value.customer.id", []string{"value", "customer", "id"}},
		{"key['a-b'].c", []string{"key", "a-b", "c"}},
		{"value[0]", nil},
		{"value.a + 1", nil},
		{"has(value.a)", nil},
		{"{'a': value}.a", nil},
		{"[1].map(value, value)[0]", nil},
	} {
		if got := compile(t, expr.RecordEnv(), tt.src).Path(); !slices.Equal(got, tt.want) {
			t.Errorf("Path(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestOutputSchema(t *testing.T) {
	seq, err := expr.NewEnv([]expr.Var{{Name: "seq", Type: "int"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		env  *expr.Env
		src  string
		want string // Schema.String(); "" for none
	}{
		{expr.RecordEnv(), "true", "boolean"},
		{expr.RecordEnv(), "partition + 1", "int64"},
		{expr.RecordEnv(), "1.5 * 2.0", "float64"},
		{expr.RecordEnv(), "sha256(topic)", "string"},
		{expr.RecordEnv(), "b'x'", "bytes"},
		{expr.RecordEnv(), "timestamp", "timestamp-micros"},
		{expr.RecordEnv(), "[1, 2]", "array<int64>"},
		{expr.RecordEnv(), "headers", "map<string, string>"},
		{expr.RecordEnv(), "{topic: 1}", "map<string, int64>"},
		{expr.RecordEnv(), "{'id': offset, 'where': {'t': topic, 'p': partition}}", "struct<id int64, where struct<t string, p int64>>"},
		{expr.RecordEnv(), "[{'a': 1}, {'a': 2}]", "array<struct<a int64>>"},
		{expr.RecordEnv(), "[{'a': 1}, {'b': 2}]", "array<map<string, int64>>"},
		{seq, "{'id': seq, 'email': 'u' + string(seq), 'amount': seq % 100, 'card': '4111'}", "struct<id int64, email string, amount int64, card string>"},
		{expr.RecordEnv(), "value", ""},
		{expr.RecordEnv(), "value.amount * 2", "int64"}, // only int * int can succeed
		{expr.RecordEnv(), "value.a + value.b", ""},
		{expr.RecordEnv(), "{'a': value.x}", ""},
		{expr.RecordEnv(), "null", ""},
		{expr.RecordEnv(), "duration('1s')", ""},
		{expr.RecordEnv(), "1u", ""},
		{expr.RecordEnv(), "{1: 'a'}", ""},
		{expr.RecordEnv(), "[]", ""},
		{expr.RecordEnv(), "{}", ""},
		{expr.RecordEnv(), "google.protobuf.Int64Value{value: 1}", ""},
	} {
		got := compile(t, tt.env, tt.src).OutputSchema()
		desc := ""
		if got != nil {
			desc = got.String()
			if err := got.Validate(); err != nil {
				t.Errorf("OutputSchema(%q) is invalid: %v", tt.src, err)
			}
		}
		if desc != tt.want {
			t.Errorf("OutputSchema(%q) = %q, want %q", tt.src, desc, tt.want)
		}
	}
}

// TestOutputSchemaFits checks that values fit the schema their program
// declares.
func TestOutputSchemaFits(t *testing.T) {
	for _, src := range []string{
		"{'id': offset, 'where': {'t': topic, 'p': partition}, 'h': headers, 'at': timestamp}",
		"[{'a': 1.5}]", "sha256(topic)", "b'x'",
	} {
		p := compile(t, expr.RecordEnv(), src)
		v, err := p.Eval(recordVars())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.OutputSchema().CheckValue(v); err != nil {
			t.Errorf("%q returned %#v, which does not fit %s: %v", src, v, p.OutputSchema(), err)
		}
	}
}

func recordVars() map[string]any {
	return map[string]any{
		"key": "k", "value": map[string]any{"a": int64(1)}, "headers": map[string]string{"h": "v"},
		"topic": "orders", "partition": int64(1), "offset": int64(2), "timestamp": time.Unix(1700000000, 0),
	}
}
