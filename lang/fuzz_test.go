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

// FuzzSchemaBlock loads a schema block whose document is arbitrary text in
// each language: a diagnostic, never a panic.
func FuzzSchemaBlock(f *testing.F) {
	f.Add([]byte(`{"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}`), uint8(0))
	f.Add([]byte("syntax = \"proto3\";\npackage p;\nmessage M { string a = 1; }\n"), uint8(1))
	f.Add([]byte(`{"type": "object", "properties": {"a": {"type": "string"}}}`), uint8(2))
	reg := registry(f)
	f.Fuzz(func(t *testing.T, doc []byte, which uint8) {
		dir := t.TempDir()
		attr := []string{`avro = file("doc")`, "protobuf = file(\"doc\")\n  message = \"p.M\"", `json_schema = file("doc")`}[which%3]
		src := "fleet { name = \"x\" }\nschema \"s\" {\n  " + attr + "\n}\ntopic \"t\" {\n  value_schema = schema.s\n}\n" +
			"transform \"f\" {\n  filter = \"value.a == 'x'\"\n}\nsink \"file\" \"o\" {\n  topics = [topic.t.name]\n  path = \"o.jsonl\"\n  transforms = [transform.f]\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "doc"), doc, 0o644); err != nil {
			t.Fatal(err)
		}
		if cfg, _ := lang.Load(dir, lang.Options{Plugins: reg, LookupEnv: func(string) (string, bool) { return "", false }}); cfg == nil {
			t.Fatal("nil Config")
		}
	})
}
