package schemas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/lang/recordschema"
)

// TestRecordSchemaJSONFormMatchesItsSchema checks that what
// recordschema writes is what schemas/record-schema.schema.json describes,
// for every type and logical type, and that each document it describes
// parses.
func TestRecordSchemaJSONFormMatchesItsSchema(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(files[RecordSchemaPath], &schema); err != nil {
		t.Fatal(err)
	}
	fields := []recordschema.Field{
		{Name: "m", Schema: &recordschema.Schema{Type: recordschema.Map, Keys: &recordschema.Schema{Type: recordschema.Int32}, Values: &recordschema.Schema{Type: recordschema.String, Optional: true}}},
		{Name: "a", Schema: &recordschema.Schema{Type: recordschema.Array, Items: &recordschema.Schema{Type: recordschema.Float32}, Default: []any{1.5}}},
		{Name: "d", Schema: &recordschema.Schema{Type: recordschema.Bytes, Logical: recordschema.Decimal, Precision: 4, Scale: 2, Default: "1.5", Doc: "x", Name: "n", Version: 1, Parameters: map[string]string{"k": "v"}}},
	}
	for _, typ := range recordschema.Types() {
		if typ != recordschema.Array && typ != recordschema.Map && typ != recordschema.Struct {
			fields = append(fields, recordschema.Field{Name: string(typ), Schema: &recordschema.Schema{Type: typ}})
		}
	}
	for _, l := range recordschema.Logicals() {
		s := &recordschema.Schema{Type: l.Physical(), Logical: l}
		if l == recordschema.Date {
			s.Default = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
		}
		fields = append(fields, recordschema.Field{Name: string(l), Schema: s})
	}
	s := &recordschema.Schema{Type: recordschema.Struct, Fields: fields, Optional: true}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if problems := validate(schema, schema, doc, ""); len(problems) > 0 {
		t.Errorf("the JSON form %s breaks its JSON Schema: %s", b, strings.Join(problems, "; "))
	}
	if _, err := recordschema.Parse(b); err != nil {
		t.Errorf("Parse of the JSON form: %v", err)
	}
}
