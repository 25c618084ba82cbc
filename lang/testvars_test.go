package lang_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang"
)

// TestEvaluatedVarsAndTestFiles: a VarArg with an evaluated Value sets a
// variable in order with -var (later wins), one for an undeclared variable
// is an error at its range, and *.pipetest.hcl files are not part of the
// configuration.
func TestEvaluatedVarsAndTestFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.hcl":            "fleet {\n  name = \"x\"\n}\nvariable \"env\" {\n  type    = string\n  default = \"dev\"\n}\ntopic \"t\" {\n  name = \"t.${var.env}\"\n}\n",
		"orders.pipetest.hcl": "run \"not configuration\" {}\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noEnv := func(string) (string, bool) { return "", false }
	load := func(vars ...lang.VarArg) (*lang.Config, hcl.Diagnostics) {
		return lang.Load(dir, lang.Options{Plugins: registry(t), Vars: vars, LookupEnv: noEnv})
	}
	cfg, diags := load(lang.VarArg{Raw: "env=cli"}, lang.VarArg{Name: "env", Value: cty.StringVal("test"), From: "a test file"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := cfg.Topics[0].Name; got != "t.test" {
		t.Errorf("topic name = %q, want t.test", got)
	}
	cfg, diags = load(lang.VarArg{Name: "env", Value: cty.StringVal("test"), From: "a test file"}, lang.VarArg{Raw: "env=cli"})
	if diags.HasErrors() || cfg.Topics[0].Name != "t.cli" {
		t.Errorf("later -var did not win: %v %v", cfg.Topics, diags)
	}
	rng := hcl.Range{Filename: "a.pipetest.hcl", Start: hcl.Pos{Line: 3, Column: 5}}
	_, diags = load(lang.VarArg{Name: "evn", Value: cty.StringVal("x"), From: "a test file", Range: &rng})
	if !diags.HasErrors() || diags[0].Summary != "Value for undeclared variable" || diags[0].Subject.Start.Line != 3 {
		t.Fatalf("diagnostics = %v", diags)
	}
	if want := `A variable named "evn" is set in a test file but is not declared in the configuration. Did you mean "env"?`; diags[0].Detail != want {
		t.Errorf("detail = %q", diags[0].Detail)
	}
}
