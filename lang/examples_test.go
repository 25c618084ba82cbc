package lang_test

import (
	"path/filepath"
	"testing"

	"github.com/pipectl/pipectl/lang"
)

// TestExamples loads every example pipeline: each must be valid with no
// warnings.
func TestExamples(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/pipelines/*")
	if len(dirs) < 4 {
		t.Fatalf("found %d examples, want at least 4", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, diags := lang.Load(dir, lang.Options{Plugins: registry(t)})
			if len(diags) > 0 {
				t.Fatal(dump(diags))
			}
			if len(cfg.Pipelines) == 0 {
				t.Error("an example without a pipeline")
			}
		})
	}
}
