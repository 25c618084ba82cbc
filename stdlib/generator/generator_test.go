package generator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pipectl/pipectl/bench/baseline"
	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
	"github.com/pipectl/pipectl/stdlib/generator"
)

// compile compiles CEL with the generator's variables, as lang does.
func compile(t *testing.T, src string) connector.Expr {
	t.Helper()
	env, err := expr.NewEnv([]expr.Var{{Name: "seq", Type: "int"}})
	if err != nil {
		t.Fatal(err)
	}
	prog, issues := env.Compile(src, expr.Dyn)
	if len(issues) > 0 {
		t.Fatalf("compile %q: %v", src, issues)
	}
	return prog
}

type args struct {
	task, tasks int
	config      map[string]any
	key, value  string
	saved       map[string]any // the saved offset of the task
	valueJSON   bool           // TaskContext.ValueJSON
}

func open(t *testing.T, a args) connector.Source {
	t.Helper()
	config := map[string]any{"topic": "gen", "rate": int64(0), "count": int64(0), "seed": int64(0)}
	for k, v := range a.config {
		config[k] = v
	}
	exprs := map[string]connector.Expr{"value": compile(t, a.value)}
	if a.key != "" {
		exprs["key"] = compile(t, a.key)
	}
	tc := &connector.TaskContext{
		Pipeline: "source.generator.test", Task: a.task, Tasks: a.tasks, Config: config, Exprs: exprs, ValueJSON: a.valueJSON,
		Offset: func(p map[string]any) map[string]any {
			if diff := cmp.Diff(map[string]any{"task": int64(a.task)}, p); diff != "" {
				t.Errorf("Offset asked for another partition (-want +got):\n%s", diff)
			}
			return a.saved
		},
	}
	src := generator.Source().NewSource()
	if err := src.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// drain polls until io.EOF.
func drain(t *testing.T, src connector.Source) []connector.Record {
	t.Helper()
	var all []connector.Record
	for range 100 {
		recs, err := src.Poll(context.Background())
		if errors.Is(err, io.EOF) {
			if _, err := src.Poll(context.Background()); !errors.Is(err, io.EOF) {
				t.Errorf("Poll after io.EOF returned %v", err)
			}
			return all
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	t.Fatal("no io.EOF after 100 polls")
	return nil
}

type rec struct {
	Key, Value      any
	Topic           string
	Partition       int32
	SourcePartition map[string]any
	SourceOffset    map[string]any
	HasTimestamp    bool
}

func simplify(recs []connector.Record) []rec {
	out := make([]rec, len(recs))
	for i, r := range recs {
		out[i] = rec{r.Key, r.Value, r.Topic, r.Partition, r.SourcePartition, r.SourceOffset, !r.Timestamp.IsZero()}
	}
	return out
}

func TestSequenceAcrossTasks(t *testing.T) {
	var union []int64
	for task := range 3 {
		src := open(t, args{task: task, tasks: 3, config: map[string]any{"count": int64(4)},
			key: "'k' + string(seq)", value: "{'seq': seq, 'half': seq / 2}"})
		got := drain(t, src)
		var want []rec
		for i := range 4 {
			seq := int64(task + 3*i)
			union = append(union, seq)
			r := rec{
				Key: "k" + itoa(seq), Value: map[string]any{"seq": seq, "half": seq / 2},
				Topic: "gen", Partition: -1,
				SourcePartition: map[string]any{"task": int64(task)},
				HasTimestamp:    true,
			}
			if i == 3 { // the offset is on the last record of the Poll
				r.SourceOffset = map[string]any{"seq": seq + 3}
			}
			want = append(want, r)
		}
		if diff := cmp.Diff(want, simplify(got)); diff != "" {
			t.Errorf("task %d of 3 (-want +got):\n%s", task, diff)
		}
	}
	seen := map[int64]bool{}
	for _, s := range union {
		seen[s] = true
	}
	for s := range int64(12) {
		if !seen[s] {
			t.Errorf("no task produced seq %d", s)
		}
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func TestCountAndBatches(t *testing.T) {
	src := open(t, args{task: 0, tasks: 1, config: map[string]any{"count": int64(1234)}, value: "seq"})
	var sizes []int
	var next int64
	for {
		recs, err := src.Poll(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(recs))
		for _, r := range recs {
			if r.Value != next || r.Key != nil {
				t.Fatalf("record %d: key %#v value %#v", next, r.Key, r.Value)
			}
			next++
		}
	}
	if diff := cmp.Diff([]int{500, 500, 234}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
}

func TestResume(t *testing.T) {
	for _, tc := range []struct {
		name  string
		saved map[string]any
		want  []any
	}{
		{"saved seq of this task", map[string]any{"seq": int64(7)}, []any{int64(7), int64(10), int64(13)}},
		{"after a JSON round trip", map[string]any{"seq": float64(7)}, []any{int64(7), int64(10), int64(13)}},
		{"tasks changed: move up to an own seq", map[string]any{"seq": int64(8)}, []any{int64(10), int64(13)}},
		{"finished before the restart", map[string]any{"seq": int64(16)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := open(t, args{task: 1, tasks: 3, config: map[string]any{"count": int64(5)}, value: "seq", saved: tc.saved})
			var got []any
			for _, r := range drain(t, src) {
				got = append(got, r.Value)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRateLimits(t *testing.T) {
	fast := open(t, args{task: 0, tasks: 1, value: "seq"})
	recs, err := fast.Poll(context.Background())
	if err != nil || len(recs) != 500 {
		t.Errorf("rate 0: first Poll gave %d records, %v; want a full batch of 500", len(recs), err)
	}
	// 10 records/s: the bucket holds at most a quarter second's worth, so
	// no Poll can return more than a few records, however slow the machine.
	slow := open(t, args{task: 0, tasks: 1, config: map[string]any{"rate": 10.0}, value: "seq"})
	total := 0
	for range 3 {
		recs, err := slow.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 3 {
			t.Fatalf("rate 10: a Poll returned %d records", len(recs))
		}
		total += len(recs)
	}
	if total == 0 {
		t.Error("rate 10: three Polls returned nothing")
	}
}

func TestPollCancelled(t *testing.T) {
	src := open(t, args{task: 0, tasks: 1, config: map[string]any{"rate": int64(1)}, value: "seq"})
	if _, err := src.Poll(context.Background()); err != nil { // takes the first token
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if recs, err := src.Poll(ctx); !errors.Is(err, context.Canceled) || len(recs) != 0 {
		t.Errorf("Poll with a cancelled context = %d records, %v", len(recs), err)
	}
}

func TestEvalError(t *testing.T) {
	src := open(t, args{task: 0, tasks: 1, value: "seq == 2 ? seq / 0 : seq"})
	recs, err := src.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, r := range recs {
		got = append(got, r.Value)
	}
	if diff := cmp.Diff([]any{int64(0), int64(1)}, got); diff != "" {
		t.Errorf("records before the failing one (-want +got):\n%s", diff)
	}
	_, err = src.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "value for seq 2") || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("second Poll: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	for name, tc := range map[string]*connector.TaskContext{
		"no value":   {Tasks: 1, Config: map[string]any{"topic": "t"}},
		"no topic":   {Tasks: 1, Config: map[string]any{}, Exprs: map[string]connector.Expr{"value": compile(t, "1")}},
		"bad count":  {Tasks: 1, Config: map[string]any{"topic": "t", "count": "many"}, Exprs: map[string]connector.Expr{"value": compile(t, "1")}},
		"bad offset": {Tasks: 1, Config: map[string]any{"topic": "t"}, Exprs: map[string]connector.Expr{"value": compile(t, "1")}, Offset: func(map[string]any) map[string]any { return map[string]any{"seq": "x"} }},
	} {
		if err := generator.Source().NewSource().Open(context.Background(), tc); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// TestValuesAsJSONText checks that with TaskContext.ValueJSON the values
// the direct evaluator covers arrive as JSON text, byte for byte what the
// json converter makes of the value Eval gives, and that the rest (a NaN,
// an expression outside the subset) arrive as values.
func TestValuesAsJSONText(t *testing.T) {
	conv := &converters.JSON{}
	for _, c := range []struct {
		value   string
		raw     bool // every value is written directly
		someRaw bool // some are
	}{
		{value: baseline.GeneratorExpr, raw: true},
		{value: `{'r': 1.0 / double(seq % 3), 'k': seq}`, someRaw: true}, // +Inf when seq % 3 == 0
		{value: `{'u': string(seq) + '\u2028"<>&\x01', 'l': [seq, null, true, -0.0, 1e21, 1e-7]}`, raw: true},
		{value: `null`}, // a tombstone (nil), not the text null
		{value: `{'id': uuid()}`},
		{value: `[seq, now()]`},
	} {
		a := args{task: 0, tasks: 1, config: map[string]any{"count": int64(1200)}, value: c.value}
		want := drain(t, open(t, a))
		a.valueJSON = true
		got := drain(t, open(t, a))
		if len(got) != len(want) || len(got) != 1200 {
			t.Fatalf("%s: %d records with ValueJSON, %d without; want 1200", c.value, len(got), len(want))
		}
		raw := 0
		for i := range got {
			r, ok := got[i].Value.(json.RawMessage)
			if !ok {
				if strings.Contains(c.value, "uuid") || strings.Contains(c.value, "now") {
					continue // not pure: the values differ, the types are checked below
				}
				if diff := cmp.Diff(want[i].Value, got[i].Value, cmpopts.EquateNaNs()); diff != "" {
					t.Fatalf("%s, record %d (-without +with ValueJSON):\n%s", c.value, i, diff)
				}
				continue
			}
			raw++
			wantB, err := conv.Encode(want[i].Value)
			if err != nil {
				t.Fatalf("%s, record %d: encoding %v: %v", c.value, i, want[i].Value, err)
			}
			if string(r) != string(wantB) {
				t.Fatalf("%s, record %d: wrote\n%s\nthe converter writes\n%s", c.value, i, r, wantB)
			}
		}
		switch {
		case c.raw && raw != len(got):
			t.Errorf("%s: %d of %d values written directly, want all", c.value, raw, len(got))
		case c.someRaw && (raw == 0 || raw == len(got)):
			t.Errorf("%s: %d of %d values written directly, want some", c.value, raw, len(got))
		case !c.raw && !c.someRaw && raw != 0:
			t.Errorf("%s: %d values written directly, want none", c.value, raw)
		}
	}
}

// TestValueJSONEvalError checks that an expression that fails fails the
// Poll with ValueJSON too, even where the direct evaluator would have
// picked a value that does not fail.
func TestValueJSONEvalError(t *testing.T) {
	for _, valueJSON := range []bool{false, true} {
		src := open(t, args{task: 0, tasks: 1, config: map[string]any{"count": int64(3)}, value: `{'a': [seq, 100 / (seq % 3)][0]}`, valueJSON: valueJSON})
		recs, err := src.Poll(context.Background())
		if err == nil || !strings.Contains(err.Error(), "division by zero") || len(recs) != 0 {
			t.Errorf("ValueJSON %v: Poll = %d records, %v; want the division by zero of seq 0", valueJSON, len(recs), err)
		}
	}
}

// TestSchemas checks that records carry the schemas of typed expressions,
// and none where the type is dynamic or the value is written as JSON text.
func TestSchemas(t *testing.T) {
	for _, tt := range []struct {
		a          args
		key, value string // Schema.String(); "" for none
	}{
		{args{key: "'k' + string(seq)", value: "{'id': seq, 'half': seq / 2, 'tags': ['a'], 'ratio': double(seq) / 3.0}"}, "string", "struct<id int64, half int64, tags array<string>, ratio float64>"},
		{args{value: "seq % 2 == 0 ? dyn({'a': 1}) : {'a': 'x'}"}, "", ""},
		{args{value: "{'id': seq}", valueJSON: true}, "", ""},
	} {
		tt.a.tasks, tt.a.config = 1, map[string]any{"count": int64(2)}
		recs := drain(t, open(t, tt.a))
		for _, r := range recs {
			if got := describe(r.KeySchema); got != tt.key {
				t.Errorf("%s: key schema %q, want %q", tt.a.key, got, tt.key)
			}
			if got := describe(r.ValueSchema); got != tt.value {
				t.Errorf("%s: value schema %q, want %q", tt.a.value, got, tt.value)
			}
			if r.ValueSchema != nil {
				if err := r.ValueSchema.CheckValue(r.Value); err != nil {
					t.Errorf("%s: the value does not fit its schema: %v", tt.a.value, err)
				}
			}
		}
		if len(recs) == 2 && recs[0].ValueSchema != recs[1].ValueSchema {
			t.Errorf("%s: records of one shape got two *Schema values", tt.a.value)
		}
	}
}

func describe(s *connector.Schema) string {
	if s == nil {
		return ""
	}
	return s.String()
}
