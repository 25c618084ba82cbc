package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// TestBoxes checks that boxes builds the same interface values as
// WireType.Of (type and contents, equality and type switches included),
// that strings are copies, and that the values survive garbage
// collections and more values than the batch size.
func TestBoxes(t *testing.T) {
	types := []connector.WireType{connector.WireAsBytes, connector.WireAsJSON, connector.WireAsString}
	const n = 10
	bx := newBoxes(n, 0) // no room for the text: it grows
	var got, want []any
	for i := range 3 * n { // beyond n: the slots grow
		b := fmt.Appendf(nil, `{"i":%d}`, i)
		if i%7 == 0 {
			b = []byte{}
		}
		typ := types[i%len(types)]
		v, ok := bx.box(typ, b)
		if !ok {
			t.Fatalf("box(%d) did not box", typ)
		}
		got = append(got, v)
		// Of's string is a copy; its []byte and json.RawMessage share
		// b, which changes now.
		want = append(want, typ.Of(b))
		for j := range b {
			b[j] = 'X'
		}
	}
	if _, ok := bx.box(0, []byte("x")); ok {
		t.Error("box boxed an unknown WireType")
	}
	runtime.GC()
	runtime.GC()
	for i := range got {
		if diff := cmp.Diff(want[i], got[i]); diff != "" {
			t.Errorf("value %d (-want +got):\n%s", i, diff)
		}
		switch w := want[i].(type) {
		case string:
			if got[i] != any(w) {
				t.Errorf("value %d: %#v != %#v as interfaces", i, got[i], w)
			}
		case json.RawMessage:
			if _, ok := got[i].(json.RawMessage); !ok {
				t.Errorf("value %d has type %T, want json.RawMessage", i, got[i])
			}
		case []byte:
			if _, ok := got[i].([]byte); !ok {
				t.Errorf("value %d has type %T, want []byte", i, got[i])
			}
		}
	}
}

// keepingSink keeps copies of every Record it is given, as a sink may.
type keepingSink struct {
	connector.UnimplementedSink
	kept []connector.Record
}

func (*keepingSink) Open(context.Context, *connector.TaskContext) error { return nil }
func (*keepingSink) Flush(context.Context) error                        { return nil }
func (*keepingSink) Close() error                                       { return nil }
func (s *keepingSink) Write(_ context.Context, recs []connector.Record) error {
	s.kept = append(s.kept, recs...)
	return nil
}

// TestSinkKeepsRecords checks that the records a sink copied stay intact
// while the sink loop reuses its slice for the next batches.
func TestSinkKeepsRecords(t *testing.T) {
	reg := testRegistry(t, nil, nil)
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}}
	p := mustCompile(t, "sink.test.keep", spec, reg)
	tk := &task{p: p, counters: &Counters{}, log: slog.New(slog.DiscardHandler), tr: newTransformer(p), budget: newStopBudget(context.Background(), DefaultStopTimeout)}
	defer tk.budget.close()
	sink := &keepingSink{}
	s := &sinkLoop{task: tk, sink: sink}
	var want []string
	for batch := range 3 {
		krs := make([]*kgo.Record, 100)
		for i := range krs {
			v := fmt.Sprintf(`{"batch":%d,"i":%d}`, batch, i)
			want = append(want, v)
			krs[i] = &kgo.Record{Topic: "in", Key: fmt.Appendf(nil, "k%d", i), Value: []byte(v), Offset: int64(batch*100 + i),
				Headers: []kgo.RecordHeader{{Key: "h", Value: []byte(v)}}}
		}
		if err := s.process(krs); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	if len(sink.kept) != len(want) {
		t.Fatalf("the sink got %d records, want %d", len(sink.kept), len(want))
	}
	for i, r := range sink.kept {
		v, ok := r.Value.(json.RawMessage)
		if !ok || string(v) != want[i] || r.Offset != int64(i) || r.Key != fmt.Sprintf("k%d", i%100) ||
			len(r.Headers) != 1 || string(r.Headers[0].Value) != want[i] {
			t.Fatalf("kept record %d changed: %+v, want value %s", i, r, want[i])
		}
	}
}
