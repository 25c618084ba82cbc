package connectimport_test

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/planner/connectimport"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

func updating() bool { return *update || os.Getenv("PIPECTL_UPDATE") == "1" }

func registry(t testing.TB) *connector.Registry {
	t.Helper()
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

// archive is what an import produces as one txtar archive: each file, and
// the warnings.
func archive(res *connectimport.Result) []byte {
	ar := &txtar.Archive{}
	for _, f := range res.Files {
		ar.Files = append(ar.Files, txtar.File{Name: f.Name, Data: f.Src})
	}
	var sb strings.Builder
	for _, w := range res.Warnings {
		sb.WriteString(w.Connector + " | " + w.Key + " | " + w.Summary + " | " + w.Detail + "\n")
	}
	ar.Files = append(ar.Files, txtar.File{Name: "warnings", Data: []byte(sb.String())})
	return txtar.Format(ar)
}

// TestCorpus imports each Kafka Connect configuration of testdata/connect,
// compares the result with testdata/golden (go test -update rewrites it),
// and loads the files with lang and the built-in plugins: they must
// validate.
func TestCorpus(t *testing.T) {
	inputs, err := filepath.Glob("testdata/connect/*.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	reg := registry(t)
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			conns, err := connectimport.Parse(data, filepath.Base(in))
			if err != nil {
				t.Fatal(err)
			}
			res, err := connectimport.Convert(conns)
			if err != nil {
				t.Fatal(err)
			}
			got := archive(res)
			golden := filepath.Join("testdata", "golden", name+".txtar")
			if updating() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("import of %s differs from %s (-want +got; go test -update rewrites it):\n%s", in, golden, diff)
			}
			validate(t, reg, res.Files)
		})
	}
}

// validate loads files, with a fleet block, as pipectl validate does.
func validate(t testing.TB, reg *connector.Registry, files []connectimport.File) *lang.Config {
	t.Helper()
	dir := t.TempDir()
	for _, f := range append([]connectimport.File{connectimport.FleetFile}, files...) {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: reg, LookupEnv: func(string) (string, bool) { return "from-env", true }})
	var errs hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	if len(errs) > 0 {
		var srcs []string
		for _, f := range files {
			srcs = append(srcs, "--- "+f.Name+"\n"+string(f.Src))
		}
		sort.Strings(srcs)
		var msgs []string
		for _, d := range errs {
			msgs = append(msgs, d.Error())
		}
		t.Fatalf("the imported configuration does not validate:\n%s\n%s", strings.Join(msgs, "\n"), strings.Join(srcs, "\n"))
	}
	return cfg
}
