package lang_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/pipectl/pipectl/lang"
)

// FuzzLoad loads arbitrary bytes as a configuration file: whatever a user
// writes, Load returns diagnostics and never panics.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.txtar")
	for _, s := range seeds {
		ar, err := txtar.ParseFile(s)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if filepath.Ext(file.Name) == ".hcl" {
				f.Add(file.Data)
			}
		}
	}
	f.Add([]byte(`fleet { name = "x" }` + "\n" + `transform "t" { filter = "${` + "\n"))
	f.Add([]byte("topic \"a\" {\n  for_each = { for k in [1, 2] : k => k }\n  name = \"${each.key}\"\n}\n"))
	reg := registry(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, _ := lang.Load(dir, lang.Options{Plugins: reg, LookupEnv: func(string) (string, bool) { return "", false }})
		if cfg == nil {
			t.Fatal("nil Config")
		}
	})
}
