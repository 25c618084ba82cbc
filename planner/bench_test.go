package planner_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/planner"
)

// pipelinesConfig is a configuration of n generator sources writing to 10
// topics through one transform; rate is that of pipelines whose index is
// a multiple of 100, so that two such configurations differ in 1 % of
// their pipelines.
func pipelinesConfig(n int, rate int) string {
	var sb strings.Builder
	sb.WriteString("fleet {\n  name = \"bench\"\n}\ntransform \"big\" {\n  filter = \"value.n >= 10\"\n}\n")
	for i := range 10 {
		fmt.Fprintf(&sb, "topic \"t%d\" {\n  partitions = 3\n}\n", i)
	}
	for i := range n {
		r := 10
		if i%100 == 0 {
			r = rate
		}
		fmt.Fprintf(&sb, "source \"generator\" \"p%d\" {\n  topic      = topic.t%d.name\n  rate       = %d\n  value      = \"{'n': seq}\"\n  transforms = [transform.big]\n}\n", i, i%10, r)
	}
	return sb.String()
}

// BenchmarkPlan plans 1, 100, 1,000 and 5,000 pipelines against a state of
// the same size in which 1 % of them differ (at least one), with live
// topics and status: the cost of `pipectl plan` once the inputs are read.
func BenchmarkPlan(b *testing.B) {
	reg := registry(b)
	keys := testKeys(b)
	for _, n := range []int{1, 100, 1000, 5000} {
		b.Run(fmt.Sprintf("pipelines=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			st := stateOf(b, load(b, dir, pipelinesConfig(n, 10)), keys)
			cfg := load(b, dir, pipelinesConfig(n, 20))
			live := liveOf(st)
			in := planner.Input{Config: cfg, Plugins: reg, Keys: keys, State: st, Live: live}
			p, diags := planner.Plan(in)
			if diags.HasErrors() {
				b.Fatal(diags.Error())
			}
			if got, want := p.Summary().Change, max(n/100, 1); got != want {
				b.Fatalf("%d changes, want %d", got, want)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, diags := planner.Plan(in); diags.HasErrors() {
					b.Fatal(diags.Error())
				}
			}
		})
	}
}
