package expr

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTypeString(t *testing.T) {
	got := []string{Dyn.String(), Bool.String(), String.String(), Type(7).String()}
	want := []string{"dyn", "bool", "string", "Type(7)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Type.String() mismatch (-want +got):\n%s", diff)
	}
}

// generatorValue is the generator's value expression of the quickstart
// example (examples/pipelines/quickstart).
const generatorValue = `{'id': seq, 'email': 'u' + string(seq) + (seq % 3 == 0 ? '@corp.example' : '@example.com'), 'amount': seq % 100, 'card': '4111'}`

func seqEnv(t testing.TB) *Env {
	t.Helper()
	env, err := NewEnv([]Var{{"seq", "int"}})
	if err != nil {
		t.Fatalf("NewEnv: %v", err)
	}
	return env
}

func TestCompileOK(t *testing.T) {
	tests := []struct {
		name    string
		env     *Env
		src     string
		want    Type
		outType string
	}{
		{"filter", RecordEnv(), "value.amount >= 10", Bool, "bool"},
		{"predicate", RecordEnv(), "!value.email.endsWith('@corp.example')", Bool, "bool"},
		{"set", RecordEnv(), "sha256(value.email)", Dyn, "string"},
		{"set as string", RecordEnv(), "sha256(value.email)", String, "string"},
		{"generator value", seqEnv(t), generatorValue, Dyn, "map(string, dyn)"},
		{"dyn accepted as bool", RecordEnv(), "value.flag", Bool, "dyn"},
		{"dyn accepted as string", RecordEnv(), "value.name", String, "dyn"},
		{"record variables", RecordEnv(), "topic == 'orders' && partition >= 0 && offset >= 0 && headers['h'] == 'v' && timestamp < now() && key != null", Bool, "bool"},
		{"topic as string", RecordEnv(), "topic + '.out'", String, "string"},
		{"multi-line", RecordEnv(), "value.amount >= 10 &&\n  value.email != ''", Bool, "bool"},
		{"uuid", RecordEnv(), "uuid()", String, "string"},
		{"string extension", RecordEnv(), "'a,b'.split(',')", Dyn, "list(string)"},
		{"math extension", RecordEnv(), "math.greatest(1, 2)", Dyn, "int"},
		{"lists extension", RecordEnv(), "lists.range(3).reverse()", Dyn, "list(int)"},
		{"encoders extension", RecordEnv(), "base64.encode(b'x')", String, "string"},
		{"cross-type comparison", RecordEnv(), "partition < 1.5", Bool, "bool"},
		{"counted repetition in a regexp", RecordEnv(), "value.s.matches('^[0-9]{3}$')", Bool, "bool"},
		{"long sum", RecordEnv(), strings.Repeat("1 + ", 100) + "1", Dyn, "int"},
		{"deep but allowed", RecordEnv(), strings.Repeat("(", 40) + "true" + strings.Repeat(")", 40), Bool, "bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, issues := tt.env.Compile(tt.src, tt.want)
			if len(issues) != 0 {
				t.Fatalf("Compile(%q): unexpected issues %+v", tt.src, issues)
			}
			if got := p.OutputType(); got != tt.outType {
				t.Errorf("OutputType() = %q, want %q", got, tt.outType)
			}
			if got := p.Source(); got != tt.src {
				t.Errorf("Source() = %q, want %q", got, tt.src)
			}
		})
	}
}

func TestCompileIssues(t *testing.T) {
	long := strings.Repeat("1 + ", MaxSourceBytes/4) + "1"
	tests := []struct {
		name        string
		src         string
		want        Type
		offset, end int
		message     string // a substring of the first issue's message
	}{
		{"undeclared reference", "valu.x", Dyn, 0, 4, "undeclared reference to 'valu'; did you mean 'value'?"},
		{"undeclared reference later", "value.amount >= 10 && valu.x", Bool, 22, 26, "undeclared reference to 'valu'"},
		{"undeclared far from any name", "zzzzzz == 1", Bool, 0, 6, "undeclared reference to 'zzzzzz'"},
		{"syntax error", "value.amount >=", Bool, 15, 15, "Syntax error: mismatched input '<EOF>'"},
		{"syntax error in the middle", "value.amount >= )10", Bool, 16, 16, "Syntax error"},
		{"error on line 2", "value.amount >= 10 &&\n  valu.ok", Bool, 24, 28, "undeclared reference to 'valu'"},
		{"UTF-8 before the error", "value.name == 'héllo wörld' && valu.x", Bool, 33, 37, "undeclared reference to 'valu'"},
		{"UTF-8 and line 2", "'日本' == value.x &&\n  'ü' == valu.y", Bool, 33, 37, "undeclared reference to 'valu'"},
		{"syntax error after UTF-8", "'é' +", Dyn, 6, 6, "Syntax error"},
		{"non-bool filter", "sha256(value.email)", Bool, 0, 19, "expression must return bool, but it returns string"},
		{"non-bool filter int", "partition + 1", Bool, 0, 13, "expression must return bool, but it returns int"},
		{"non-bool spans without outer spaces", "  topic\n ", Bool, 2, 7, "expression must return bool, but it returns string"},
		{"non-string", "value.amount >= 10", String, 0, 18, "expression must return string, but it returns bool"},
		{"unknown function", "sha265(value.email) == ''", Bool, 0, 6, "undeclared reference to 'sha265'; did you mean 'sha256'?"},
		{"no matching overload", "sha256(1) == ''", Bool, 0, 6, "found no matching overload for 'sha256' applied to '(int)'"},
		{"operator overload", "1 + 'a'", Dyn, 2, 3, "found no matching overload for '_+_'"},
		{"macro argument", "value.x.all(1, true)", Bool, 12, 12, "argument must be a simple name"},
		{"empty", "", Bool, 0, 0, "Syntax error"},
		{"invalid UTF-8", "\xff valu", Bool, 0, 0, "Syntax error: token recognition error"},
		{"too long", long, Dyn, 0, len(long), "the limit is 32768 bytes"},
		{"too deep", strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), Dyn, -2, -2, "recursion"},
		{"too many nodes", "[" + strings.Repeat("0,", ExpressionNodeLimit) + "0]", Dyn, -1, -1, "node count exceeds limit"},
		{"bad constant regexp", "value.s.matches('[')", Bool, -1, -1, "error parsing regexp"},
		{"regexp too big", "value.s.matches('(a{1000}){1000}')", Bool, -1, -1, "invalid repeat count"},
		{"field of a string", "topic.x == 1", Bool, 6, 7, "type 'string' does not support field selection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, issues := RecordEnv().Compile(tt.src, tt.want)
			if p != nil {
				t.Errorf("Compile(%q) returned a program with issues %+v", tt.src, issues)
			}
			if len(issues) == 0 {
				t.Fatalf("Compile(%q): no issues, want one at %d", tt.src, tt.offset)
			}
			got := issues[0]
			if !strings.Contains(got.Message, tt.message) {
				t.Errorf("message %q does not contain %q", got.Message, tt.message)
			}
			if tt.offset == -2 { // any position inside the source
				if got.Offset < -1 || got.End < got.Offset || got.End > len(tt.src) {
					t.Errorf("position %d-%d is outside the source", got.Offset, got.End)
				}
				return
			}
			type pos struct{ Offset, End int }
			if diff := cmp.Diff(pos{tt.offset, tt.end}, pos{got.Offset, got.End}); diff != "" {
				t.Errorf("position mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompileUTF8Offsets checks the byte offsets against the text they
// should point at, for sources where code points and bytes differ.
func TestCompileUTF8Offsets(t *testing.T) {
	for _, src := range []string{
		"'ü' == valu.x",
		"'😀😀' + valu.x",
		"'ü\\n' == value.a &&\n'日本語' == valu.b",
		"value.a == 'x' ||\r\n  '€' == valu.c",
		"b'\xff\xfe' == valu.d",
	} {
		_, issues := RecordEnv().Compile(src, Bool)
		if len(issues) != 1 {
			t.Errorf("Compile(%q): got issues %+v, want one", src, issues)
			continue
		}
		if got := src[issues[0].Offset:issues[0].End]; got != "valu" {
			t.Errorf("Compile(%q): issue %+v covers %q, want %q", src, issues[0], got, "valu")
		}
	}
}

func TestCompileSeveralIssues(t *testing.T) {
	_, issues := RecordEnv().Compile("valu.a == 1 && valeu.b == 2", Bool)
	type pos struct{ Offset, End int }
	var got []pos
	for _, is := range issues {
		got = append(got, pos{is.Offset, is.End})
	}
	if diff := cmp.Diff([]pos{{0, 4}, {15, 20}}, got); diff != "" {
		t.Errorf("issues mismatch (-want +got):\n%s\n%+v", diff, issues)
	}
}

func TestNewEnv(t *testing.T) {
	a, err := NewEnv([]Var{{"seq", "int"}, {"name", "string"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewEnv([]Var{{"name", "string"}, {"seq", "int"}})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("NewEnv with the same variables in another order built a second environment")
	}
	if diff := cmp.Diff([]Var{{"name", "string"}, {"seq", "int"}}, a.Vars()); diff != "" {
		t.Errorf("Vars() mismatch (-want +got):\n%s", diff)
	}
	c, err := NewEnv([]Var{{"seq", "uint"}, {"name", "string"}})
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Error("NewEnv with other variable types returned the cached environment")
	}
	if _, issues := a.Compile("value.x", Dyn); len(issues) == 0 {
		t.Error("a NewEnv environment knows the record variable value")
	}
	all, err := NewEnv([]Var{{"i", "int"}, {"u", "uint"}, {"d", "double"}, {"s", "string"}, {"b", "bool"}, {"y", "bytes"}, {"t", "timestamp"}, {"x", "dyn"}})
	if err != nil {
		t.Fatal(err)
	}
	p, issues := all.Compile("[i, u, d, s, b, y, t, x]", Dyn)
	if len(issues) != 0 {
		t.Fatalf("issues: %+v", issues)
	}
	if got, want := p.OutputType(), "list(dyn)"; got != want {
		t.Errorf("OutputType() = %q, want %q", got, want)
	}
	if _, issues := all.Compile("i + u", Dyn); len(issues) == 0 {
		t.Error("int + uint compiled: the variables were not typed")
	}
}

func TestNewEnvConcurrent(t *testing.T) {
	envs := make([]*Env, 8)
	var wg sync.WaitGroup
	for i := range envs {
		wg.Go(func() {
			env, err := NewEnv([]Var{{"concurrent", "string"}, {"n", "int"}})
			if err != nil {
				t.Error(err)
			}
			envs[i] = env
		})
	}
	wg.Wait()
	for i, env := range envs {
		if env == nil || env != envs[0] {
			t.Errorf("goroutine %d got environment %p, goroutine 0 got %p", i, env, envs[0])
		}
	}
}

func TestNewEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		vars []Var
		err  string
	}{
		{"unknown type", []Var{{"seq", "integer"}}, `variable "seq" has unknown type "integer"`},
		{"duplicate", []Var{{"seq", "int"}, {"a", "int"}, {"seq", "string"}}, `variable "seq" is declared twice`},
		{"invalid name", []Var{{"my-var", "int"}}, `invalid variable name "my-var"`},
		{"empty name", []Var{{"", "int"}}, `invalid variable name ""`},
		{"dotted name", []Var{{"a.b", "int"}}, `invalid variable name "a.b"`},
		{"reserved", []Var{{"in", "int"}}, `invalid variable name "in": it is a reserved word`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := NewEnv(tt.vars)
			if err == nil {
				t.Fatalf("NewEnv(%v) = %v, want an error", tt.vars, env)
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %q does not contain %q", err, tt.err)
			}
		})
	}
}

func TestRecordEnv(t *testing.T) {
	first := RecordEnv()
	if second := RecordEnv(); second != first {
		t.Error("RecordEnv() built a second environment")
	}
	want := []Var{
		{"headers", "map(string, string)"}, {"key", "dyn"}, {"offset", "int"}, {"partition", "int"},
		{"timestamp", "timestamp"}, {"topic", "string"}, {"value", "dyn"},
	}
	if diff := cmp.Diff(want, RecordEnv().Vars()); diff != "" {
		t.Errorf("Vars() mismatch (-want +got):\n%s", diff)
	}
}

func mustCompile(t testing.TB, env *Env, src string, want Type) *Program {
	t.Helper()
	p, issues := env.Compile(src, want)
	if len(issues) != 0 {
		t.Fatalf("Compile(%q): %+v", src, issues)
	}
	return p
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestEval(t *testing.T) {
	ts := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	record := map[string]any{
		"key":       "k1",
		"value":     map[string]any{"email": "a@b.c", "amount": float64(50), "count": int64(5), "tags": []any{"x", "y"}, "name": "Zoë"},
		"headers":   map[string]string{"h": "v"},
		"topic":     "orders",
		"partition": int64(3),
		"offset":    int64(42),
		"timestamp": ts,
	}
	tests := []struct {
		name string
		env  *Env
		src  string
		vars map[string]any
		want any
	}{
		{"filter double", RecordEnv(), "value.amount >= 10", record, true},
		{"filter int", RecordEnv(), "value.count >= 10", record, false},
		{"predicate", RecordEnv(), "!value.email.endsWith('@corp.example')", record, true},
		{"sha256 string", RecordEnv(), "sha256(value.email)", record, hexSHA256("a@b.c")},
		{"sha256 UTF-8", RecordEnv(), "sha256(value.name)", record, hexSHA256("Zoë")},
		{"sha256 bytes", RecordEnv(), "sha256(b'abc')", record, hexSHA256("abc")},
		{"sha256 empty", RecordEnv(), "sha256('')", record, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"split", RecordEnv(), "'a,b'.split(',')", record, []any{"a", "b"}},
		{"string functions", RecordEnv(), "value.name.upperAscii() + '|' + ' x '.trim() + '|' + 'abc'.reverse()", record, "ZOë|x|cba"},
		{"format", RecordEnv(), "'%s-%d'.format([topic, partition])", record, "orders-3"},
		{"math", RecordEnv(), "math.greatest(1, 5, 3)", record, int64(5)},
		{"lists", RecordEnv(), "[3, 1, 2].sort()", record, []any{int64(1), int64(2), int64(3)}},
		{"encoders", RecordEnv(), "base64.encode(b'hi')", record, "aGk="},
		{"record variables", RecordEnv(), "[key, topic, partition, offset, headers.h, timestamp]", record,
			[]any{"k1", "orders", int64(3), int64(42), "v", ts}},
		{"passthrough", RecordEnv(), "value.tags", record, []any{"x", "y"}},
		{"map result", RecordEnv(), "{'id': offset, 'u': 1u, 'd': 1.5, 'b': b'x', 'n': null, 'l': [1, 'a'], 1: 'int key', true: 'bool key', 'm': {'k': headers}}", record,
			map[string]any{
				"id": int64(42), "u": uint64(1), "d": 1.5, "b": []byte("x"), "n": nil,
				"l": []any{int64(1), "a"}, "1": "int key", "true": "bool key",
				"m": map[string]any{"k": map[string]any{"h": "v"}},
			}},
		{"timestamp and duration", RecordEnv(), "[timestamp + duration('1h'), duration('90s')]", record, []any{ts.Add(time.Hour), 90 * time.Second}},
		{"type", RecordEnv(), "type(partition)", record, "int"},
		{"regexp", RecordEnv(), "[topic.matches('^[a-z]{6}$'), topic.matches(value.email)]", record, []any{true, false}},
		{"generator value", seqEnv(t), generatorValue, map[string]any{"seq": int64(3)},
			map[string]any{"id": int64(3), "email": "u3@corp.example", "amount": int64(3), "card": "4111"}},
		{"generator value 104", seqEnv(t), generatorValue, map[string]any{"seq": int64(104)},
			map[string]any{"id": int64(104), "email": "u104@example.com", "amount": int64(4), "card": "4111"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.env, tt.src, Dyn)
			got, err := p.Eval(tt.vars)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Eval(%q) mismatch (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	vars := map[string]any{"value": map[string]any{"flag": "yes", "n": int64(1)}}
	tests := []struct {
		name    string
		src     string
		want    Type
		message string
		span    string // the source text the error points at; "" for none
	}{
		{"missing key", "value.missing == 1", Bool, "no such key: missing", "missing"},
		{"dyn result not bool", "value.flag", Bool, "expression must return bool, but it returned string", "value.flag"},
		{"dyn result not string", "value.n", String, "expression must return string, but it returned int", "value.n"},
		{"division by zero", "value.n / 0", Dyn, "division by zero", "/"},
		{"bad dyn argument", "sha256(value.n)", Dyn, "no such overload", ""},
		{"range too large", "lists.range(1000000).size()", Dyn, "range", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, RecordEnv(), tt.src, tt.want)
			got, err := p.Eval(vars)
			if err == nil {
				t.Fatalf("Eval(%q) = %v, want an error", tt.src, got)
			}
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v (%T) is not an *EvalError", err, err)
			}
			if !strings.Contains(ee.Message, tt.message) {
				t.Errorf("message %q does not contain %q", ee.Message, tt.message)
			}
			if errors.Is(err, ErrCostLimit) {
				t.Error("error wraps ErrCostLimit")
			}
			if tt.span != "" {
				if ee.Offset < 0 || ee.End > len(tt.src) || tt.src[ee.Offset:ee.End] != tt.span {
					t.Errorf("error at %d-%d, want it at %q", ee.Offset, ee.End, tt.span)
				}
			}
		})
	}
}

func TestEvalMissingVariable(t *testing.T) {
	p := mustCompile(t, RecordEnv(), "topic == 'a'", Bool)
	if got, err := p.Eval(nil); err == nil {
		t.Errorf("Eval(nil) = %v, want an error for the missing variable", got)
	}
}

var uuidV4RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUUID(t *testing.T) {
	p := mustCompile(t, RecordEnv(), "[uuid(), uuid()]", Dyn)
	seen := map[string]bool{}
	for range 3 {
		got, err := p.Eval(map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range got.([]any) {
			s := u.(string)
			if !uuidV4RE.MatchString(s) {
				t.Errorf("uuid() = %q, not a version 4 UUID", s)
			}
			if seen[s] {
				t.Errorf("uuid() returned %q twice", s)
			}
			seen[s] = true
		}
	}
	if len(seen) != 6 {
		t.Errorf("6 calls of uuid() gave %d distinct values", len(seen))
	}
}

func TestNow(t *testing.T) {
	p := mustCompile(t, RecordEnv(), "now()", Dyn)
	got, err := p.Eval(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	first, ok := got.(time.Time)
	if !ok {
		t.Fatalf("now() = %T, want time.Time", got)
	}
	if d := time.Since(first); d < -time.Second || d > time.Second {
		t.Errorf("now() = %v, %v away from time.Now()", first, d)
	}
	// A second evaluation reads the clock again: now() is not folded into
	// a constant when the program is planned.
	time.Sleep(10 * time.Millisecond)
	got, err = p.Eval(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if second := got.(time.Time); !second.After(first) {
		t.Errorf("second now() = %v, not after the first %v", second, first)
	}
}

func TestCostLimit(t *testing.T) {
	list := "[" + strings.Repeat("1, ", 99) + "1]"
	vars := map[string]any{"value": strings.Repeat("x", 10_000)}
	tests := []struct {
		name    string
		src     string
		exceeds bool
	}{
		{"nested comprehension", "lists.range(5000).map(x, lists.range(100).map(y, {'k': x * y})).size()", true},
		{"nested comprehension over a literal list", list + ".map(x, " + list + ".map(y, " + list + ".map(z, x + y + z))).size()", true},
		// 5,000 hashes of 10,000 bytes: each costs 1,001 units.
		{"hashing", "lists.range(5000).map(x, sha256(value)).size()", true},
		{"small nested comprehension", "lists.range(100).map(x, lists.range(100).map(y, {'k': x * y})).size()", false},
		{"less hashing", "lists.range(500).map(x, sha256(value)).size()", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, RecordEnv(), tt.src, Dyn)
			got, err := p.Eval(vars)
			if !tt.exceeds {
				if err != nil {
					t.Fatalf("Eval: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrCostLimit) {
				t.Fatalf("Eval(%q) = %v, %v; want an error wrapping ErrCostLimit", tt.src, got, err)
			}
			var ee *EvalError
			if !errors.As(err, &ee) || !strings.Contains(ee.Message, "cost") {
				t.Errorf("error %#v is not an *EvalError about the cost", err)
			}
		})
	}
}

func TestConcurrentEval(t *testing.T) {
	p := mustCompile(t, RecordEnv(), "sha256(value.email) + ':' + string(value.n >= 10)", String)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				email := strings.Repeat("x", g) + "@example.com"
				got, err := p.Eval(map[string]any{"value": map[string]any{"email": email, "n": int64(i % 20)}})
				want := hexSHA256(email) + ":" + map[bool]string{true: "true", false: "false"}[i%20 >= 10]
				if err != nil || got != want {
					errs <- cmp.Diff(want, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent Eval mismatch (-want +got):\n%s", e)
	}
}
