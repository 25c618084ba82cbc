package views

import (
	"encoding/json"
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

// TestAttrNoteInJSON: plan -json carries the same notes, by attribute
// path, so that a tool reviewing the plan sees which files the tasks
// write.
func TestAttrNoteInJSON(t *testing.T) {
	note := "each of the 2 tasks uses its own path: payments-0.jsonl, payments-1.jsonl"
	p := &plan.Plan{Fleet: "shop", Changes: []*plan.Change{{
		Address: "sink.file.payments", Kind: "sink", Type: "file", Name: "payments", Action: plan.Create,
		Attrs: []plan.Attr{
			{Path: "tasks", After: &plan.Value{V: int64(2)}},
			{Path: "path", After: &plan.Value{V: "/x/payments.jsonl"}, Note: note},
		},
	}}}
	v, stdout, _ := testView()
	NewPlan(PlanJSON, v).Plan(p)
	var doc struct {
		ResourceChanges []struct {
			AttributeNotes map[string]string `json:"attribute_notes"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("plan -json: %v\n%s", err, stdout)
	}
	if len(doc.ResourceChanges) != 1 || doc.ResourceChanges[0].AttributeNotes["path"] != note || len(doc.ResourceChanges[0].AttributeNotes) != 1 {
		t.Errorf("attribute_notes = %+v, want {path: %q}", doc.ResourceChanges, note)
	}
}
