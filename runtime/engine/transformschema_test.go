package engine

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// orderSchema is the value schema of the schema transform tests.
func orderSchema(t *testing.T) *connector.Schema {
	t.Helper()
	s, err := connector.ParseSchema([]byte(`{"type": "struct", "name": "shop.Order", "fields": [
		{"name": "id", "schema": {"type": "int64"}},
		{"name": "email", "schema": {"type": "string", "doc": "who ordered"}},
		{"name": "amount", "schema": {"type": "bytes", "logical": "decimal", "precision": 10, "scale": 2}},
		{"name": "placed", "schema": {"type": "int32", "logical": "date"}},
		{"name": "card", "schema": {"type": "string", "optional": true}},
		{"name": "tags", "schema": {"type": "map", "keys": {"type": "string"}, "values": {"type": "string"}}},
		{"name": "meta", "schema": {"type": "string", "logical": "json", "optional": true}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func orderValue() map[string]any {
	return map[string]any{
		"id": int64(7), "email": "a@example.com", "amount": "12.50", "placed": time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
		"card": "4111", "tags": map[string]any{"src": "web"}, "meta": map[string]any{"n": int64(1)},
	}
}

// schemaJSON is the canonical JSON form of a schema, "null" for none.
func schemaJSON(t *testing.T, s *connector.Schema) string {
	t.Helper()
	if s == nil {
		return "null"
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// orderWith is the JSON form of orderSchema with its fields replaced: the
// JSON of each field's {"name", "schema"} object, in order.
func orderWith(fields ...string) string {
	return `{"type":"struct","name":"shop.Order","fields":[` + strings.Join(fields, ",") + `]}`
}

const (
	fID     = `{"name":"id","schema":{"type":"int64"}}`
	fEmail  = `{"name":"email","schema":{"type":"string","doc":"who ordered"}}`
	fAmount = `{"name":"amount","schema":{"type":"bytes","logical":"decimal","precision":10,"scale":2}}`
	fPlaced = `{"name":"placed","schema":{"type":"int32","logical":"date"}}`
	fCard   = `{"name":"card","schema":{"type":"string","optional":true}}`
	fTags   = `{"name":"tags","schema":{"type":"map","keys":{"type":"string"},"values":{"type":"string"}}}`
	fMeta   = `{"name":"meta","schema":{"type":"string","logical":"json","optional":true}}`
)

func TestTransformSchemas(t *testing.T) {
	order := orderWith(fID, fEmail, fAmount, fPlaced, fCard, fTags, fMeta)
	tests := []struct {
		name       string
		transforms []control.TransformSpec
		keySchema  bool // the input record has a string key schema
		key        any  // the input record's key, "k1" when nil
		wantKey    string
		wantValue  string
		wantErr    string
	}{
		{
			name:       "filter and when leave the schemas as they are",
			transforms: []control.TransformSpec{{Name: "f", Filter: "value.id > 0"}, {Name: "w", When: &control.ConditionSpec{Expr: "false"}, Drop: []string{"value.card"}}},
			wantKey:    "null", wantValue: order,
		},
		{
			name:       "set a new field from a static type",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.hash", Expr: "sha256(value.email)"}, {Path: "value.n", Expr: "size(value.tags) + 1"}}}},
			wantKey:    "null", wantValue: orderWith(fID, fEmail, fAmount, fPlaced, fCard, fTags, fMeta, `{"name":"hash","schema":{"type":"string"}}`, `{"name":"n","schema":{"type":"int64"}}`),
		},
		{
			name:       "set a field to another type keeps its place",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.email", Expr: "size(value.email)"}}}},
			wantKey:    "null", wantValue: orderWith(fID, `{"name":"email","schema":{"type":"int64"}}`, fAmount, fPlaced, fCard, fTags, fMeta),
		},
		{
			name:       "set a field to a value of its own type keeps its schema, doc included",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.email", Expr: "sha256(value.email)"}}}},
			wantKey:    "null", wantValue: order,
		},
		{
			name:       "a copied field keeps its schema, logical type included",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.copy.day", Expr: "value.placed"}, {Path: "value.price", Expr: "value['amount']"}}}},
			wantKey:    "null", wantValue: orderWith(fID, fEmail, fAmount, fPlaced, fCard, fTags, fMeta, `{"name":"copy","schema":{"type":"struct","fields":[{"name":"day","schema":{"type":"int32","logical":"date"}}]}}`, `{"name":"price","schema":{"type":"bytes","logical":"decimal","precision":10,"scale":2}}`),
		},
		{
			name:       "a dynamic expression is typed from its value",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.first", Expr: "value.tags.src"}, {Path: "value.double", Expr: "value.id + value.id"}}}},
			wantKey:    "null", wantValue: orderWith(fID, fEmail, fAmount, fPlaced, fCard, fTags, fMeta, `{"name":"first","schema":{"type":"string"}}`, `{"name":"double","schema":{"type":"int64"}}`),
		},
		{
			name:       "a dynamic result that fits the field keeps its schema",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.card", Expr: "value.id > 5 ? null : value.card"}, {Path: "value.placed", Expr: "value.id > 5 ? value.placed : value.placed"}}}},
			wantKey:    "null", wantValue: order,
		},
		{
			name:       "set the whole value from a map literal",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value", Expr: "{'who': value.email, 'n': 1}"}}}},
			wantKey:    "null", wantValue: `{"type":"struct","fields":[{"name":"n","schema":{"type":"int64"}},{"name":"who","schema":{"type":"string"}}]}`,
		},
		{
			name:       "set into a map or json value leaves the schema",
			transforms: []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "value.tags.x", Expr: "'y'"}, {Path: "value.meta.deep.er", Expr: "[1, 2]"}}}},
			wantKey:    "null", wantValue: order,
		},
		{
			name:       "rename in place and across structs",
			transforms: []control.TransformSpec{{Name: "r", Rename: []control.RenameSpec{{From: "value.email", To: "value.contact"}, {From: "value.card", To: "value.pay.card"}}}},
			wantKey:    "null", wantValue: orderWith(fID, `{"name":"contact","schema":{"type":"string","doc":"who ordered"}}`, fAmount, fPlaced, fTags, fMeta, `{"name":"pay","schema":{"type":"struct","fields":[{"name":"card","schema":{"type":"string","optional":true}}]}}`),
		},
		{
			name:       "drop fields, absent ones and map entries included",
			transforms: []control.TransformSpec{{Name: "d", Drop: []string{"value.card", "value.nope", "value.tags.src", "headers.x"}}},
			wantKey:    "null", wantValue: orderWith(fID, fEmail, fAmount, fPlaced, fTags, fMeta),
		},
		{
			name:       "key = CEL gives the key the schema of the field it selects",
			transforms: []control.TransformSpec{{Name: "k", Key: "value.id"}},
			wantKey:    `{"type":"int64"}`, wantValue: order,
		},
		{
			name:       "key = CEL of a static type",
			transforms: []control.TransformSpec{{Name: "k", Key: "string(value.id) + '-' + topic"}},
			keySchema:  true,
			wantKey:    `{"type":"string"}`, wantValue: order,
		},
		{
			name:       "set a key field on a schemaless key leaves it schemaless",
			transforms: []control.TransformSpec{{Name: "k", Set: []control.SetSpec{{Path: "key.id", Expr: "value.id"}}}},
			key:        map[string]any{},
			wantKey:    "null", wantValue: order,
		},
		{
			name:       "drop the value drops its schema",
			transforms: []control.TransformSpec{{Name: "d", Drop: []string{"value"}}},
			keySchema:  true,
			wantKey:    `{"type":"string","optional":true}`, wantValue: "null",
		},
		{
			name: "a chain of transforms",
			transforms: []control.TransformSpec{
				{Name: "a", Set: []control.SetSpec{{Path: "value.total", Expr: "double(value.amount) * 2.0"}}, Drop: []string{"value.meta", "value.tags"}},
				{Name: "b", Rename: []control.RenameSpec{{From: "value.total", To: "value.sum"}}, Key: "value.email"},
			},
			wantKey:   `{"type":"string","doc":"who ordered"}`,
			wantValue: orderWith(fID, fEmail, fAmount, fPlaced, fCard, `{"name":"sum","schema":{"type":"float64"}}`),
		},
		{
			name:       "a result without a type fails the record, naming the transform and the field",
			transforms: []control.TransformSpec{{Name: "bad", Set: []control.SetSpec{{Path: "value.gone", Expr: "value.card == 'x' ? value.card : null"}}}},
			wantErr:    `transform "bad": set value.gone: cannot type value.gone: the expression's type is dynamic and its result has no type: null has no type of its own`,
		},
		{
			name:       "a duration has no record type",
			transforms: []control.TransformSpec{{Name: "d", Set: []control.SetSpec{{Path: "value.wait", Expr: "duration('1s')"}}}},
			wantErr:    `transform "d": set value.wait: cannot type value.wait`,
		},
		{
			name:       "a set inside a map entry would retype every entry",
			transforms: []control.TransformSpec{{Name: "m", Set: []control.SetSpec{{Path: "value.tags.src.x", Expr: "1"}}}},
			wantErr:    "cannot set value.tags.src.x", // the value itself is a string: the runtime path error comes first
		},
		{
			name:       "a value that does not fit a map's values",
			transforms: []control.TransformSpec{{Name: "m", Set: []control.SetSpec{{Path: "value.tags.n", Expr: "1"}}}},
			wantErr:    `transform "m": set value.tags.n: cannot type value.tags.n: the result does not fit string`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"orders"}, Transforms: tt.transforms}
			tr := newTransformer(mustCompile(t, "sink.test.t", spec, testRegistry(t, nil, nil)))
			in := connector.Record{Key: "k1", Value: orderValue(), ValueSchema: orderSchema(t), Topic: "orders"}
			if tt.key != nil {
				in.Key = tt.key
			}
			if tt.keySchema {
				in.KeySchema = &connector.Schema{Type: connector.TypeString, Optional: true}
			}
			rec := in
			_, err := tr.apply(&rec, true)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("apply error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantKey, schemaJSON(t, rec.KeySchema)); diff != "" {
				t.Errorf("key schema (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantValue, schemaJSON(t, rec.ValueSchema)); diff != "" {
				t.Errorf("value schema (-want +got):\n%s", diff)
			}
			for what, s := range map[string]*connector.Schema{"key": rec.KeySchema, "value": rec.ValueSchema} {
				v := rec.Key
				if what == "value" {
					v = rec.Value
				}
				if s == nil {
					continue
				}
				if err := s.Validate(); err != nil {
					t.Errorf("the %s schema is invalid: %v", what, err)
				}
				if err := s.CheckValue(v); err != nil {
					t.Errorf("the %s does not fit its schema: %v", what, err)
				}
			}
			if got := schemaJSON(t, in.ValueSchema); got != order {
				t.Errorf("the input schema changed: %s", got)
			}
		})
	}
}

// TestTransformSchemasCached checks that a block works out the schemas of
// one input schema once, hands later records the same result, checks
// their dynamically typed values against it, and does nothing for
// records without schemas.
func TestTransformSchemasCached(t *testing.T) {
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"orders"}, Transforms: []control.TransformSpec{
		{Name: "dyn", Set: []control.SetSpec{{Path: "value.first", Expr: "value.tags.src"}}},
	}}
	tr := newTransformer(mustCompile(t, "sink.test.t", spec, testRegistry(t, nil, nil)))
	schema := orderSchema(t)
	run := func(v map[string]any, s *connector.Schema) (*connector.Record, error) {
		rec := &connector.Record{Value: v, ValueSchema: s, Topic: "orders"}
		_, err := tr.apply(rec, true)
		return rec, err
	}
	first, err := run(orderValue(), schema)
	if err != nil {
		t.Fatal(err)
	}
	second, err := run(orderValue(), schema)
	if err != nil {
		t.Fatal(err)
	}
	if first.ValueSchema == schema || second.ValueSchema != first.ValueSchema {
		t.Errorf("records with one input schema got output schemas %p and %p, want one new schema", first.ValueSchema, second.ValueSchema)
	}
	if n := len(tr.schemas.blocks[0]); n != 1 {
		t.Errorf("the block keeps %d results, want 1", n)
	}
	other := orderValue()
	other["tags"] = map[string]any{"src": "x"}
	other["tags"].(map[string]any)["src"] = "still a string"
	if _, err := run(other, schema); err != nil {
		t.Errorf("a value of the same type: %v", err)
	}

	// The value of a dynamic expression is checked against what the first
	// record gave: an int where it gave a string fails the record.
	spec.Transforms[0].Set[0].Expr = "value.tags.src == 'web' ? value.id : value.email"
	tr = newTransformer(mustCompile(t, "sink.test.t", spec, testRegistry(t, nil, nil)))
	if _, err := run(orderValue(), schema); err != nil {
		t.Fatal(err)
	}
	other = orderValue()
	other["tags"] = map[string]any{"src": "app"}
	_, err = run(other, schema)
	if want := `transform "dyn": set value.first: cannot type value.first: the result does not fit int64, the schema an earlier record with the same input schema gave it`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a value of another type: error %v, want %q", err, want)
	}
	var se *SchemaError
	if !errors.As(err, &se) || se.Path != "value.first" {
		t.Errorf("the error is not a *SchemaError at value.first: %#v", err)
	}

	// A new schema pointer is worked out again; records without schemas
	// leave the cache alone.
	if _, err := run(orderValue(), orderSchema(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := run(orderValue(), nil); err != nil {
		t.Fatal(err)
	}
	if n := len(tr.schemas.blocks[0]); n != 2 {
		t.Errorf("the block keeps %d results, want 2", n)
	}
}

// TestSourceSchemasOnlyForSchemaConverters checks that a source pipeline
// whose converters do not write schemas does no schema work.
func TestSourceSchemasOnlyForSchemaConverters(t *testing.T) {
	transforms := []control.TransformSpec{{Name: "s", Set: []control.SetSpec{{Path: "headers.h", Expr: "'v'"}}}}
	for _, tt := range []struct {
		conv control.ConverterSpec
		want bool
	}{
		{control.ConverterSpec{}, false},
		{control.ConverterSpec{Type: "json", Config: map[string]any{"schemas_enable": true}}, true},
	} {
		spec := &control.PipelineSpec{Kind: "source", Type: "test", Transforms: transforms, ValueConverter: tt.conv}
		p := mustCompile(t, "source.test.t", spec, testRegistry(t, nil, nil))
		if p.schemas != tt.want || (newTransformer(p).schemas != nil) != tt.want {
			t.Errorf("value converter %+v: schemas %v, want %v", tt.conv, p.schemas, tt.want)
		}
		if p.valueJSON == tt.want {
			t.Errorf("value converter %+v: valueJSON %v; the json converter with schemas_enable writes an envelope", tt.conv, p.valueJSON)
		}
	}
}
