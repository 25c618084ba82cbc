package control_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/stdlib"
)

// TestCommitIntervalStored: a sink's commit_interval is stored only when
// it differs from the default, so that the resources (and their hashes)
// of configurations that never set it are what they were before it
// existed.
func TestCommitIntervalStored(t *testing.T) {
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ attr, want string }{
		{"", ""},
		{`commit_interval = "1s"`, ""},
		{`commit_interval = "1000ms"`, ""},
		{`commit_interval = "30s"`, "30s"},
	} {
		dir := t.TempDir()
		src := "fleet {\n  name = \"shop\"\n}\nsink \"file\" \"out\" {\n  topics = [\"orders\"]\n  path = \"out.jsonl\"\n  " + tc.attr + "\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := lang.Load(dir, lang.Options{Plugins: reg})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		res, err := control.Resources(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		spec := res[0].Pipeline
		if spec.CommitInterval != tc.want {
			t.Errorf("%q: stored commit_interval %q, want %q", tc.attr, spec.CommitInterval, tc.want)
		}
		b, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), "commit_interval"); got != (tc.want != "") {
			t.Errorf("%q: the stored spec %s holds commit_interval: %v", tc.attr, b, got)
		}
	}
}
