package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/planner/plan"
)

// Apply shows `pipectl apply` and `pipectl destroy`: the plan to approve,
// the question, the progress of every operation, and the outcome. Its
// progress methods are the planner's apply hooks.
type Apply interface {
	// Plan shows the plan before it is applied.
	Plan(p *plan.Plan)
	// Prompt asks for approval; the command reads the answer.
	Prompt(destroy bool)
	// Cancelled says the answer was not yes.
	Cancelled(destroy bool)
	Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File)

	OpStart(address string, op plan.Op)
	OpDone(address string, op plan.Op, elapsed time.Duration, id string)
	Committed(serial int64, changes int)
	Waiting(address string, tasks int)
	Running(address string, tasks int, elapsed time.Duration)
	Info(message string)
	Warn(message string)

	// Complete reports a finished apply with what it did.
	Complete(s plan.Summary, serial int64, committed, destroy bool)
}

// NewApply returns the JSON form of the view (one JSON object per line,
// as they happen) when json is set, else the human form.
func NewApply(json bool, v *View) Apply {
	if json {
		return &applyJSON{v}
	}
	return &applyHuman{v}
}

type applyHuman struct{ *View }

func (v *applyHuman) Plan(p *plan.Plan) { v.out(renderPlan(p, v.streams.StdoutColor)) }

func (v *applyHuman) Prompt(destroy bool) {
	if destroy {
		v.out("\n" + paint(v.streams.StdoutColor, "Do you really want to destroy all resources?", ansiBold) +
			"\n  pipectl will destroy every resource of the fleet shown above, with the records of its topics.\n  There is no undo. Only 'yes' will be accepted to confirm.\n\n  Enter a value: ")
		return
	}
	v.out("\n" + paint(v.streams.StdoutColor, "Do you want to perform these actions?", ansiBold) +
		"\n  pipectl will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
}

func (v *applyHuman) Cancelled(destroy bool) {
	what := "Apply"
	if destroy {
		what = "Destroy"
	}
	v.out("\n" + what + " cancelled.\n")
}

var opWords = map[plan.Op][2]string{
	plan.OpCreate:  {"Creating...", "Creation complete"},
	plan.OpModify:  {"Modifying...", "Modifications complete"},
	plan.OpDestroy: {"Destroying...", "Destruction complete"},
}

func (v *applyHuman) OpStart(address string, op plan.Op) {
	v.out(paint(v.streams.StdoutColor, address+": ", ansiBold) + opWords[op][0] + "\n")
}

func (v *applyHuman) OpDone(address string, op plan.Op, elapsed time.Duration, id string) {
	v.out(fmt.Sprintf("%s%s after %s [name=%s]\n", paint(v.streams.StdoutColor, address+": ", ansiBold), opWords[op][1], seconds(elapsed), id))
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
}

func (v *applyHuman) Committed(serial int64, changes int) {
	v.out(fmt.Sprintf("Committed %s to the fleet's state (serial %d).\n", countOf(changes, "change", "changes"), serial))
}

func (v *applyHuman) Waiting(address string, tasks int) {
	v.out(fmt.Sprintf("%sWaiting for %s to run...\n", paint(v.streams.StdoutColor, address+": ", ansiBold), countOf(tasks, "task", "tasks")))
}

func (v *applyHuman) Running(address string, tasks int, elapsed time.Duration) {
	v.out(fmt.Sprintf("%sRunning after %s (%s)\n", paint(v.streams.StdoutColor, address+": ", ansiBold), seconds(elapsed), countOf(tasks, "task", "tasks")))
}

func (v *applyHuman) Info(message string) { v.out(message + "\n") }

func (v *applyHuman) Warn(message string) {
	v.err(paint(v.streams.StderrColor, "Warning: ", ansiBold, ansiYellow) + message + "\n")
}

func (v *applyHuman) Complete(s plan.Summary, serial int64, committed, destroy bool) {
	c := v.streams.StdoutColor
	switch {
	case destroy:
		v.out("\n" + paint(c, fmt.Sprintf("Destroy complete! Resources: %d destroyed.", s.Destroy), ansiBold, ansiGreen) + "\n")
	case !committed:
		v.out("\n" + paint(c, "Apply complete! Resources: 0 added, 0 changed, 0 replaced, 0 destroyed.", ansiBold, ansiGreen) + "\n")
	default:
		v.out("\n" + paint(c, fmt.Sprintf("Apply complete! Resources: %d added, %d changed, %d replaced, %d destroyed.", s.Add, s.Change, s.Replace, s.Destroy), ansiBold, ansiGreen) + "\n")
	}
	_ = serial
}

// applyJSON prints one JSON object per line, each with a type.
type applyJSON struct{ *View }

type applyEvent struct {
	Type    string         `json:"type"`
	Level   string         `json:"@level"`
	Message string         `json:"@message"`
	Address string         `json:"address,omitempty"`
	Fields  map[string]any `json:"fields,omitempty"`
}

func (v *applyJSON) line(e applyEvent) {
	if e.Level == "" {
		e.Level = "info"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		panic(fmt.Sprintf("encode JSON output: %v", err))
	}
	v.out(buf.String())
}

func (v *applyJSON) Plan(p *plan.Plan) {
	for _, c := range p.Pending() {
		v.line(applyEvent{Type: "planned_change", Message: c.Address + ": Plan to " + strings.Join(c.Action.Actions(), ", then "), Address: c.Address,
			Fields: map[string]any{"actions": c.Action.Actions(), "previous_address": c.PrevAddress, "import_id": c.ImportID}})
	}
	s := p.Summary()
	v.line(applyEvent{Type: "change_summary", Message: summaryLine(s), Fields: map[string]any{"operation": "plan", "add": s.Add, "change": s.Change, "replace": s.Replace, "destroy": s.Destroy}})
}

func (v *applyJSON) Prompt(bool)    {}
func (v *applyJSON) Cancelled(bool) {}

func (v *applyJSON) Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) {
	for _, d := range newJSONDiagnostics(diags, files) {
		level := "error"
		if d.Severity == "warning" {
			level = "warn"
		}
		v.line(applyEvent{Type: "diagnostic", Level: level, Message: d.Summary, Fields: map[string]any{"diagnostic": d}})
	}
}

var opTypes = map[plan.Op]string{plan.OpCreate: "create", plan.OpModify: "update", plan.OpDestroy: "delete"}

func (v *applyJSON) OpStart(address string, op plan.Op) {
	v.line(applyEvent{Type: "apply_start", Message: address + ": " + opWords[op][0], Address: address, Fields: map[string]any{"action": opTypes[op]}})
}

func (v *applyJSON) OpDone(address string, op plan.Op, elapsed time.Duration, id string) {
	v.line(applyEvent{Type: "apply_complete", Message: fmt.Sprintf("%s: %s after %s [name=%s]", address, opWords[op][1], seconds(elapsed), id), Address: address,
		Fields: map[string]any{"action": opTypes[op], "elapsed_seconds": elapsed.Seconds(), "id": id}})
}

func (v *applyJSON) Committed(serial int64, changes int) {
	v.line(applyEvent{Type: "commit", Message: fmt.Sprintf("Committed %s to the fleet's state (serial %d).", countOf(changes, "change", "changes"), serial),
		Fields: map[string]any{"serial": serial, "changes": changes}})
}

func (v *applyJSON) Waiting(address string, tasks int) {
	v.line(applyEvent{Type: "pipeline_waiting", Message: fmt.Sprintf("%s: Waiting for %s to run...", address, countOf(tasks, "task", "tasks")), Address: address, Fields: map[string]any{"tasks": tasks}})
}

func (v *applyJSON) Running(address string, tasks int, elapsed time.Duration) {
	v.line(applyEvent{Type: "pipeline_running", Message: fmt.Sprintf("%s: Running after %s", address, seconds(elapsed)), Address: address,
		Fields: map[string]any{"tasks": tasks, "elapsed_seconds": elapsed.Seconds()}})
}

func (v *applyJSON) Info(message string) { v.line(applyEvent{Type: "info", Message: message}) }

func (v *applyJSON) Warn(message string) {
	v.line(applyEvent{Type: "warning", Level: "warn", Message: message})
}

func (v *applyJSON) Complete(s plan.Summary, serial int64, committed, destroy bool) {
	op := "apply"
	if destroy {
		op = "destroy"
	}
	msg := fmt.Sprintf("Apply complete! Resources: %d added, %d changed, %d replaced, %d destroyed.", s.Add, s.Change, s.Replace, s.Destroy)
	if !committed {
		msg = "Apply complete! Resources: 0 added, 0 changed, 0 replaced, 0 destroyed."
		s = plan.Summary{}
	}
	if destroy {
		msg = fmt.Sprintf("Destroy complete! Resources: %d destroyed.", s.Destroy)
	}
	v.line(applyEvent{Type: "change_summary", Message: msg, Fields: map[string]any{"operation": op, "add": s.Add, "change": s.Change, "replace": s.Replace, "destroy": s.Destroy, "serial": serial}})
}
