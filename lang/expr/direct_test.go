package expr

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// builder is an Emitter that builds the Go value Eval would return, and
// checks that map keys come in ascending order.
type builder struct {
	stack []any    // open maps and lists
	keys  []string // the pending key of each open map (unused for lists)
	out   any
	err   error
}

func (b *builder) put(v any) {
	if len(b.stack) == 0 {
		b.out = v
		return
	}
	switch top := b.stack[len(b.stack)-1].(type) {
	case map[string]any:
		top[b.keys[len(b.keys)-1]] = v
	case *[]any:
		*top = append(*top, v)
	}
}

func (b *builder) BeginMap() {
	b.stack = append(b.stack, map[string]any{})
	b.keys = append(b.keys, "")
}

func (b *builder) Key(k string) {
	last := b.keys[len(b.keys)-1]
	m := b.stack[len(b.stack)-1].(map[string]any)
	if len(m) > 0 && k <= last && b.err == nil {
		b.err = fmt.Errorf("key %q after %q: keys must come in ascending order", k, last)
	}
	b.keys[len(b.keys)-1] = k
}

func (b *builder) EndMap() {
	m := b.stack[len(b.stack)-1]
	b.stack, b.keys = b.stack[:len(b.stack)-1], b.keys[:len(b.keys)-1]
	b.put(m)
}

func (b *builder) BeginList() {
	b.stack = append(b.stack, &[]any{})
	b.keys = append(b.keys, "")
}

func (b *builder) EndList() {
	l := *b.stack[len(b.stack)-1].(*[]any)
	b.stack, b.keys = b.stack[:len(b.stack)-1], b.keys[:len(b.keys)-1]
	if l == nil {
		l = []any{}
	}
	b.put(l)
}

func (b *builder) Null()            { b.put(nil) }
func (b *builder) Bool(v bool)      { b.put(v) }
func (b *builder) Int(v int64)      { b.put(v) }
func (b *builder) Double(v float64) { b.put(v) }
func (b *builder) String(v string)  { b.put(v) }

// sameValue compares two results, NaN equal to NaN and 0.0 distinct
// from -0.0 (their JSON differs).
func sameValue(x, y any) bool {
	switch x := x.(type) {
	case float64:
		yf, ok := y.(float64)
		if !ok {
			return false
		}
		if math.IsNaN(x) || math.IsNaN(yf) {
			return math.IsNaN(x) && math.IsNaN(yf)
		}
		return x == yf && math.Signbit(x) == math.Signbit(yf)
	case map[string]any:
		ym, ok := y.(map[string]any)
		if !ok || len(x) != len(ym) {
			return false
		}
		for k, v := range x {
			w, ok := ym[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		yl, ok := y.([]any)
		if !ok || len(x) != len(yl) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], yl[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(x, y)
}

func directEnv(t testing.TB) *Env {
	t.Helper()
	env, err := NewEnv([]Var{{"seq", "int"}, {"x", "double"}, {"s", "string"}, {"b", "bool"}})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// checkDirect evaluates p both ways and fails when EvalTo claims a result
// that differs from Eval's, or one where Eval fails.
func checkDirect(t testing.TB, p *Program, vars map[string]any) (direct bool) {
	t.Helper()
	var b builder
	if !p.EvalTo(vars, &b) {
		return false
	}
	if b.err != nil {
		t.Fatalf("%s with %v: %v", p.Source(), vars, b.err)
	}
	want, err := p.Eval(vars)
	if err != nil {
		t.Fatalf("%s with %v: EvalTo gave %#v, Eval failed: %v", p.Source(), vars, b.out, err)
	}
	if !sameValue(b.out, want) {
		t.Fatalf("%s with %v: EvalTo gave %#v, Eval %#v", p.Source(), vars, b.out, want)
	}
	return true
}

// generatorExpr is the bench's generator expression (bench/baseline), the
// case the direct evaluator is for.
const generatorExpr = `{'amount': double(seq * 7919 % 10000) / 100.0, ` +
	`'country': ['US', 'DE', 'FR', 'GB', 'NL', 'ES'][seq % 6], ` +
	`'email': 'customer' + string(seq) + '@example.com', 'id': seq, ` +
	`'items': [{'price': double(seq % 50) + 0.99, 'qty': seq % 5 + 1, 'sku': 'SKU-' + string(seq % 1000)}, ` +
	`{'price': 3.75, 'qty': 1, 'sku': 'SKU-' + string(seq % 97)}], ` +
	`'ts': string(timestamp(1700000000 + seq))}`

var seqs = []int64{0, 1, 2, 5, 6, 7, 99, 1000, 123456789, -1, -7, -1000, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 253402300799 - 1700000000, 253402300800 - 1700000000}

func TestDirectMatchesEval(t *testing.T) {
	env := directEnv(t)
	cases := []string{
		generatorExpr,
		`seq`, `-seq`, `seq + 1`, `seq - 1`, `seq * 3`, `seq * seq`, `seq / 7`, `seq / (seq % 3)`, `seq % 7`,
		`1 + 2 * 3 - 4 / 2 % 3`, `-(-seq)`,
		`x`, `-x`, `x + 1.5`, `x - 0.25`, `x * 3.0`, `x / 0.0`, `-x / 0.0`, `double(seq)`, `int(x)`, `int(x * 1e20)`,
		`s`, `s + s`, `'a' + s + 'b'`, `string(seq)`, `string(x)`, `string(b)`, `string(timestamp(seq))`, `size(s)`, `size('日本語')`,
		`b`, `!b`, `b && seq > 0`, `b || seq > 0`, `seq > 0 && b`, `seq == 1 || x < 0.5`, `s == 'a'`, `s != 'a'`, `s < 'b'`, `x >= 1.0`, `x == x`, `b == true`, `b != (seq > 0)`,
		`seq > 0 ? 'pos' : 'nonpos'`, `b ? seq : -seq`, `b ? {'a': 1} : {'b': 2}`, `b ? [seq] : []`, `{'b': [1, 2.5, 'c', null, true]}`,
		`[1, 2, 3][seq % 3]`, `['a', 'b'][seq]`, `[1.5, 2.5][seq % 2]`, `[true, false][seq % 2]`,
		`{'z': 1, 'a': {'y': [], 'b': {}}, 'm': null}`, `[]`, `{}`, `[[[]]]`, `null`,
		`{'k': string(1e21), 'l': string(0.000001), 'm': string(-0.0), 'n': string(100.0)}`,
		`{'x': x, 's': s, 'b': b, 'seq': seq}`,
		`1.0 / 3.0`, `0.1 + 0.2`, `-0.0`, `9223372036854775807 + seq`, `-9223372036854775807 - seq`,
	}
	vals := []map[string]any{}
	for _, seq := range seqs {
		vals = append(vals, map[string]any{"seq": seq, "x": float64(seq) / 3, "s": fmt.Sprint(seq), "b": seq%2 == 0})
	}
	vals = append(vals,
		map[string]any{"seq": int64(1), "x": math.NaN(), "s": "日本\u2028\x01\"", "b": true},
		map[string]any{"seq": int64(2), "x": math.Inf(1), "s": "", "b": false},
		map[string]any{"seq": int64(3), "x": math.Copysign(0, -1), "s": "b", "b": true},
		map[string]any{"seq": int64(4), "x": 1e300, "s": "a", "b": false},
		map[string]any{"seq": 4, "x": float32(1), "s": []byte("a")}, // other Go types, b missing: left to Eval
	)
	for _, src := range cases {
		p, issues := env.Compile(src, Dyn)
		if len(issues) > 0 {
			t.Fatalf("Compile(%q): %v", src, issues)
		}
		if !p.Direct() {
			t.Errorf("%s: not covered by the direct evaluator", src)
			continue
		}
		n := 0
		for _, v := range vals {
			if checkDirect(t, p, v) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: EvalTo gave up for every input", src)
		}
	}
}

// TestDirectGivesUp checks the cases the direct evaluator must leave to
// cel-go: failures, results at the edges of CEL's semantics, missing or
// mistyped variables.
func TestDirectGivesUp(t *testing.T) {
	env := directEnv(t)
	cases := []struct {
		src  string
		vars map[string]any
	}{
		{`seq + 1`, map[string]any{"seq": int64(math.MaxInt64)}},
		{`seq - 1`, map[string]any{"seq": int64(math.MinInt64)}},
		{`seq * 2`, map[string]any{"seq": int64(math.MaxInt64)}},
		{`-seq`, map[string]any{"seq": int64(math.MinInt64)}},
		{`seq / 0`, map[string]any{"seq": int64(1)}},
		{`seq % 0`, map[string]any{"seq": int64(1)}},
		{`seq % (seq - seq)`, map[string]any{"seq": int64(5)}},
		{`seq / -1`, map[string]any{"seq": int64(5)}},
		{`seq % -1`, map[string]any{"seq": int64(5)}},
		{`int(x)`, map[string]any{"x": math.NaN()}},
		{`int(x)`, map[string]any{"x": 1e19}},
		{`[1, 2][seq]`, map[string]any{"seq": int64(2)}},
		{`string(timestamp(seq))`, map[string]any{"seq": int64(253402300800)}},
		{`{'a': seq}`, map[string]any{}},
		{`{'a': seq}`, map[string]any{"seq": 1}},
		{`{'a': 1, 'b': seq + 1}`, map[string]any{"seq": int64(math.MaxInt64)}},
		// cel-go builds the whole list before indexing: a failing element
		// fails the index even when another is picked.
		{`[1, 1 / seq][0]`, map[string]any{"seq": int64(0)}},
		{`{'a': [seq, 100 / (seq % 3)][0]}`, map[string]any{"seq": int64(3)}},
		{`[string(timestamp(seq)), string(timestamp(seq + 999999999999999))][0]`, map[string]any{"seq": int64(0)}},
	}
	for _, c := range cases {
		p, issues := env.Compile(c.src, Dyn)
		if len(issues) > 0 {
			t.Fatalf("Compile(%q): %v", c.src, issues)
		}
		if !p.Direct() {
			t.Fatalf("%s: not covered by the direct evaluator", c.src)
		}
		if checkDirect(t, p, c.vars) {
			t.Errorf("%s with %v: EvalTo gave a result; it must leave this case to Eval", c.src, c.vars)
		}
	}
}

func TestDirectNotCovered(t *testing.T) {
	env := directEnv(t)
	for _, src := range []string{
		`uuid()`, `{'id': uuid()}`, `{'t': now()}`, `timestamp(seq)`, `{1: 2}`, `{'a': 1, 'a': 2}`,
		`{s: 1}`, `dyn(seq)`, `[1, 'a'][seq]`, `seq + 1u`, `s.size()`, `s.startsWith('a')`, `sha256(s)`,
		`[seq].map(v, v * 2)`, `{'a': [1, 2].size()}`, `x < seq`, `b'abc'`, `{'d': duration('1s')}`, `1u`,
	} {
		p, issues := env.Compile(src, Dyn)
		if len(issues) > 0 {
			continue // not valid CEL in this environment: nothing to cover
		}
		if p.Direct() {
			t.Errorf("%s: covered by the direct evaluator, which does not implement it", src)
		}
	}
	// A program whose cost is not bounded statically is tracked by
	// cel-go; the direct evaluator, which tracks nothing, leaves it alone.
	if p, issues := env.Compile(`{'a': s + s + s + s + s + s + s + s + s + s + s + s == s}`, Dyn); len(issues) > 0 || p.Direct() {
		t.Errorf("a program with an unbounded cost: issues %v, direct %v; want a program outside the direct evaluator", issues, p != nil && p.Direct())
	}
	// A program that must return a string or bool but is typed dyn is
	// checked by Eval; the direct evaluator leaves it alone.
	env2, err := NewEnv([]Var{{"v", "dyn"}})
	if err != nil {
		t.Fatal(err)
	}
	p, issues := env2.Compile(`v`, String)
	if len(issues) > 0 {
		t.Fatal(issues)
	}
	if p.Direct() {
		t.Error("a dyn program wanted as string is covered by the direct evaluator")
	}
}

// FuzzDirect checks that whenever EvalTo gives a result it is Eval's.
func FuzzDirect(f *testing.F) {
	for _, s := range []string{generatorExpr, `[1, 1 / seq][0]`, `seq * 7919 % 10000`, `{'a': [x, s, b]}`, `b ? seq : -seq`, `string(x) + string(timestamp(seq))`, `int(x) + size(s)`} {
		f.Add(s, int64(42), 1.5, "abc", true)
	}
	env := directEnv(f)
	f.Fuzz(func(t *testing.T, src string, seq int64, x float64, s string, b bool) {
		if len(src) > 2000 || strings.Contains(src, "lists.range") {
			return
		}
		p, issues := env.Compile(src, Dyn)
		if len(issues) > 0 || !p.Direct() {
			return
		}
		checkDirect(t, p, map[string]any{"seq": seq, "x": x, "s": s, "b": b})
	})
}
