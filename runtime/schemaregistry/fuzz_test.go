package schemaregistry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
)

// FuzzSchemaBody feeds request bodies to the registration route: any body
// is answered (a registration or a Confluent error), never a panic.
func FuzzSchemaBody(f *testing.F) {
	for _, s := range []string{
		`{"schema":"\"string\""}`,
		`{"schema":"{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"}`,
		`{"schema":"syntax = \"proto3\"; message A { int32 a = 1; }","schemaType":"PROTOBUF"}`,
		`{"schema":"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}","schemaType":"JSON"}`,
		`{"schema":"\"string\"","references":[{"name":"x","subject":"s","version":1}]}`,
		`{"schema":5}`, `[]`, `{`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := NewMemory()
		ctx := context.Background()
		// A subject with a version, so that compatibility is checked too.
		_ = r.SetCompatibility(ctx, "", Full)
		if _, err := r.Register(ctx, "s", connector.RegistrySchema{Schema: `{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]}`}); err != nil {
			t.Fatal(err)
		}
		h := Handler(r, nil)
		for _, path := range []string{"/subjects/s/versions", "/subjects/s", "/compatibility/subjects/s/versions/latest"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
			if rec.Code != 200 && !strings.Contains(rec.Body.String(), `"error_code"`) {
				t.Fatalf("POST %s: %d without an error body: %s", path, rec.Code, rec.Body)
			}
			if rec.Code >= 500 {
				t.Fatalf("POST %s: %d: %s", path, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzParse parses schema texts of each type and checks them against each
// other: an error or an answer, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(0, `{"type":"record","name":"A","fields":[{"name":"a","type":["null","int"],"default":null}]}`, `"int"`)
	f.Add(1, `syntax = "proto3"; package p; message A { int32 a = 1; oneof o { string b = 2; } }`, `syntax = "proto2"; package p; message A { required int64 a = 1; }`)
	f.Add(2, `{"type":"object","properties":{"a":{"type":"integer","maximum":3}},"required":["a"]}`, `{"enum":[1,2]}`)
	f.Fuzz(func(t *testing.T, kind int, a, b string) {
		typ := []connector.RegistryType{connector.RegistryAvro, connector.RegistryProtobuf, connector.RegistryJSONSchema}[uint(kind)%3]
		pa, errA := parse(connector.RegistrySchema{Type: typ, Schema: a}, nil)
		pb, errB := parse(connector.RegistrySchema{Type: typ, Schema: b}, nil)
		if errA != nil || errB != nil {
			return
		}
		for _, level := range []Compatibility{Backward, Forward, Full, FullTransitive} {
			_ = checkLevel(level, pa, []*parsed{pb})
		}
	})
}
