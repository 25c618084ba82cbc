package planner_test

import (
	"strings"
	"testing"

	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
)

// TestTaskPaths checks that the plan of a file sink with several tasks
// shows the files its tasks write (payments-0.jsonl, payments-1.jsonl),
// not only the path attribute they derive from, and that a change of the
// number of tasks shows the path although it does not change.
func TestTaskPaths(t *testing.T) {
	src := func(tasks int) string {
		return `
fleet {
  name = "shop"
}
sink "file" "payments_out" {
  topics = ["payments"]
  path   = "out/payments.jsonl"
  tasks  = ` + string(rune('0'+tasks)) + `
}
`
	}
	dir := t.TempDir()
	pathAttr := func(t *testing.T, p *plan.Plan) plan.Attr {
		t.Helper()
		for _, c := range p.Changes {
			for _, a := range c.Attrs {
				if c.Address == "sink.file.payments_out" && a.Path == "path" {
					return a
				}
			}
		}
		t.Fatalf("the plan shows no path attribute of sink.file.payments_out: %v", summary(p))
		return plan.Attr{}
	}

	one := load(t, dir, src(1))
	p, diags := planner.Plan(planner.Input{Config: one, Plugins: registry(t), State: stateOf(t, nil, nil)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if a := pathAttr(t, p); a.Note != "" {
		t.Errorf("one task: note %q; want none", a.Note)
	}

	two := load(t, dir, src(2))
	p, diags = planner.Plan(planner.Input{Config: two, Plugins: registry(t), State: stateOf(t, nil, nil)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if a := pathAttr(t, p); !strings.Contains(a.Note, "each of the 2 tasks uses its own path: payments-0.jsonl, payments-1.jsonl") {
		t.Errorf("two tasks, created: note %q", a.Note)
	}

	// 1 → 2 tasks: the path is unchanged but shown, with the files.
	p, diags = planner.Plan(planner.Input{Config: two, Plugins: registry(t), State: stateOf(t, one, nil)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if a := pathAttr(t, p); a.Changed() || !strings.Contains(a.Note, "payments-0.jsonl, payments-1.jsonl") {
		t.Errorf("1 → 2 tasks: attribute %+v", a)
	}

	// 2 → 1: the one task writes the path itself.
	p, diags = planner.Plan(planner.Input{Config: one, Plugins: registry(t), State: stateOf(t, two, nil)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if a := pathAttr(t, p); !strings.Contains(a.Note, "the one task uses this path itself") {
		t.Errorf("2 → 1 tasks: note %q", a.Note)
	}
}
