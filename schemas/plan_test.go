package schemas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanGoldenFilesMatchTheSchema validates the JSON plans the plan view
// golden files hold against schemas/plan.schema.json, and that a broken
// document is refused, so that the view and its schema cannot drift apart.
func TestPlanGoldenFilesMatchTheSchema(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(mustEncode(t, planSchema()), &schema); err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob(filepath.Join(repoRoot, "cmd/pipectl/internal/views/testdata/plan_*.json"))
	if len(docs) < 8 {
		t.Fatalf("found %d plan golden files, want the plan view's 8 or more", len(docs))
	}
	for _, path := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if problems := validate(schema, schema, doc, ""); len(problems) > 0 {
			t.Errorf("%s:\n  %s", filepath.Base(path), strings.Join(problems, "\n  "))
		}
		// The same document with a wrong action is refused.
		m := doc.(map[string]any)
		if rc, _ := m["resource_changes"].([]any); len(rc) > 0 {
			rc[0].(map[string]any)["actions"] = []any{"rename"}
			if len(validate(schema, schema, doc, "")) == 0 {
				t.Errorf("%s: a change with the action \"rename\" passes the schema", filepath.Base(path))
			}
		}
	}
}

func mustEncode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
