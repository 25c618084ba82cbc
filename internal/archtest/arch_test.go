package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Package is what the checks need of one package of `go list -json`.
type Package struct {
	ImportPath string
	Name       string
	Dir        string
	Imports    []string // non-test imports
	Module     *struct {
		Path string
		Main bool
	}
}

// An importRule constrains what the packages in its scope import. A direct
// rule looks at each package's own imports; a transitive one at everything
// the package reaches through project packages, so that no detour hides a
// forbidden dependency.
type importRule struct {
	name       string
	scope      func(pkg string) bool
	forbidden  func(imp string) bool
	transitive bool
}

// importRules are the project's layering rules (see the package comment)
// for module mod. Paths are full import paths.
func importRules(mod string) []importRule {
	p := func(rel string) string { return mod + "/" + rel }
	project := func(imp string) bool { return under(imp, mod) }
	return []importRule{{
		name:      "lang imports no project package outside lang",
		scope:     func(pkg string) bool { return under(pkg, p("lang")) },
		forbidden: func(imp string) bool { return project(imp) && !under(imp, p("lang")) },
	}, {
		name:       "runtime never imports planner",
		scope:      func(pkg string) bool { return under(pkg, p("runtime")) },
		forbidden:  func(imp string) bool { return under(imp, p("planner")) },
		transitive: true,
	}, {
		name:  "planner imports only lang, runtime/control and runtime/kafka of the project",
		scope: func(pkg string) bool { return under(pkg, p("planner")) },
		forbidden: func(imp string) bool {
			return project(imp) && !under(imp, p("planner")) && !under(imp, p("lang")) &&
				!under(imp, p("runtime/control")) && !under(imp, p("runtime/kafka"))
		},
	}, {
		// lang/schemafile maps the schema languages (Avro, Protobuf,
		// JSON Schema) to record schemas for validate and for the
		// registry converters alike.
		name:  "stdlib imports only runtime/connector, lang/configschema and lang/schemafile of the project",
		scope: func(pkg string) bool { return under(pkg, p("stdlib")) },
		forbidden: func(imp string) bool {
			return project(imp) && !under(imp, p("stdlib")) &&
				imp != p("runtime/connector") && imp != p("lang/configschema") && imp != p("lang/schemafile")
		},
	}, {
		// A plugin outside stdlib is written as a third party writes one;
		// only its custom main (a cmd/ directory inside it) builds a
		// pipectl binary with it.
		name: "an example plugin imports only runtime/connector and lang/configschema of the project",
		scope: func(pkg string) bool {
			return under(pkg, p("examples/plugins")) && !strings.Contains(pkg, "/cmd/")
		},
		forbidden: func(imp string) bool {
			return project(imp) && !under(imp, p("examples/plugins")) &&
				imp != p("runtime/connector") && imp != p("lang/configschema")
		},
	}, {
		name:  "runtime/connector imports only lang/configschema and lang/recordschema of the project",
		scope: func(pkg string) bool { return under(pkg, p("runtime/connector")) },
		forbidden: func(imp string) bool {
			return project(imp) && !under(imp, p("runtime/connector")) &&
				imp != p("lang/configschema") && imp != p("lang/recordschema")
		},
	}, {
		name:       "the SDK (runtime/connector) holds no Kafka client: it reaches no franz-go",
		scope:      func(pkg string) bool { return under(pkg, p("runtime/connector")) },
		forbidden:  func(imp string) bool { return under(imp, "github.com/twmb/franz-go") },
		transitive: true,
	}, {
		name:      "only lang/expr imports cel-go",
		scope:     func(pkg string) bool { return !under(pkg, p("lang/expr")) },
		forbidden: func(imp string) bool { return under(imp, "github.com/google/cel-go") },
	}}
}

// under reports whether import path imp is prefix or inside it.
func under(imp, prefix string) bool {
	return imp == prefix || strings.HasPrefix(imp, prefix+"/")
}

// checkImports returns every violation of the import rules by the project
// packages of module mod, each with the import chain that breaks the rule.
func checkImports(mod string, pkgs []Package) []string {
	byPath := map[string]*Package{}
	for i := range pkgs {
		if isProject(mod, &pkgs[i]) {
			byPath[pkgs[i].ImportPath] = &pkgs[i]
		}
	}
	paths := slices.Sorted(maps.Keys(byPath))
	var out []string
	report := func(r importRule, chain []string) {
		for i := range chain {
			chain[i] = strings.TrimPrefix(chain[i], mod+"/")
		}
		out = append(out, r.name+": "+strings.Join(chain, " → "))
	}
	for _, r := range importRules(mod) {
		for _, from := range paths {
			if !r.scope(from) {
				continue
			}
			if !r.transitive {
				for _, imp := range byPath[from].Imports {
					if r.forbidden(imp) {
						report(r, []string{from, imp})
					}
				}
				continue
			}
			// Breadth first through project packages, so that each
			// forbidden package is reported with its shortest chain.
			prev := map[string]string{from: ""}
			queue := []string{from}
			for len(queue) > 0 {
				cur := queue[0]
				queue = queue[1:]
				for _, imp := range byPath[cur].Imports {
					if _, seen := prev[imp]; seen {
						continue
					}
					prev[imp] = cur
					if r.forbidden(imp) {
						var chain []string
						for p := imp; p != ""; p = prev[p] {
							chain = append(chain, p)
						}
						slices.Reverse(chain)
						report(r, chain)
					}
					if byPath[imp] != nil {
						queue = append(queue, imp)
					}
				}
			}
		}
	}
	return out
}

func isProject(mod string, p *Package) bool {
	return p.Module != nil && p.Module.Main && p.Module.Path == mod
}

var grabBagNames = []string{"util", "utils", "common", "helper", "helpers"}

// checkLayout returns every violation of the layout rules by the project
// packages of module mod, whose root directory is root: no Go files in the
// runtime/ root, a doc.go with a package comment in every package, no
// grab-bag package names.
func checkLayout(mod, root string, pkgs []Package) []string {
	var out []string
	goFiles, _ := filepath.Glob(filepath.Join(root, "runtime", "*.go"))
	for _, f := range goFiles {
		out = append(out, "no Go files in the runtime/ root: runtime/"+filepath.Base(f))
	}
	for _, p := range pkgs {
		if !isProject(mod, &p) {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		if rel == "" {
			rel = "."
		}
		if slices.Contains(grabBagNames, p.Name) || slices.Contains(grabBagNames, path.Base(rel)) {
			out = append(out, "no util, common or helpers packages: "+rel)
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, "doc.go"), nil, parser.PackageClauseOnly|parser.ParseComments)
		switch {
		case errors.Is(err, os.ErrNotExist):
			out = append(out, "every package has a doc.go: "+rel+" has none")
		case err != nil:
			out = append(out, "every package has a doc.go: "+err.Error())
		case f.Doc == nil || strings.TrimSpace(f.Doc.Text()) == "":
			out = append(out, "every package has a doc.go: "+rel+"/doc.go has no package comment")
		}
	}
	return out
}

// loadPackages runs `go list -deps` over the whole module.
func loadPackages(t *testing.T) (mod, root string, pkgs []Package) {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root = filepath.Dir(strings.TrimSpace(string(gomod)))
	// -e: a package someone is editing may not compile; its imports are
	// still known and still checked.
	cmd := exec.Command("go", "list", "-e", "-deps", "-json=ImportPath,Name,Dir,Imports,Module", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	dec := json.NewDecoder(bytes.NewReader(stdout))
	for {
		var p Package
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
		if p.Module != nil && p.Module.Main {
			mod = p.Module.Path
		}
	}
	if mod == "" {
		t.Fatal("go list reported no package of the main module")
	}
	return mod, root, pkgs
}

func TestImportRules(t *testing.T) {
	mod, _, pkgs := loadPackages(t)
	for _, v := range checkImports(mod, pkgs) {
		t.Error(v)
	}
}

func TestLayoutRules(t *testing.T) {
	mod, root, pkgs := loadPackages(t)
	for _, v := range checkLayout(mod, root, pkgs) {
		t.Error(v)
	}
}

const testMod = "example.com/m"

// pkg is a synthetic project package of testMod; project imports are
// written relative to the module.
func pkg(rel string, imports ...string) Package {
	p := Package{ImportPath: testMod + "/" + rel, Name: path.Base(rel)}
	p.Module = &struct {
		Path string
		Main bool
	}{testMod, true}
	for _, imp := range imports {
		if !strings.Contains(imp, ".") {
			imp = testMod + "/" + imp
		}
		p.Imports = append(p.Imports, imp)
	}
	return p
}

func TestCheckImports(t *testing.T) {
	tests := []struct {
		name string
		pkgs []Package
		want []string
	}{{
		name: "the project's layout",
		pkgs: []Package{
			pkg("lang", "lang/configschema", "lang/expr", "github.com/hashicorp/hcl/v2"),
			pkg("lang/expr", "lang/recordschema", "github.com/google/cel-go/cel"),
			pkg("lang/expr/library", "github.com/google/cel-go/cel"),
			pkg("lang/configschema"),
			pkg("lang/recordschema"),
			pkg("runtime/connector", "lang/configschema", "lang/recordschema"),
			pkg("runtime/worker", "lang", "runtime/connector", "runtime/control"),
			pkg("runtime/control", "runtime/kafka", "lang"),
			pkg("runtime/kafka", "github.com/twmb/franz-go/pkg/kgo"),
			pkg("planner", "lang", "runtime/control", "runtime/kafka", "planner/plan"),
			pkg("planner/plan", "lang"),
			pkg("stdlib", "runtime/connector", "stdlib/file"),
			pkg("stdlib/file", "runtime/connector", "lang/configschema"),
			pkg("cmd/pipectl", "lang", "planner", "runtime/worker", "stdlib"),
		},
	}, {
		name: "lang importing runtime",
		pkgs: []Package{pkg("lang/eval", "runtime/connector"), pkg("runtime/connector")},
		want: []string{"lang imports no project package outside lang: lang/eval → runtime/connector"},
	}, {
		name: "runtime reaching planner through a chain",
		pkgs: []Package{
			pkg("runtime/worker", "runtime/control"),
			pkg("runtime/control", "stdlib/x"),
			pkg("stdlib/x", "planner/plan"),
			pkg("planner/plan"),
		},
		want: []string{
			"runtime never imports planner: runtime/control → stdlib/x → planner/plan",
			"runtime never imports planner: runtime/worker → runtime/control → stdlib/x → planner/plan",
			"stdlib imports only runtime/connector, lang/configschema and lang/schemafile of the project: stdlib/x → planner/plan",
		},
	}, {
		name: "planner importing the worker",
		pkgs: []Package{pkg("planner/apply", "runtime/worker", "runtime/control"), pkg("runtime/worker"), pkg("runtime/control")},
		want: []string{"planner imports only lang, runtime/control and runtime/kafka of the project: planner/apply → runtime/worker"},
	}, {
		name: "stdlib importing lang and runtime/kafka",
		pkgs: []Package{pkg("stdlib/kafka", "lang", "runtime/kafka", "github.com/twmb/franz-go/pkg/kgo"), pkg("lang"), pkg("runtime/kafka")},
		want: []string{
			"stdlib imports only runtime/connector, lang/configschema and lang/schemafile of the project: stdlib/kafka → lang",
			"stdlib imports only runtime/connector, lang/configschema and lang/schemafile of the project: stdlib/kafka → runtime/kafka",
		},
	}, {
		name: "stdlib importing record schemas around the SDK",
		pkgs: []Package{pkg("stdlib/sql", "lang/recordschema", "runtime/connector"), pkg("lang/recordschema"), pkg("runtime/connector")},
		want: []string{"stdlib imports only runtime/connector, lang/configschema and lang/schemafile of the project: stdlib/sql → lang/recordschema"},
	}, {
		name: "the SDK importing lang",
		pkgs: []Package{pkg("runtime/connector", "lang", "lang/configschema"), pkg("lang"), pkg("lang/configschema")},
		want: []string{"runtime/connector imports only lang/configschema and lang/recordschema of the project: runtime/connector → lang"},
	}, {
		name: "cel-go outside lang/expr",
		pkgs: []Package{pkg("lang", "github.com/google/cel-go/cel"), pkg("cmd/pipectl", "github.com/google/cel-go/common/types")},
		want: []string{
			"only lang/expr imports cel-go: cmd/pipectl → github.com/google/cel-go/common/types",
			"only lang/expr imports cel-go: lang → github.com/google/cel-go/cel",
		},
	}, {
		name: "packages of other modules are not checked",
		pkgs: []Package{{ImportPath: "github.com/x/lang", Imports: []string{testMod + "/runtime/connector", "github.com/google/cel-go/cel"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkImports(testMod, tt.pkgs)
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckLayout(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"runtime/runtime.go":        "package runtime\n",
		"runtime/worker/doc.go":     "// Package worker runs tasks.\npackage worker\n",
		"runtime/control/doc.go":    "package control\n",
		"runtime/kafka/kafka.go":    "package kafka\n",
		"internal/util/doc.go":      "// Package util is a grab-bag.\npackage util\n",
		"stdlib/common/doc.go":      "// Package shared is misnamed.\npackage shared\n",
		"lang/doc.go":               "// Package lang loads HCL.\n//\n// More.\npackage lang\n",
		"cmd/pipectl/doc.go":        "// Pipectl is the command line.\npackage main\n",
		"cmd/pipectl/main.go":       "package main\n",
		"planner/planfile/doc.go":   "/*\nPackage planfile reads and writes plan files.\n*/\npackage planfile\n",
		"runtime/notapackage/x.txt": "",
	}
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var pkgs []Package
	for _, rel := range []string{"runtime/worker", "runtime/control", "runtime/kafka", "internal/util", "stdlib/common", "lang", "cmd/pipectl", "planner/planfile"} {
		p := pkg(rel)
		p.Dir = filepath.Join(root, filepath.FromSlash(rel))
		if rel == "stdlib/common" {
			p.Name = "shared"
		}
		if rel == "cmd/pipectl" {
			p.Name = "main"
		}
		pkgs = append(pkgs, p)
	}
	got := checkLayout(testMod, root, pkgs)
	slices.Sort(got)
	want := []string{
		"every package has a doc.go: runtime/control/doc.go has no package comment",
		"every package has a doc.go: runtime/kafka has none",
		"no Go files in the runtime/ root: runtime/runtime.go",
		"no util, common or helpers packages: internal/util",
		"no util, common or helpers packages: stdlib/common",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}
