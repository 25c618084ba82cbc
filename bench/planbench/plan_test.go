package planbench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/stdlib"
)

// Sizes are the pipeline counts of issue 7's plan scenario.
var Sizes = []int{1, 100, 1000, 5000}

// changed is how many of n pipelines differ from the state: 1 %, at least
// one.
func changed(n int) int { return max(1, n/100) }

// config returns the text of a configuration of n pipelines, each a
// generator with a transform writing to a topic of its own, of which the
// first `bump` have another rate.
func config(n, bump int) string {
	var sb strings.Builder
	sb.WriteString("fleet {\n  name = \"plan\"\n}\n\n")
	sb.WriteString("transform \"mask\" {\n  filter = \"value.amount >= 10\"\n  set    = { \"value.email\" = \"sha256(value.email)\" }\n}\n\n")
	for i := range n {
		rate := 10
		if i < bump {
			rate = 20
		}
		fmt.Fprintf(&sb, "topic \"t%d\" {\n  name       = \"orders.%d\"\n  partitions = 3\n}\n\n", i, i)
		fmt.Fprintf(&sb, "source \"generator\" \"g%d\" {\n  topic      = topic.t%d.name\n  rate       = %d\n  value      = \"{'id': seq, 'email': 'u' + string(seq) + '@example.com', 'amount': seq %% 100}\"\n  transforms = [transform.mask]\n}\n\n", i, i, rate)
	}
	return sb.String()
}

func registry(b *testing.B) *connector.Registry {
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		b.Fatal(err)
	}
	return reg
}

func load(b *testing.B, reg *connector.Registry, dir, src string) *lang.Config {
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: reg})
	if diags.HasErrors() {
		b.Fatalf("load: %s", diags.Error())
	}
	return cfg
}

// stateOf is the state an apply of cfg leaves, as ReadState gives it
// back (through JSON).
func stateOf(b *testing.B, cfg *lang.Config) *control.State {
	res, err := control.Resources(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	st := &control.State{Serial: 7, Resources: map[string]*control.Resource{}}
	for _, r := range res {
		j, err := json.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		var back control.Resource
		if err := json.Unmarshal(j, &back); err != nil {
			b.Fatal(err)
		}
		st.Resources[r.Address] = &back
	}
	return st
}

// BenchmarkPlan times what `pipectl plan` does besides reading Kafka:
// load the configuration (HCL, CEL compilation) and plan it against the
// state. It reports the two parts as load-ms/op and plan-ms/op.
func BenchmarkPlan(b *testing.B) {
	reg := registry(b)
	for _, n := range Sizes {
		b.Run(fmt.Sprintf("pipelines=%d", n), func(b *testing.B) {
			stateDir, dir := b.TempDir(), b.TempDir()
			st := stateOf(b, load(b, reg, stateDir, config(n, 0)))
			src := config(n, changed(n))
			if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
			var loadT, planT time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				cfg, diags := lang.Load(dir, lang.Options{Plugins: reg})
				t1 := time.Now()
				if diags.HasErrors() {
					b.Fatalf("load: %s", diags.Error())
				}
				p, diags := planner.Plan(planner.Input{Config: cfg, Plugins: reg, State: st})
				planT += time.Since(t1)
				loadT += t1.Sub(t0)
				if diags.HasErrors() {
					b.Fatalf("plan: %s", diags.Error())
				}
				if p == nil {
					b.Fatal("no plan")
				}
			}
			b.ReportMetric(float64(loadT.Microseconds())/1000/float64(b.N), "load-ms/op")
			b.ReportMetric(float64(planT.Microseconds())/1000/float64(b.N), "plan-ms/op")
		})
	}
}

// TestPlanChanges checks that the benchmark plans what it says: 1 % of
// the pipelines (at least one) changed, the rest unchanged.
func TestPlanChanges(t *testing.T) {
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 300} {
		stateDir, dir := t.TempDir(), t.TempDir()
		for _, d := range []struct {
			dir string
			src string
		}{{stateDir, config(n, 0)}, {dir, config(n, changed(n))}} {
			if err := os.WriteFile(filepath.Join(d.dir, "main.hcl"), []byte(d.src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		old, diags := lang.Load(stateDir, lang.Options{Plugins: reg})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		res, err := control.Resources(old, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := &control.State{Serial: 7, Resources: map[string]*control.Resource{}}
		for _, r := range res {
			st.Resources[r.Address] = r
		}
		cfg, diags := lang.Load(dir, lang.Options{Plugins: reg})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		p, diags := planner.Plan(planner.Input{Config: cfg, Plugins: reg, State: st})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		var changes []string
		for _, c := range p.Changes {
			if c.Action != plan.NoOp {
				changes = append(changes, c.Address+" "+c.Action.String())
			}
		}
		if len(changes) != changed(n) {
			t.Errorf("%d pipelines: %d changes %v, want %d", n, len(changes), changes, changed(n))
		}
	}
}
