package connectimport_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/pipectl/pipectl/planner/connectimport"
)

// FuzzImport feeds arbitrary JSON to the importer: it never panics, and
// every file it writes parses as HCL.
func FuzzImport(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/connect/*.json")
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"name":"x\"}\n${a}%{b}","connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","topics":"a,,b","file":"\u0000\n#*/","transforms":"a,b","transforms.a.type":"org.apache.kafka.connect.transforms.Cast$Value","transforms.a.spec":"x.y:int8,:float32","transforms.b.type":"org.apache.kafka.connect.transforms.RegexRouter","transforms.b.regex":"(","tasks.max":"0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		conns, err := connectimport.Parse(data, "fuzz.json")
		if err != nil {
			return
		}
		res, err := connectimport.Convert(conns)
		if err != nil {
			t.Fatalf("Convert: %v", err)
		}
		for _, file := range res.Files {
			if _, diags := hclsyntax.ParseConfig(file.Src, file.Name, hcl.InitialPos); diags.HasErrors() {
				t.Fatalf("%s does not parse: %s\n%s", file.Name, diags.Error(), file.Src)
			}
		}
	})
}

// FuzzImportValidates checks that what the importer writes for the
// corpus, mutated, also loads without errors: a setting it cannot carry
// over is a warning, never a broken file.
func FuzzImportValidates(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/connect/*.json")
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	reg := registry(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		conns, err := connectimport.Parse(data, "fuzz.json")
		if err != nil {
			return
		}
		res, err := connectimport.Convert(conns)
		if err != nil {
			t.Fatalf("Convert: %v", err)
		}
		validate(t, reg, res.Files)
	})
}
