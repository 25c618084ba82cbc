package views

import (
	"testing"

	"github.com/pipectl/pipectl/planner/plan"
)

// TestAttrNote checks that an attribute's note (the files the tasks of a
// file sink write) is shown as a comment after its value.
func TestAttrNote(t *testing.T) {
	a := plan.Attr{Path: "path", After: &plan.Value{V: "/x/payments.jsonl"}, Note: "each of the 2 tasks uses its own path: payments-0.jsonl, payments-1.jsonl"}
	got := attrLine(a, 4, plan.Create, false)
	want := `      + path = "/x/payments.jsonl" # each of the 2 tasks uses its own path: payments-0.jsonl, payments-1.jsonl` + "\n"
	if got != want {
		t.Errorf("attrLine =\n%q\nwant\n%q", got, want)
	}
}
