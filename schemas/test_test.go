package schemas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestGoldenFileMatchesTheSchema validates the test view's JSON golden
// file against schemas/test.schema.json, and that a broken document is
// refused, so that the view and its schema cannot drift apart.
func TestTestGoldenFileMatchesTheSchema(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(mustEncode(t, testSchema()), &schema); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "cmd/pipectl/internal/views/testdata/test_result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if problems := validate(schema, schema, doc, ""); len(problems) > 0 {
		t.Errorf("test_result.json:\n  %s", strings.Join(problems, "\n  "))
	}
	run := doc["files"].([]any)[0].(map[string]any)["runs"].([]any)[0].(map[string]any)
	run["status"] = "skipped"
	if len(validate(schema, schema, doc, "")) == 0 {
		t.Errorf("a run with the status \"skipped\" passes the schema")
	}
}
