package expr

import (
	"strings"
	"testing"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

// orderShape is a value schema with every kind of field the typed check
// types or leaves dyn.
var orderShape = &rs.Schema{Type: rs.Struct, Name: "shop.Order", Fields: []rs.Field{
	{Name: "id", Schema: &rs.Schema{Type: rs.Int64}},
	{Name: "amount", Schema: &rs.Schema{Type: rs.Float64}},
	{Name: "email", Schema: &rs.Schema{Type: rs.String, Optional: true}},
	{Name: "status", Schema: &rs.Schema{Type: rs.String}},
	{Name: "paid", Schema: &rs.Schema{Type: rs.Boolean}},
	{Name: "created", Schema: &rs.Schema{Type: rs.Int64, Logical: rs.TimestampMicros}},
	{Name: "due", Schema: &rs.Schema{Type: rs.Int32, Logical: rs.Date, Optional: true}},
	{Name: "at", Schema: &rs.Schema{Type: rs.Int32, Logical: rs.TimeMillis}},
	{Name: "price", Schema: &rs.Schema{Type: rs.Bytes, Logical: rs.Decimal, Precision: 10, Scale: 2}},
	{Name: "ref", Schema: &rs.Schema{Type: rs.String, Logical: rs.UUID}},
	{Name: "extra", Schema: &rs.Schema{Type: rs.String, Logical: rs.JSON}},
	{Name: "raw", Schema: &rs.Schema{Type: rs.Bytes}},
	{Name: "tags", Schema: &rs.Schema{Type: rs.Array, Items: &rs.Schema{Type: rs.String}}},
	{Name: "notes", Schema: &rs.Schema{Type: rs.Array, Optional: true, Items: &rs.Schema{Type: rs.String}}},
	{Name: "attrs", Schema: &rs.Schema{Type: rs.Map, Keys: &rs.Schema{Type: rs.String}, Values: &rs.Schema{Type: rs.Int64}}},
	{Name: "lines", Schema: &rs.Schema{Type: rs.Array, Items: &rs.Schema{Type: rs.Struct, Fields: []rs.Field{
		{Name: "sku", Schema: &rs.Schema{Type: rs.String}},
	}}}},
	{Name: "customer", Schema: &rs.Schema{Type: rs.Struct, Optional: true, Fields: []rs.Field{
		{Name: "name", Schema: &rs.Schema{Type: rs.String}},
		{Name: "a-b", Schema: &rs.Schema{Type: rs.String}},
	}}},
}}

func TestCheckTypedOK(t *testing.T) {
	shapes := Shapes{Value: orderShape, Key: &rs.Schema{Type: rs.String}, Exact: true}
	for _, src := range []string{
		"value.amount >= 10",
		"value.amount >= 10.5 && value.id > 3",
		"value.id + 1 > 2",
		"value.email == null || value.email.endsWith('@x')",
		"has(value.email) && value.email != ''",
		"value.email + 'x' != ''",
		"value.status in ['new', 'paid']",
		"value.paid && !value.paid == false",
		"value.created < now()",
		"value.due == null || value.due < now()",
		"value.at < duration('1h')",
		"value.price == '12.30' || double(value.price) > 1.0",
		"value.ref.size() == 36",
		"value.extra.anything.goes == 1",
		"size(value.raw) > 0",
		"value.tags.exists(t, t == 'x') && value.tags[0] == 'y'",
		"value.notes == null || size(value.notes) > 0",
		"value.attrs['x'] > 2 && 'x' in value.attrs",
		"value.lines.exists(l, l.sku == 'a' && l['sku'] == 'a')",
		"value.customer.name == 'x'",
		"value.customer['a-b'] == 'x'",
		"value.customer == null || value.customer.name != ''",
		"has(value.customer) && has(value.customer.name)",
		"size(value) > 2",
		"'id' in value",
		"value['id'] == 3",
		"value.?email.orValue('') == ''",
		"value.transformMap(k, v, k in ['a', 'b'], v).size() > 0",
		"[{'a': 1}].exists(value, value.a > 0)",
		"value.id in [1.0, 2.0] && value.amount != 3",
		"key.startsWith('a')",
		"topic == 'x' && headers['h'] == 'v'",
		"string(value.id) + value.status != ''",
		"value.id == 3.0",
		"(value.id > 1 ? value.id : value.amount) > 1",
		"(value.email != null ? 1 : 2.5) > 1",
		"(value.id > 1 ? value.amount : 0) > 1",
		"(value.id > 1 ? value.id : null) == null",
		"value.id != null && value.amount != null",
		"value.amount == null || null == value.status || value.tags != null",
		"value.attrs['a'] != null",
		"value.attrs != null && null != value.tags && value.customer != null",
		"(value.id > 1 ? value.attrs : null) != null",
	} {
		if _, issues := CheckTyped(src, Bool, shapes); len(issues) > 0 {
			t.Errorf("CheckTyped(%q) = %v, want no issues", src, issues)
		}
	}
}

func TestCheckTypedIssues(t *testing.T) {
	shapes := Shapes{Value: orderShape, Key: &rs.Schema{Type: rs.String}, Exact: true}
	tests := []struct {
		src, want string
		offset    int
	}{
		{"value.amout >= 10", `value has no field "amout" in its schema. Did you mean "amount"?`, 6},
		{"value.status == 3", "found no matching overload for '_==_' applied to '(string, int)'", 13},
		{"value.customer.nmae == 'x'", `value.customer has no field "nmae" in its schema. Did you mean "name"?`, 15},
		{"has(value.emial)", `value has no field "emial" in its schema. Did you mean "email"?`, 10},
		{"value.status.size() > 'a'", "found no matching overload for '_>_' applied to '(int, string)'", 20},
		{"value.tags[0] + 1 == 2", "found no matching overload for '_+_' applied to '(string, int)'", 14},
		{"key + 1 == 2", "found no matching overload for '_+_' applied to '(string, int)'", 4},
		{"value.status", "expression must return bool, but it returns string", 0},
	}
	for _, tt := range tests {
		_, issues := CheckTyped(tt.src, Bool, shapes)
		if len(issues) != 1 || issues[0].Message != tt.want || issues[0].Offset != tt.offset {
			t.Errorf("CheckTyped(%q) = %+v, want one issue %q at %d", tt.src, issues, tt.want, tt.offset)
		}
	}
}

func TestCheckTypedInexact(t *testing.T) {
	// The json converter gives float64 for every number: an int field
	// multiplied by a double is right at run time.
	shapes := Shapes{Value: orderShape}
	for _, src := range []string{"value.id * 1.5 > 2.0", "value.created == 'x'", "value.price > 2.0"} {
		if _, issues := CheckTyped(src, Bool, shapes); len(issues) > 0 {
			t.Errorf("CheckTyped(%q) = %v, want no issues", src, issues)
		}
	}
	if _, issues := CheckTyped("value.statsu == 'x'", Bool, shapes); len(issues) != 1 || !strings.Contains(issues[0].Message, `Did you mean "status"?`) {
		t.Errorf("inexact: typo not caught: %v", issues)
	}
}

func TestCheckTypedOutputSchema(t *testing.T) {
	shapes := Shapes{Value: orderShape, Exact: true}
	out, issues := CheckTyped("value.status + '!'", Dyn, shapes)
	if len(issues) > 0 || out == nil || out.Type != rs.String {
		t.Errorf("output schema = %v, %v; want string", out, issues)
	}
	out, issues = CheckTyped("value.email", Dyn, shapes)
	if len(issues) > 0 || out != nil {
		t.Errorf("output schema of an optional field = %v, %v; want nil", out, issues)
	}
	// A null in a map literal leaves that field untyped (json), not the
	// whole literal; the runtime's OutputSchema stays nil.
	const lit = "{'id': value.id, 'note': null, 'm': {'a': 1, 'b': value.extra}}"
	out, issues = CheckTyped(lit, Dyn, shapes)
	want := "struct<id int64, note optional json, m struct<a int64, b optional json>>"
	if len(issues) > 0 || out == nil || out.String() != want {
		t.Errorf("output schema of %s = %v, %v; want %s", lit, out, issues, want)
	}
	prog, issues := RecordEnv().Compile("{'id': 1, 'note': null}", Dyn)
	if len(issues) > 0 {
		t.Fatal(issues)
	}
	if got := prog.OutputSchema(); got != nil {
		t.Errorf("OutputSchema with a null field = %v, want nil", got)
	}
	if got := prog.Shape(); got == nil || got.String() != "struct<id int64, note optional json>" {
		t.Errorf("Shape with a null field = %v, want struct<id int64, note optional json>", got)
	}
}

func TestCheckTypedSchemaless(t *testing.T) {
	if _, issues := CheckTyped("value.anything.at.all > 1 && key.x == 'y'", Bool, Shapes{}); len(issues) > 0 {
		t.Errorf("schemaless: %v", issues)
	}
	if _, issues := CheckTyped("value.x >", Bool, Shapes{}); len(issues) == 0 {
		t.Errorf("syntax error not reported")
	}
}

// FuzzCheckTyped checks that CheckTyped never panics, that every Issue
// points inside the source, and that it finds no problem where Compile
// finds one it does not report (a typed check only adds problems).
func FuzzCheckTyped(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, uint8(0))
	}
	f.Add("value.amout >= 10 && value.customer.name == 'x'", uint8(1))
	f.Add("value.lines.exists(l, l.sku == 'a') || value.attrs['x'] > 1", uint8(1))
	f.Add("(value.id > 1 ? value.id : value.amount) > 1 && value.email != null", uint8(4))
	f.Add("{'a': value.id, 'b': null, 'c': {'d': value.tags}}", uint8(5))
	// The low bits pick the wanted type, bit 2 a check with Exact false
	// (numbers as the json converter gives them).
	exact := Shapes{Value: orderShape, Key: &rs.Schema{Type: rs.String}, Exact: true}
	loose := Shapes{Value: orderShape, Key: &rs.Schema{Type: rs.String}}
	f.Fuzz(func(t *testing.T, src string, want uint8) {
		shapes := exact
		if want&4 != 0 {
			shapes = loose
		}
		_, issues := CheckTyped(src, Type(want&3%3), shapes)
		for _, is := range issues {
			if is.Offset < -1 || is.End < is.Offset || is.End > len(src) {
				t.Errorf("CheckTyped(%q): issue %+v outside the source (length %d)", src, is, len(src))
			}
			if is.Message == "" || strings.Contains(is.Message, "internal error") {
				t.Errorf("CheckTyped(%q): issue %+v", src, is)
			}
		}
	})
}

// BenchmarkCheckTyped is the cost of one typed check (validate runs one
// per expression and pipeline), against Compile in the same run.
func BenchmarkCheckTyped(b *testing.B) {
	shapes := Shapes{Value: orderShape, Exact: true}
	src := "value.amount >= 10 && value.customer.name.startsWith('a')"
	b.Run("Compile", func(b *testing.B) {
		for b.Loop() {
			RecordEnv().Compile(src, Bool)
		}
	})
	b.Run("CheckTyped", func(b *testing.B) {
		for b.Loop() {
			CheckTyped(src, Bool, shapes)
		}
	})
}
