package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

func TestTransforms(t *testing.T) {
	ts := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	base := func() connector.Record {
		return connector.Record{
			Key:       "k1",
			Value:     map[string]any{"id": float64(7), "email": "a@example.com", "amount": float64(42), "card": "4111", "name": "Ann"},
			Headers:   []connector.Header{{Key: "origin", Value: []byte("web")}, {Key: "trace", Value: []byte("t1")}},
			Topic:     "orders",
			Partition: 3,
			Offset:    99,
			Timestamp: ts,
		}
	}
	withValue := func(v any) connector.Record {
		r := base()
		r.Value = v
		return r
	}
	edit := func(f func(r *connector.Record)) connector.Record {
		r := base()
		f(&r)
		return r
	}
	value := func(r *connector.Record) map[string]any { return r.Value.(map[string]any) }

	tests := []struct {
		name       string
		transforms []control.TransformSpec
		in         connector.Record
		want       connector.Record
		dropped    bool
		wantErr    string
	}{
		{
			name:       "filter keeps a record where true",
			transforms: []control.TransformSpec{{Name: "f", Filter: "value.amount >= 10"}},
			in:         base(),
			want:       base(),
		},
		{
			name:       "filter drops a record where false",
			transforms: []control.TransformSpec{{Name: "f", Filter: "value.amount >= 100"}},
			in:         base(),
			dropped:    true,
		},
		{
			name:       "when false skips the whole block, filter included",
			transforms: []control.TransformSpec{{Name: "w", When: &control.ConditionSpec{Expr: "topic == 'other'"}, Filter: "false", Set: []control.SetSpec{{Path: "value.x", Expr: "1"}}}},
			in:         base(),
			want:       base(),
		},
		{
			name:       "when true applies the block",
			transforms: []control.TransformSpec{{Name: "w", When: &control.ConditionSpec{Expr: "topic == 'orders'"}, Set: []control.SetSpec{{Path: "value.x", Expr: "1"}}}},
			in:         base(),
			want:       edit(func(r *connector.Record) { value(r)["x"] = int64(1) }),
		},
		{
			name: "when from a predicate",
			transforms: []control.TransformSpec{{
				Name: "mask",
				When: &control.ConditionSpec{Predicate: "external", Expr: "!value.email.endsWith('@corp.example')"},
				Set:  []control.SetSpec{{Path: "value.email", Expr: "sha256(value.email)"}},
			}},
			in: base(),
			want: edit(func(r *connector.Record) {
				value(r)["email"] = "08168cd80dfd534ab0f10af10f1303fe00af2d43ab5c1432360d137f8197e17a"
			}),
		},
		{
			name:       "unless true skips the block",
			transforms: []control.TransformSpec{{Name: "u", Unless: &control.ConditionSpec{Expr: "partition == 3"}, Drop: []string{"value.card"}}},
			in:         base(),
			want:       base(),
		},
		{
			name:       "unless false applies the block",
			transforms: []control.TransformSpec{{Name: "u", Unless: &control.ConditionSpec{Expr: "offset > 100"}, Drop: []string{"value.card"}}},
			in:         base(),
			want:       edit(func(r *connector.Record) { delete(value(r), "card") }),
		},
		{
			name:       "set creates intermediate maps",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.meta.source.name", Expr: "topic + '/' + string(partition)"}}}},
			in:         base(),
			want: edit(func(r *connector.Record) {
				value(r)["meta"] = map[string]any{"source": map[string]any{"name": "orders/3"}}
			}),
		},
		{
			name:       "set on a null value makes it a map",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.a.b", Expr: "true"}}}},
			in:         withValue(nil),
			want:       withValue(map[string]any{"a": map[string]any{"b": true}}),
		},
		{
			name: "set entries apply in order, each seeing the ones before",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{
				{Path: "value.total", Expr: "value.amount * 2.0"},
				{Path: "value.big", Expr: "value.total > 50.0"},
			}}},
			in: base(),
			want: edit(func(r *connector.Record) {
				value(r)["total"] = float64(84)
				value(r)["big"] = true
			}),
		},
		{
			name:       "set into a string is an error",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.name.first", Expr: "'A'"}}}},
			in:         base(),
			wantErr:    `transform "s": set value.name.first: cannot set value.name.first: value.name is a string, not a map`,
		},
		{
			name:       "set into a value that is not a map is an error",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.x", Expr: "1"}}}},
			in:         withValue("plain text"),
			wantErr:    "cannot set value.x: value is a string, not a map",
		},
		{
			name:       "set the whole value and the key",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value", Expr: "{'only': value.id}"}, {Path: "key", Expr: "'k-' + string(value.only)"}}}},
			in:         base(),
			want: edit(func(r *connector.Record) {
				r.Value = map[string]any{"only": float64(7)}
				r.Key = "k-7"
			}),
		},
		{
			name:       "set a key field on a null key makes the key a map",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "key.id", Expr: "value.id"}}}},
			in:         edit(func(r *connector.Record) { r.Key = nil }),
			want:       edit(func(r *connector.Record) { r.Key = map[string]any{"id": float64(7)} }),
		},
		{
			name:       "set a header replaces it",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "headers.origin", Expr: "'app'"}}}},
			in:         base(),
			want: edit(func(r *connector.Record) {
				r.Headers = []connector.Header{{Key: "origin", Value: []byte("app")}, {Key: "trace", Value: []byte("t1")}}
			}),
		},
		{
			name:       "set a header to a number is an error",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "headers.n", Expr: "1"}}}},
			in:         base(),
			wantErr:    "cannot set headers.n: a header value is a string, and the expression returned a number",
		},
		{
			name:       "rename moves a field, creating maps",
			transforms: []control.TransformSpec{{Name: "r", Rename: []control.RenameSpec{{From: "value.email", To: "value.contact.email"}}}},
			in:         base(),
			want: edit(func(r *connector.Record) {
				delete(value(r), "email")
				value(r)["contact"] = map[string]any{"email": "a@example.com"}
			}),
		},
		{
			name:       "rename of an absent field does nothing",
			transforms: []control.TransformSpec{{Name: "r", Rename: []control.RenameSpec{{From: "value.nope.x", To: "value.y"}}}},
			in:         base(),
			want:       base(),
		},
		{
			name:       "rename a header",
			transforms: []control.TransformSpec{{Name: "r", Rename: []control.RenameSpec{{From: "headers.trace", To: "headers.trace_id"}}}},
			in:         base(),
			want: edit(func(r *connector.Record) {
				r.Headers = []connector.Header{{Key: "origin", Value: []byte("web")}, {Key: "trace_id", Value: []byte("t1")}}
			}),
		},
		{
			name:       "rename through a string is an error",
			transforms: []control.TransformSpec{{Name: "r", Rename: []control.RenameSpec{{From: "value.name.first", To: "value.first"}}}},
			in:         base(),
			wantErr:    "cannot rename value.name.first: value.name is a string, not a map",
		},
		{
			name:       "drop fields, absent ones included",
			transforms: []control.TransformSpec{{Name: "d", Drop: []string{"value.card", "value.nope", "value.nope.deeper"}}},
			in:         base(),
			want:       edit(func(r *connector.Record) { delete(value(r), "card") }),
		},
		{
			name:       "drop through a number is an error",
			transforms: []control.TransformSpec{{Name: "d", Drop: []string{"value.amount.cents"}}},
			in:         base(),
			wantErr:    "cannot drop value.amount.cents: value.amount is a number, not a map",
		},
		{
			name:       "drop a header, the whole value and the key",
			transforms: []control.TransformSpec{{Name: "d", Drop: []string{"headers.trace", "value", "key"}}},
			in:         base(),
			want: edit(func(r *connector.Record) {
				r.Headers = []connector.Header{{Key: "origin", Value: []byte("web")}}
				r.Value, r.Key = nil, nil
			}),
		},
		{
			name:       "drop all headers",
			transforms: []control.TransformSpec{{Name: "d", Drop: []string{"headers"}}},
			in:         base(),
			want:       edit(func(r *connector.Record) { r.Headers = nil }),
		},
		{
			name: "key, topic and headers",
			transforms: []control.TransformSpec{{
				Name:    "route",
				Key:     "value.id",
				Topic:   "topic + '.' + (value.amount >= 10.0 ? 'big' : 'small')",
				Headers: []control.HeaderSetSpec{{Name: "origin", Expr: "headers.origin + '!'"}, {Name: "ts", Expr: "string(timestamp)"}},
			}},
			in: base(),
			want: edit(func(r *connector.Record) {
				r.Key = float64(7)
				r.Topic = "orders.big"
				r.Headers = []connector.Header{{Key: "origin", Value: []byte("web!")}, {Key: "trace", Value: []byte("t1")}, {Key: "ts", Value: []byte("2026-11-24T10:00:00Z")}}
			}),
		},
		{
			name: "operations of one block run in the fixed order",
			transforms: []control.TransformSpec{{
				Name:   "order",
				Set:    []control.SetSpec{{Path: "value.tmp", Expr: "value.name"}},
				Rename: []control.RenameSpec{{From: "value.tmp", To: "value.renamed"}},
				Drop:   []string{"value.name"},
				Key:    "value.renamed",
				Topic:  "'to-' + key",
				Headers: []control.HeaderSetSpec{
					{Name: "topic", Expr: "topic"},
				},
			}},
			in: base(),
			want: edit(func(r *connector.Record) {
				delete(value(r), "name")
				value(r)["renamed"] = "Ann"
				r.Key = "Ann"
				r.Topic = "to-Ann"
				r.Headers = append(r.Headers, connector.Header{Key: "topic", Value: []byte("to-Ann")})
			}),
		},
		{
			name: "filter runs before set in one block",
			transforms: []control.TransformSpec{{
				Name:   "f",
				Filter: "has(value.added)",
				Set:    []control.SetSpec{{Path: "value.added", Expr: "true"}},
			}},
			in:      base(),
			dropped: true,
		},
		{
			name: "transforms apply in list order",
			transforms: []control.TransformSpec{
				{Name: "first", Set: []control.SetSpec{{Path: "value.added", Expr: "true"}}},
				{Name: "second", Filter: "has(value.added)", Headers: []control.HeaderSetSpec{{Name: "seen", Expr: "'yes'"}}},
			},
			in: base(),
			want: edit(func(r *connector.Record) {
				value(r)["added"] = true
				r.Headers = append(r.Headers, connector.Header{Key: "seen", Value: []byte("yes")})
			}),
		},
		{
			name:       "a CEL error is a transform error",
			transforms: []control.TransformSpec{{Name: "c", Set: []control.SetSpec{{Path: "value.x", Expr: "value.missing + 1"}}}},
			in:         base(),
			wantErr:    `transform "c": set value.x: no such key: missing`,
		},
		{
			name:       "a filter over a missing field is an error, not a drop",
			transforms: []control.TransformSpec{{Name: "c", Filter: "value.missing > 1"}},
			in:         base(),
			wantErr:    `transform "c": filter: no such key: missing`,
		},
		{
			name:       "an empty topic is an error",
			transforms: []control.TransformSpec{{Name: "t", Topic: "''"}},
			in:         base(),
			wantErr:    "the topic expression returned an empty name",
		},
		{
			name:       "offset and timestamp variables",
			transforms: []control.TransformSpec{{Name: "v", Filter: "offset == 99 && timestamp == timestamp('2026-11-24T10:00:00Z')"}},
			in:         base(),
			want:       base(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := testRegistry(t, nil, nil)
			spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"orders"}, Transforms: tt.transforms}
			p := mustCompile(t, "sink.test.t", spec, reg)
			tr := newTransformer(p)
			rec := tt.in
			keep, err := tr.apply(&rec, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("apply error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if keep == tt.dropped {
				t.Fatalf("apply kept = %v, want %v", keep, !tt.dropped)
			}
			if tt.dropped {
				return
			}
			if diff := cmp.Diff(tt.want, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTransformerReuse checks that the state kept from record to record
// (activation, headers map, topic and partition caches) does not leak
// from one record into the next, and that headers shared between records
// are copied before a change.
func TestTransformerReuse(t *testing.T) {
	reg := testRegistry(t, nil, nil)
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"x"}, Transforms: []control.TransformSpec{{
		Name:    "h",
		Filter:  "!has(headers.skip)",
		Headers: []control.HeaderSetSpec{{Name: "where", Expr: "topic + ':' + string(partition)"}},
	}}}
	tr := newTransformer(mustCompile(t, "sink.test.t", spec, reg))
	shared := []connector.Header{{Key: "a", Value: []byte("1")}}
	recs := []connector.Record{
		{Topic: "t1", Partition: 0, Headers: shared},
		{Topic: "t1", Partition: -1, Headers: []connector.Header{{Key: "skip", Value: nil}}},
		{Topic: "t2", Partition: -1, Headers: shared},
	}
	var got []string
	for i := range recs {
		keep, err := tr.apply(&recs[i], false)
		if err != nil {
			t.Fatal(err)
		}
		if !keep {
			got = append(got, "dropped")
			continue
		}
		h := recs[i].Headers[len(recs[i].Headers)-1]
		got = append(got, h.Key+"="+string(h.Value))
	}
	if want := []string{"where=t1:0", "dropped", "where=t2:-1"}; !slices.Equal(got, want) {
		t.Errorf("results = %v, want %v", got, want)
	}
	if diff := cmp.Diff([]connector.Header{{Key: "a", Value: []byte("1")}}, shared); diff != "" {
		t.Errorf("a header slice shared by records was changed (-want +got):\n%s", diff)
	}
}

func TestTransformCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		ts   control.TransformSpec
		want string
	}{
		{"filter not bool", control.TransformSpec{Name: "a", Filter: "value.x + 1"}, `transform "a": filter does not compile`},
		{"header not string", control.TransformSpec{Name: "a", Headers: []control.HeaderSetSpec{{Name: "h", Expr: "1"}}}, `header h does not compile: expression must return string`},
		{"bad root", control.TransformSpec{Name: "a", Drop: []string{"body.x"}}, `the drop path "body.x" must start with key., value. or headers.`},
		{"rename across roots", control.TransformSpec{Name: "a", Rename: []control.RenameSpec{{From: "value.a", To: "key.a"}}}, "a rename stays within the key, the value or the headers"},
		{"undeclared", control.TransformSpec{Name: "a", Set: []control.SetSpec{{Path: "value.x", Expr: "vaule.y"}}}, "undeclared reference to 'vaule'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"x"}, Transforms: []control.TransformSpec{tt.ts}}
			_, err := Compile("sink.test.t", spec, testRegistry(t, nil, nil), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Compile error = %v, want one containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "sink.test.t: ") {
				t.Errorf("error %q does not start with the address", err)
			}
		})
	}
}

// TestUsesOf checks what the engine decodes for transforms, with
// expressions that fool a scan of the source text: the variables come from
// lang/expr's checked syntax tree.
func TestUsesOf(t *testing.T) {
	tests := []struct {
		filter string
		want   uses
	}{
		{"value.amount >= 10", uses{readValue: true}},
		{"'value' == topic && \"key\" != r'offset'", uses{}},
		{"key.value == 'x'", uses{readKey: true}},
		{"[1, 2].exists(value, value > 1)", uses{}},
		{"[1].exists(timestamp, timestamp > 0) && key == 'k'", uses{readKey: true}},
		{"headers.exists(offset, offset == 'x')", uses{headers: true}},
		{"[1].exists(value, .value.x == value)", uses{readValue: true}},
		{"offset > 1 // value is not read", uses{offset: true}},
		{"timestamp > timestamp('2026-01-01T00:00:00Z')", uses{timestamp: true}},
	}
	for _, tt := range tests {
		spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"x"}, Transforms: []control.TransformSpec{{Name: "f", Filter: tt.filter}}}
		p := mustCompile(t, "sink.test.t", spec, testRegistry(t, nil, nil))
		if p.uses != tt.want {
			t.Errorf("uses of filter %q = %+v, want %+v", tt.filter, p.uses, tt.want)
		}
	}
}
