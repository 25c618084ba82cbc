package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/pipectl/pipectl/planner/plan"
)

// Show shows `pipectl show`: a saved plan, or the fleet's current state.
type Show interface {
	// Plan shows a saved plan as plan shows it.
	Plan(p *plan.Plan)
	// State shows the state.
	State(s State)
}

// State is the fleet's state as show prints it: every resource as a
// change without action (all its attributes, sensitive ones redacted).
type State struct {
	Fleet     string
	Serial    int64
	Time      time.Time // of the last commit; zero when never applied
	By        string
	Resources []*plan.Change
}

// NewShow returns the JSON form of the view when json is set, else the
// human form.
func NewShow(json bool, v *View) Show {
	if json {
		return &showJSON{v}
	}
	return &showHuman{v}
}

type showHuman struct{ *View }

func (v *showHuman) Plan(p *plan.Plan) { v.out(renderPlan(p, v.streams.StdoutColor)) }

func (v *showHuman) State(s State) {
	if s.Serial < 0 {
		v.out(fmt.Sprintf("The fleet %q has never been applied: its state is empty.\n", s.Fleet))
		return
	}
	var sb strings.Builder
	for _, c := range s.Resources {
		sb.WriteString(fmt.Sprintf("# %s:\n%s {\n", c.Address, header(c)))
		width := 0
		for _, a := range c.Attrs {
			width = max(width, len(a.Path))
		}
		for _, a := range c.Attrs {
			sb.WriteString(fmt.Sprintf("    %s%s = %s\n", a.Path, strings.Repeat(" ", width-len(a.Path)), formatAttrValue(a.After)))
		}
		sb.WriteString("}\n\n")
	}
	by := ""
	if s.By != "" {
		by = " by " + s.By
	}
	sb.WriteString(fmt.Sprintf("Fleet %q at serial %d, applied %s%s: %s.\n", s.Fleet, s.Serial,
		s.Time.UTC().Format("2006-01-02 15:04:05 UTC"), by, countOf(len(s.Resources), "resource", "resources")))
	v.out(sb.String())
}

type showJSON struct{ *View }

func (v *showJSON) Plan(p *plan.Plan) { v.json(newPlanDocument(p)) }

// stateDocument is what `pipectl show -json` prints without a plan file.
type stateDocument struct {
	FormatVersion string          `json:"format_version"`
	Fleet         string          `json:"fleet"`
	Serial        int64           `json:"serial"`
	AppliedAt     *time.Time      `json:"applied_at"`
	AppliedBy     string          `json:"applied_by,omitempty"`
	Resources     []stateResource `json:"resources"`
}

type stateResource struct {
	Address         string `json:"address"`
	Type            string `json:"type"`
	PluginType      string `json:"plugin_type,omitempty"`
	Name            string `json:"name"`
	Values          any    `json:"values"`
	SensitiveValues any    `json:"sensitive_values"`
}

func (v *showJSON) State(s State) {
	doc := stateDocument{FormatVersion: jsonFormatVersion, Fleet: s.Fleet, Serial: s.Serial, AppliedBy: s.By, Resources: []stateResource{}}
	if !s.Time.IsZero() {
		t := s.Time.UTC()
		doc.AppliedAt = &t
	}
	for _, c := range s.Resources {
		r := stateResource{Address: c.Address, Type: c.Kind, PluginType: c.Type, Name: c.Name}
		r.Values, r.SensitiveValues = specValues(c.After)
		doc.Resources = append(doc.Resources, r)
	}
	v.json(doc)
}
