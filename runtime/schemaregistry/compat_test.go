package schemaregistry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/schemaregistry"
)

func avroRecord(fields string) connector.RegistrySchema {
	return connector.RegistrySchema{Type: connector.RegistryAvro, Schema: `{"type":"record","name":"Order","namespace":"shop","fields":[` + fields + `]}`}
}

const (
	fID        = `{"name":"id","type":"long"}`
	fAmountInt = `{"name":"amount","type":"int"}`
	fAmountLng = `{"name":"amount","type":"long"}`
	fNoteDef   = `{"name":"note","type":"string","default":""}`
	fNote      = `{"name":"note","type":"string"}`
)

// TestAvroCompatibility registers a first version, then a second under
// each level, and checks which levels refuse it.
func TestAvroCompatibility(t *testing.T) {
	v1 := avroRecord(fID + "," + fAmountInt)
	for _, tt := range []struct {
		name   string
		next   connector.RegistrySchema
		refuse []schemaregistry.Compatibility // the levels that refuse next after v1
	}{
		{"field added with a default", avroRecord(fID + "," + fAmountInt + "," + fNoteDef), nil},
		{"field added without a default", avroRecord(fID + "," + fAmountInt + "," + fNote),
			[]schemaregistry.Compatibility{schemaregistry.Backward, schemaregistry.BackwardTransitive, schemaregistry.Full, schemaregistry.FullTransitive}},
		{"int promoted to long", avroRecord(fID + "," + fAmountLng),
			[]schemaregistry.Compatibility{schemaregistry.Forward, schemaregistry.ForwardTransitive, schemaregistry.Full, schemaregistry.FullTransitive}},
		{"field without a default removed", avroRecord(fID),
			[]schemaregistry.Compatibility{schemaregistry.Forward, schemaregistry.ForwardTransitive, schemaregistry.Full, schemaregistry.FullTransitive}},
		{"type changed to string", avroRecord(fID + `,{"name":"amount","type":"string"}`),
			[]schemaregistry.Compatibility{schemaregistry.Backward, schemaregistry.BackwardTransitive, schemaregistry.Forward, schemaregistry.ForwardTransitive, schemaregistry.Full, schemaregistry.FullTransitive}},
	} {
		for _, level := range []schemaregistry.Compatibility{schemaregistry.Backward, schemaregistry.BackwardTransitive, schemaregistry.Forward,
			schemaregistry.ForwardTransitive, schemaregistry.Full, schemaregistry.FullTransitive, schemaregistry.None} {
			t.Run(tt.name+"/"+string(level), func(t *testing.T) {
				ctx := context.Background()
				r := schemaregistry.NewMemory()
				if err := r.SetCompatibility(ctx, "orders-value", level); err != nil {
					t.Fatal(err)
				}
				if _, err := r.Register(ctx, "orders-value", v1); err != nil {
					t.Fatal(err)
				}
				_, err := r.Register(ctx, "orders-value", tt.next)
				want := false
				for _, l := range tt.refuse {
					want = want || l == level
				}
				if got := errors.Is(err, connector.ErrIncompatibleSchema); got != want {
					t.Fatalf("refused = %v (%v), want %v", got, err, want)
				}
				if err != nil && !want {
					t.Fatal(err)
				}
				// The Go API other code calls (plan) answers the same without
				// registering.
				msgs, err := r.CheckCompatibility(ctx, "orders-value", 0, tt.next)
				if err != nil {
					t.Fatal(err)
				}
				if !want && len(msgs) != 0 {
					// registered: compatible with itself
					t.Fatalf("CheckCompatibility after registering: %v", msgs)
				}
				if want && len(msgs) == 0 {
					t.Fatal("CheckCompatibility says compatible, Register refused")
				}
			})
		}
	}
}

// TestTransitive: v1 {id,amount:int}, v2 adds note with a default, v3
// drops note's default... Under BACKWARD v3 is checked against v2 only,
// under BACKWARD_TRANSITIVE against v1 too.
func TestTransitive(t *testing.T) {
	ctx := context.Background()
	v1 := avroRecord(fID)
	v2 := avroRecord(fID + "," + fNoteDef)
	v3 := avroRecord(fID + "," + fNote) // reads v2's data (note is there), not v1's
	for _, tt := range []struct {
		level  schemaregistry.Compatibility
		refuse bool
	}{{schemaregistry.Backward, false}, {schemaregistry.BackwardTransitive, true}} {
		r := schemaregistry.NewMemory()
		if err := r.SetCompatibility(ctx, "", tt.level); err != nil {
			t.Fatal(err)
		}
		for _, s := range []connector.RegistrySchema{v1, v2} {
			if _, err := r.Register(ctx, "s", s); err != nil {
				t.Fatal(err)
			}
		}
		_, err := r.Register(ctx, "s", v3)
		if got := errors.Is(err, connector.ErrIncompatibleSchema); got != tt.refuse {
			t.Errorf("%s: refused = %v (%v), want %v", tt.level, got, err, tt.refuse)
		}
	}
}

func TestProtobufCompatibility(t *testing.T) {
	proto := func(body string) connector.RegistrySchema {
		return connector.RegistrySchema{Type: connector.RegistryProtobuf, Schema: "syntax = \"proto3\";\npackage shop;\n" + body}
	}
	v1 := proto(`message Order { int64 id = 1; string note = 2; }`)
	for _, tt := range []struct {
		name   string
		next   connector.RegistrySchema
		refuse bool
		why    string
	}{
		{"field added", proto(`message Order { int64 id = 1; string note = 2; int32 qty = 3; }`), false, ""},
		{"field removed", proto(`message Order { int64 id = 1; }`), false, ""},
		{"int64 to uint64 (same wire group)", proto(`message Order { uint64 id = 1; string note = 2; }`), false, ""},
		{"string to bytes", proto(`message Order { int64 id = 1; bytes note = 2; }`), false, ""},
		{"int64 to string", proto(`message Order { string id = 1; string note = 2; }`), true, "changed its type"},
		{"message removed", proto(`message Other { int64 id = 1; }`), true, "message shop.Order was removed"},
		{"package changed", connector.RegistrySchema{Type: connector.RegistryProtobuf, Schema: `syntax = "proto3"; package other; message Order { int64 id = 1; string note = 2; }`}, true, "package changed"},
		{"moved into a oneof", proto(`message Order { int64 id = 1; oneof x { string note = 2; } }`), true, "into oneof"},
		{"made repeated", proto(`message Order { int64 id = 1; repeated string note = 2; }`), true, "label"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := schemaregistry.NewMemory()
			if _, err := r.Register(ctx, "p", v1); err != nil {
				t.Fatal(err)
			}
			_, err := r.Register(ctx, "p", tt.next)
			if got := errors.Is(err, connector.ErrIncompatibleSchema); got != tt.refuse {
				t.Fatalf("refused = %v (%v), want %v", got, err, tt.refuse)
			}
			if tt.refuse && !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
		})
	}
}

func TestJSONSchemaCompatibility(t *testing.T) {
	js := func(s string) connector.RegistrySchema {
		return connector.RegistrySchema{Type: connector.RegistryJSONSchema, Schema: s}
	}
	closed := `{"type":"object","additionalProperties":false,"properties":{"id":{"type":"integer"},"note":{"type":"string"}},"required":["id"]}`
	for _, tt := range []struct {
		name   string
		first  string
		next   string
		refuse bool
	}{
		{"closed: optional property added", closed, `{"type":"object","additionalProperties":false,"properties":{"id":{"type":"integer"},"note":{"type":"string"},"qty":{"type":"integer"}},"required":["id"]}`, false},
		{"closed: property removed", closed, `{"type":"object","additionalProperties":false,"properties":{"id":{"type":"integer"}},"required":["id"]}`, true},
		{"integer widened to number", closed, `{"type":"object","additionalProperties":false,"properties":{"id":{"type":"number"},"note":{"type":"string"}},"required":["id"]}`, false},
		{"number narrowed to integer", `{"type":"number"}`, `{"type":"integer"}`, true},
		{"property became required", closed, `{"type":"object","additionalProperties":false,"properties":{"id":{"type":"integer"},"note":{"type":"string"}},"required":["id","note"]}`, true},
		{"open: property added with a type", `{"type":"object","properties":{"id":{"type":"integer"}}}`, `{"type":"object","properties":{"id":{"type":"integer"},"note":{"type":"string"}}}`, true},
		{"enum value removed", `{"enum":["a","b"]}`, `{"enum":["a"]}`, true},
		{"enum value added", `{"enum":["a"]}`, `{"enum":["a","b"]}`, false},
		{"maxLength tightened", `{"type":"string","maxLength":10}`, `{"type":"string","maxLength":5}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := schemaregistry.NewMemory()
			if _, err := r.Register(ctx, "j", js(tt.first)); err != nil {
				t.Fatal(err)
			}
			_, err := r.Register(ctx, "j", js(tt.next))
			if got := errors.Is(err, connector.ErrIncompatibleSchema); got != tt.refuse {
				t.Fatalf("refused = %v (%v), want %v", got, err, tt.refuse)
			}
		})
	}
}

func TestInvalidSchemas(t *testing.T) {
	ctx := context.Background()
	r := schemaregistry.NewMemory()
	for _, s := range []connector.RegistrySchema{
		{Type: connector.RegistryAvro, Schema: `{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}`},
		{Type: connector.RegistryAvro, Schema: ``},
		{Type: connector.RegistryProtobuf, Schema: `message { `},
		{Type: connector.RegistryProtobuf, Schema: `syntax = "proto3"; import "missing.proto"; message A { B b = 1; }`},
		{Type: connector.RegistryJSONSchema, Schema: `{"type": 5}`},
		{Type: connector.RegistryJSONSchema, Schema: `{"$ref": "file:///etc/passwd"}`},
		{Type: "XML", Schema: `<x/>`},
		{Type: connector.RegistryAvro, Schema: `"string"`, References: []connector.SchemaReference{{Name: "a", Subject: "nope", Version: 1}}},
	} {
		_, err := r.Register(ctx, "bad", s)
		var e *schemaregistry.Error
		if !errors.As(err, &e) || e.Code != schemaregistry.CodeInvalidSchema || !errors.Is(err, connector.ErrInvalidSchema) {
			t.Errorf("Register(%q %q) = %v, want a 42201", s.Type, s.Schema, err)
		}
	}
	if subs, _ := r.Subjects(ctx, true); len(subs) != 0 {
		t.Errorf("subjects after refusals: %v", subs)
	}
}

// TestReferences registers an Avro schema that refers to a type of
// another subject, and a Protobuf file that imports another.
func TestReferences(t *testing.T) {
	ctx := context.Background()
	r := schemaregistry.NewMemory()
	money := connector.RegistrySchema{Schema: `{"type":"record","name":"Money","namespace":"shop","fields":[{"name":"cents","type":"long"}]}`}
	if _, err := r.Register(ctx, "money", money); err != nil {
		t.Fatal(err)
	}
	order := connector.RegistrySchema{Schema: `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"total","type":"shop.Money"}]}`,
		References: []connector.SchemaReference{{Name: "shop.Money", Subject: "money", Version: 1}}}
	ss, err := r.Register(ctx, "orders-value", order)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.SchemaByID(ctx, ss.ID)
	if err != nil || len(got.References) != 1 || got.References[0].Subject != "money" {
		t.Fatalf("SchemaByID = %+v, %v", got, err)
	}
	// A referenced version cannot be hard-deleted.
	if _, err := r.DeleteVersion(ctx, "money", 1, false); err == nil {
		if _, err := r.DeleteVersion(ctx, "money", 1, true); code(err) != schemaregistry.CodeReferenceExists {
			t.Errorf("hard delete of a referenced version: %v", err)
		}
	} else if code(err) != schemaregistry.CodeReferenceExists {
		t.Errorf("delete of a referenced version: %v", err)
	}

	dep := connector.RegistrySchema{Type: connector.RegistryProtobuf, Schema: `syntax = "proto3"; package shop; message Money { int64 cents = 1; }`}
	if _, err := r.Register(ctx, "money.proto", dep); err != nil {
		t.Fatal(err)
	}
	p := connector.RegistrySchema{Type: connector.RegistryProtobuf, Schema: `syntax = "proto3"; package shop; import "money.proto"; message Order { Money total = 1; }`,
		References: []connector.SchemaReference{{Name: "money.proto", Subject: "money.proto", Version: 1}}}
	if _, err := r.Register(ctx, "porders", p); err != nil {
		t.Fatal(err)
	}

	jdep := connector.RegistrySchema{Type: connector.RegistryJSONSchema, Schema: `{"type":"object","properties":{"cents":{"type":"integer"}}}`}
	if _, err := r.Register(ctx, "money.json", jdep); err != nil {
		t.Fatal(err)
	}
	j := connector.RegistrySchema{Type: connector.RegistryJSONSchema, Schema: `{"type":"object","properties":{"total":{"$ref":"money.json"}}}`,
		References: []connector.SchemaReference{{Name: "money.json", Subject: "money.json", Version: 1}}}
	if _, err := r.Register(ctx, "jorders", j); err != nil {
		t.Fatal(err)
	}
	// Without the reference the $ref is not resolved: 42201.
	j.References = nil
	if _, err := r.Register(ctx, "jorders2", j); code(err) != schemaregistry.CodeInvalidSchema {
		t.Errorf("a $ref without its reference: %v", err)
	}
}

func code(err error) int {
	var e *schemaregistry.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// TestDeletesAndIDs checks soft and hard deletes, ids shared across
// subjects and never reused.
func TestDeletesAndIDs(t *testing.T) {
	ctx := context.Background()
	r := schemaregistry.NewMemory()
	if err := r.SetCompatibility(ctx, "", schemaregistry.None); err != nil {
		t.Fatal(err)
	}
	a, _ := r.Register(ctx, "a", avroRecord(fID))
	b, _ := r.Register(ctx, "b", avroRecord(fID))
	if a.ID != b.ID || a.ID != 1 {
		t.Fatalf("same schema in two subjects: ids %d and %d, want 1 and 1", a.ID, b.ID)
	}
	again, _ := r.Register(ctx, "a", connector.RegistrySchema{Schema: "  " + avroRecord(fID).Schema + "\n"})
	if again.Version != 1 || again.ID != 1 {
		t.Fatalf("re-registering: %+v", again)
	}
	a2, _ := r.Register(ctx, "a", avroRecord(fID+","+fNote))
	if a2.Version != 2 || a2.ID != 2 {
		t.Fatalf("second version: %+v", a2)
	}
	if _, err := r.DeleteVersion(ctx, "a", 2, true); code(err) != schemaregistry.CodeVersionNotSoftDeleted {
		t.Errorf("hard delete before soft: %v", err)
	}
	if v, err := r.DeleteVersion(ctx, "a", 2, false); err != nil || v != 2 {
		t.Fatalf("soft delete: %d %v", v, err)
	}
	if _, err := r.DeleteVersion(ctx, "a", 2, false); code(err) != schemaregistry.CodeVersionSoftDeleted {
		t.Errorf("second soft delete: %v", err)
	}
	if _, err := r.Version(ctx, "a", 2, false); code(err) != schemaregistry.CodeVersionNotFound {
		t.Errorf("soft-deleted version read: %v", err)
	}
	if ss, err := r.Version(ctx, "a", 2, true); err != nil || ss.ID != 2 {
		t.Errorf("soft-deleted version read with deleted: %+v %v", ss, err)
	}
	if l, _ := r.Latest(ctx, "a"); l.Version != 1 {
		t.Errorf("latest after soft delete: %+v", l)
	}
	if _, err := r.DeleteVersion(ctx, "a", 2, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SchemaByID(ctx, 2); !errors.Is(err, connector.ErrSchemaNotFound) {
		t.Errorf("schema of a hard-deleted version: %v", err)
	}
	a3, _ := r.Register(ctx, "a", avroRecord(fID+","+fAmountInt))
	if a3.Version != 3 || a3.ID != 3 {
		t.Errorf("after a hard delete, versions and ids go on: %+v", a3)
	}
	if _, err := r.DeleteSubject(ctx, "b", true); code(err) != schemaregistry.CodeSubjectNotSoftDeleted {
		t.Errorf("hard subject delete before soft: %v", err)
	}
	if vs, err := r.DeleteSubject(ctx, "b", false); err != nil || len(vs) != 1 {
		t.Fatalf("soft subject delete: %v %v", vs, err)
	}
	if subs, _ := r.Subjects(ctx, false); strings.Join(subs, ",") != "a" {
		t.Errorf("subjects: %v", subs)
	}
	if subs, _ := r.Subjects(ctx, true); strings.Join(subs, ",") != "a,b" {
		t.Errorf("subjects with deleted: %v", subs)
	}
	if err := r.SetMode(ctx, "a", schemaregistry.ReadOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register(ctx, "a", avroRecord(fAmountInt)); code(err) != schemaregistry.CodeOperationNotPermitted {
		t.Errorf("register in READONLY: %v", err)
	}
}
