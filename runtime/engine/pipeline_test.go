package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/control"
)

// stateSpec round-trips a spec through JSON, as the configs topic does.
func stateSpec(t *testing.T, spec *control.PipelineSpec) *control.PipelineSpec {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var out control.PipelineSpec
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestCompileConfig(t *testing.T) {
	keys, err := control.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.Seal("source.test.x.auth.secret", lang.Secret{Value: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	spec := stateSpec(t, &control.PipelineSpec{
		Kind: "source", Type: "test", Tasks: 2,
		Config: map[string]any{
			"topic":    "out",
			"count":    int64(10),
			"ratio":    int64(2),
			"tags":     []string{"a", "b"},
			"labels":   map[string]string{"team": "data"},
			"password": &control.Secret{Ref: "env:DB_PASSWORD"},
			"value":    "{'n': seq * 2}",
			"auth":     map[string]any{"user": "u", "secret": sealed},
		},
		Errors: control.ErrorsSpec{Tolerance: "all", DeadLetterTopic: "dlq", RetryTimeout: "2s", RetryBackoffMax: "500ms"},
	})
	env := func(name string) (string, bool) {
		if name == "DB_PASSWORD" {
			return "pw", true
		}
		return "", false
	}
	p, err := Compile("source.test.x", spec, testRegistry(t, nil, nil), keys, env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"topic":    "out",
		"count":    int64(10),
		"ratio":    float64(2),
		"fast":     false,
		"tags":     []string{"a", "b"},
		"labels":   map[string]string{"team": "data"},
		"password": "pw",
		"timeout":  "5s",
		"value":    "{'n': seq * 2}",
		"auth":     map[string]any{"user": "u", "port": int64(5432), "secret": "s3cret"},
	}
	if diff := cmp.Diff(want, p.config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	out, err := p.exprs["value"].Eval(map[string]any{"seq": int64(21)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"n": int64(42)}, out); diff != "" {
		t.Errorf("value expression (-want +got):\n%s", diff)
	}
	wantPolicy := policy{tolerateAll: true, deadLetterTopic: "dlq", retryTimeout: 2 * time.Second, backoffMax: 500 * time.Millisecond}
	if p.policy != wantPolicy {
		t.Errorf("policy = %+v, want %+v", p.policy, wantPolicy)
	}
	if p.Tasks() != 2 {
		t.Errorf("Tasks() = %d, want 2", p.Tasks())
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		spec control.PipelineSpec
		want []string
	}{
		{
			name: "unknown plugin",
			spec: control.PipelineSpec{Kind: "source", Type: "nope"},
			want: []string{`there is no source type "nope" in this pipectl binary; its source types are test`},
		},
		{
			name: "every problem at once",
			spec: control.PipelineSpec{Kind: "source", Type: "test",
				Config:         map[string]any{"count": 1.5, "mode": "c", "extra": true, "tags": []any{1}, "password": &control.Secret{Ref: "env:UNSET"}, "value": "seq +"},
				ValueConverter: control.ConverterSpec{Type: "avro"},
				Errors:         control.ErrorsSpec{Tolerance: "all"},
			},
			want: []string{
				`the attribute "count" must be a whole number, not 1.5`,
				`the attribute "mode" must be one of "a" or "b", not "c"`,
				`the schema declares no attribute or block "extra"; is the worker older than the pipectl that applied the configuration?`,
				`the attribute "tags" must be a list of strings, not a list holding 1`,
				"source.test.x.password refers to the environment variable UNSET, which is not set on this worker",
				"the expression value does not compile",
				`the value_converter "avro" is not registered`,
				`tolerance = "all" needs a dead_letter_topic`,
			},
		},
		{
			name: "sink topics",
			spec: control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"a"}, TopicsRegex: "b", StartFrom: "middle"},
			want: []string{`only one of "topics" or "topics_regex" can be set`, `the attribute "start_from" must be one of "earliest" or "latest", not "middle"`},
		},
		{
			name: "sink without topics, bad regex",
			spec: control.PipelineSpec{Kind: "sink", Type: "test", TopicsRegex: "a("},
			want: []string{`the attribute "topics_regex" must hold RE2 regular expressions`},
		},
		{
			// The rules lang applies at validate time, which the worker
			// once skipped: minimums and negative durations.
			name: "the rules lang applies",
			spec: control.PipelineSpec{Kind: "source", Type: "test",
				Config: map[string]any{"ratio": -0.5, "timeout": "-5s", "tags": []any{"("}, "auth": map[string]any{"port": "many"}},
				Errors: control.ErrorsSpec{Tolerance: "some", RetryTimeout: "-1s"},
			},
			want: []string{
				`the attribute "ratio" must be at least 0`,
				`the attribute "timeout" must be a duration of zero or more`,
				`the attribute "tags" must hold RE2 regular expressions`,
				`the attribute "auth.port" must be a whole number`,
				`the attribute "errors.tolerance" must be one of "none" or "all", not "some"`,
				`the attribute "errors.retry_timeout" must be a duration of zero or more`,
			},
		},
		{
			name: "secret without keys",
			spec: control.PipelineSpec{Kind: "source", Type: "test", Config: map[string]any{"password": &control.Secret{Ciphertext: "AAAA"}}},
			want: []string{"source.test.x.password is encrypted in state: no state key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile("source.test.x", stateSpec(t, &tt.spec), testRegistry(t, nil, nil), nil, func(string) (string, bool) { return "", false })
			if err == nil {
				t.Fatal("Compile succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tt.want) {
				t.Errorf("%d errors, want %d:\n%v", n, len(tt.want), err)
			}
		})
	}
}

// TestValueJSON checks when a source may hand over values as JSON text
// (TaskContext.ValueJSON): only with the json converter, and only when no
// transform reads the value on the way.
func TestValueJSON(t *testing.T) {
	reg := testRegistry(t, nil, nil)
	for _, c := range []struct {
		name       string
		conv       string
		transforms []control.TransformSpec
		want       bool
	}{
		{name: "default converter", want: true},
		{name: "json", conv: "json", want: true},
		{name: "string", conv: "string"},
		{name: "bytes", conv: "bytes"},
		{name: "key filter", transforms: []control.TransformSpec{{Name: "f", Filter: "key != 'x'"}}, want: true},
		{name: "topic by header", transforms: []control.TransformSpec{{Name: "r", Topic: "'t' + topic"}}, want: true},
		{name: "value filter", transforms: []control.TransformSpec{{Name: "f", Filter: "value.amount >= 10"}}},
		{name: "value set", transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.x", Expr: "1"}}}}},
		{name: "value drop", transforms: []control.TransformSpec{{Name: "d", Drop: []string{"value.card"}}}},
		{name: "value in a header", transforms: []control.TransformSpec{{Name: "h", Headers: []control.HeaderSetSpec{{Name: "h", Expr: "string(value.id)"}}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec := &control.PipelineSpec{Kind: "source", Type: "test", Transforms: c.transforms, ValueConverter: control.ConverterSpec{Type: c.conv}}
			p := mustCompile(t, "source.test.x", spec, reg)
			tk := &task{p: p}
			if got := tk.taskContext(nil).ValueJSON; got != c.want {
				t.Errorf("ValueJSON = %v, want %v", got, c.want)
			}
		})
	}
	sink := mustCompile(t, "sink.test.x", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}}, reg)
	if (&task{p: sink}).taskContext(nil).ValueJSON {
		t.Error("ValueJSON is set for a sink")
	}
}
