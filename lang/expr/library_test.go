package expr

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/go-cmp/cmp"
)

// declaredNames returns the functions and macros an environment built from
// opts declares, leaving out internal ones (an '@' in the name).
func declaredNames(t *testing.T, opts ...cel.EnvOption) map[string]int {
	t.Helper()
	env, err := cel.NewCustomEnv(opts...)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for name, fn := range env.Functions() {
		if !strings.Contains(name, "@") {
			names[name] = len(fn.OverloadDecls())
		}
	}
	for _, m := range env.Macros() {
		// math's global macros are written math.greatest / math.least.
		name := m.Function()
		if name == "greatest" || name == "least" {
			name = "math." + name
		}
		names[name]++
	}
	return names
}

// TestFunctionsMatchLibrary checks that the generated docs list exactly what
// the library declares: each pipectl overload, and every function of each
// extension.
func TestFunctionsMatchLibrary(t *testing.T) {
	all := declaredNames(t, cel.Lib(library{}))

	gotExt := map[string][]string{}
	wantExt := map[string][]string{}
	for _, e := range extensions {
		desc := strings.TrimSuffix(e.doc.Description, ".")
		gotExt[e.doc.Name] = strings.Split(desc, ", ")
		var names []string
		for name := range declaredNames(t, e.opt) {
			names = append(names, name)
			delete(all, name)
		}
		sort.Strings(names)
		wantExt[e.doc.Name] = names
	}
	if diff := cmp.Diff(wantExt, gotExt); diff != "" {
		t.Errorf("extension docs do not list what the extensions declare (-declared +documented):\n%s", diff)
	}

	// What is left is pipectl's own: one doc per overload.
	documented := map[string]int{}
	for _, d := range Functions() {
		if strings.HasPrefix(d.Name, "ext.") {
			continue
		}
		documented[d.Name]++
		if !strings.HasPrefix(d.Signature, d.Name+"(") {
			t.Errorf("signature %q does not start with %s(", d.Signature, d.Name)
		}
		if d.Description == "" {
			t.Errorf("%s has no description", d.Signature)
		}
	}
	if diff := cmp.Diff(all, documented); diff != "" {
		t.Errorf("pipectl function docs mismatch (-declared overloads +documented):\n%s", diff)
	}
}

func TestFunctionsIsACopy(t *testing.T) {
	fs := Functions()
	if len(fs) != len(functionDocs)+len(extensions) {
		t.Fatalf("Functions() has %d entries, want %d", len(fs), len(functionDocs)+len(extensions))
	}
	fs[0].Name = "changed"
	if Functions()[0].Name == "changed" {
		t.Error("changing the result of Functions() changed the library docs")
	}
	names := []string{}
	for _, f := range Functions() {
		names = append(names, f.Name)
	}
	want := []string{"sha256", "sha256", "uuid", "now", "ext.strings", "ext.encoders", "ext.math", "ext.lists", "ext.regex", "ext.comprehensions"}
	if !slices.Equal(names, want) {
		t.Errorf("Functions() names = %v, want %v", names, want)
	}
}

func TestHashCost(t *testing.T) {
	// sha256 costs 1 + ceil(bytes/10), whether the argument is typed or
	// dyn; reading the variable costs 1 more.
	for _, src := range []string{"sha256(topic)", "sha256(value)", "sha256(key)"} {
		// Small inputs make the static estimate small, so Compile leaves
		// the program untracked: track it here to read the cost.
		checked, iss := RecordEnv().cel.Compile(src)
		if iss.Err() != nil {
			t.Fatal(iss.Err())
		}
		prg, err := RecordEnv().cel.Program(checked, cel.CostTracking(costEstimator{}))
		if err != nil {
			t.Fatal(err)
		}
		costOf := func(s string) uint64 {
			t.Helper()
			_, det, err := prg.Eval(activation{"topic": s, "value": s, "key": []byte(s)})
			if err != nil {
				t.Fatal(err)
			}
			return *det.ActualCost()
		}
		if long, short := costOf(strings.Repeat("x", 10_000)), costOf("x"); long != 1002 || short != 3 {
			t.Errorf("%s: cost with 10,000 bytes = %d, with 1 byte = %d; want 1002 and 3", src, long, short)
		}
	}
}

// TestCostTrackingOnlyWhereNeeded checks that programs whose static cost is
// bounded under CostLimit run untracked, and the others are tracked.
func TestCostTrackingOnlyWhereNeeded(t *testing.T) {
	for src, tracked := range map[string]bool{
		"value.amount >= 10":                     false,
		"sha256(value.email)":                    false,
		"value.items.all(i, i.qty > 0)":          true,
		"value.items.map(i, value.items.size())": true,
	} {
		p := mustCompile(t, RecordEnv(), src, Dyn)
		_, det, err := p.prg.Eval(activation{"value": map[string]any{"amount": int64(1), "email": "a", "items": []any{map[string]any{"qty": int64(1)}}}})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := det != nil && det.ActualCost() != nil; got != tracked {
			t.Errorf("%s: tracked = %v, want %v", src, got, tracked)
		}
	}
}
