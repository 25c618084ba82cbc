package engine

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

func TestOfflineSource(t *testing.T) {
	reg := testRegistry(t, nil, nil)
	spec := &control.PipelineSpec{Kind: configschema.Source, Type: "test", Transforms: []control.TransformSpec{
		{Name: "big", Filter: "value.amount >= 10"},
		{Name: "mask", Set: []control.SetSpec{{Path: "value.email", Expr: "sha256(value.email)"}},
			Headers: []control.HeaderSetSpec{{Name: "h", Expr: "'x'"}}},
		{Name: "fail", When: &control.ConditionSpec{Expr: "value.amount == 99"}, Set: []control.SetSpec{{Path: "value.email.x", Expr: "1"}}},
	}}
	o := mustCompile(t, "source.test.a", spec, reg).Offline()

	out := o.Source(connector.Record{Topic: "t", Partition: -1, Value: map[string]any{"amount": int64(12), "email": "a"}})
	if !out.Kept || out.Err != nil {
		t.Fatalf("outcome = %+v", out)
	}
	want := map[string]any{"amount": int64(12), "email": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}
	if d := cmp.Diff(any(want), out.Record.Value); d != "" {
		t.Errorf("value (-want +got):\n%s", d)
	}
	if string(out.ValueBytes) != `{"amount":12,"email":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}` {
		t.Errorf("value bytes = %s", out.ValueBytes)
	}
	if d := cmp.Diff([]connector.Header{{Key: "h", Value: []byte("x")}}, out.Record.Headers); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}

	if out := o.Source(connector.Record{Topic: "t", Partition: -1, Value: map[string]any{"amount": int64(2), "email": "a"}}); out.Kept || out.Err != nil {
		t.Errorf("a filtered record = %+v", out)
	}
	out = o.Source(connector.Record{Topic: "t", Partition: -1, Value: map[string]any{"amount": int64(99), "email": "a"}})
	if out.Kept || out.Stage != StageTransform || out.Class != "engine.PathError" {
		t.Errorf("a failed record = %+v", out)
	}

	// As the source loop: a record the connector skipped is filtered, one
	// it could not read fails at the source stage.
	if out := o.Source(connector.Record{Topic: "t", Partition: -1, Skip: true, Value: map[string]any{"amount": int64(12), "email": "a"}}); out.Kept || out.Err != nil {
		t.Errorf("a skipped record = %+v", out)
	}
	out = o.Source(connector.Record{Topic: "t", Partition: -1, Err: errors.New("unreadable"), Value: map[string]any{"amount": int64(12), "email": "a"}})
	if out.Kept || out.Stage != StageSource || out.Err == nil || out.Err.Error() != "unreadable" {
		t.Errorf("an unreadable record = %+v", out)
	}
}

func TestOfflineSink(t *testing.T) {
	reg := testRegistry(t, nil, nil)
	spec := &control.PipelineSpec{Kind: configschema.Sink, Type: "test", Topics: []string{"t"},
		Errors:     control.ErrorsSpec{Tolerance: "all", DeadLetterTopic: "dlq"},
		Transforms: []control.TransformSpec{{Name: "k", Key: "string(value.id)"}}}
	p := mustCompile(t, "sink.test.a", spec, reg)
	if !p.TolerateAll() {
		t.Errorf("TolerateAll = false")
	}
	o := p.Offline()
	b, err := o.Encode(true, "t", map[string]any{"id": int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	out := o.Sink(connector.Record{Topic: "t"}, nil, b)
	if !out.Kept || out.Record.Key != "7" {
		t.Fatalf("outcome = %+v", out)
	}
	if d := cmp.Diff(any(map[string]any{"id": int64(7)}), out.Record.Value); d != "" {
		t.Errorf("value (-want +got):\n%s", d)
	}
	out = o.Sink(connector.Record{Topic: "t"}, nil, []byte("{bad"))
	if out.Kept || out.Stage != StageConverter || out.Err == nil {
		t.Errorf("bad bytes = %+v", out)
	}
}

func TestOfflineChain(t *testing.T) {
	p, err := CompileChain("test", []control.TransformSpec{{Name: "r", Rename: []control.RenameSpec{{From: "value.a", To: "value.b"}}}})
	if err != nil {
		t.Fatal(err)
	}
	out := p.Offline().Chain(connector.Record{Value: map[string]any{"a": "x"}})
	if d := cmp.Diff(any(map[string]any{"b": "x"}), out.Record.Value); d != "" || !out.Kept {
		t.Errorf("value (-want +got):\n%s", d)
	}
	// A CEL failure is classed by pipectl's type, not cel-go's inside it.
	p, err = CompileChain("test", []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.b", Expr: "value.missing + 1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	out = p.Offline().Chain(connector.Record{Value: map[string]any{"a": "x"}})
	if out.Kept || out.Stage != StageTransform || out.Class != "expr.EvalError" {
		t.Errorf("a missing key = %+v", out)
	}
	if _, err := CompileChain("test", []control.TransformSpec{{Name: "bad", Filter: "1"}}); err == nil {
		t.Errorf("a filter that is not bool compiled")
	}
}
