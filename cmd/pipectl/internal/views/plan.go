package views

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/planner/plan"
)

// PlanFormat picks the form of a plan view.
type PlanFormat int

// The plan forms.
const (
	PlanHuman PlanFormat = iota
	PlanJSON
	PlanMarkdown
)

// Plan shows the result of `pipectl plan` and the plan apply asks to
// approve.
type Plan interface {
	// Plan shows a plan.
	Plan(p *plan.Plan)
	// Diagnostics shows the problems found loading or planning.
	Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File)
	// Saved says where the plan file was written and how to apply it.
	Saved(path string)
}

// NewPlan returns the plan view of the given form.
func NewPlan(format PlanFormat, v *View) Plan {
	switch format {
	case PlanJSON:
		return &planJSON{v}
	case PlanMarkdown:
		return &planMarkdown{v}
	}
	return &planHuman{v}
}

type planHuman struct{ *View }

func (v *planHuman) Plan(p *plan.Plan) { v.out(renderPlan(p, v.streams.StdoutColor)) }

func (v *planHuman) Saved(path string) {
	v.out(fmt.Sprintf("\nSaved the plan to: %s\n\nTo perform exactly these actions, run:\n  pipectl apply %q\n", path, path))
}

type planJSON struct{ *View }

func (v *planJSON) Plan(p *plan.Plan) { v.json(newPlanDocument(p)) }

// Diagnostics of a JSON view go to stderr in the human form: stdout holds
// one document, the plan, and nothing when there is none.
func (v *planJSON) Saved(string) {}

type planMarkdown struct{ *View }

func (v *planMarkdown) Plan(p *plan.Plan) { v.out(renderMarkdown(p)) }
func (v *planMarkdown) Saved(string)      {}

// ---------------------------------------------------------------------
// Human form

const ruleWidth = 77

// renderPlan renders a plan as Terraform renders one: drift first, the
// symbol legend, one block per changed resource, the summary line, notes.
func renderPlan(p *plan.Plan, color bool) string {
	var sb strings.Builder
	if len(p.Drift) > 0 {
		sb.WriteString("\n" + paint(color, "Note: Objects have changed outside of pipectl", ansiBold) + "\n\n")
		sb.WriteString("pipectl detected the following changes made outside of pipectl since the last \"pipectl apply\":\n")
		for _, c := range p.Drift {
			sb.WriteByte('\n')
			writeChange(&sb, c, true, color)
		}
		sb.WriteString("\nUnless you have made equivalent changes to your configuration, or ignored the relevant attributes using\nignore_changes, the following plan may include actions to undo or respond to these changes.\n\n")
		sb.WriteString(strings.Repeat("─", ruleWidth) + "\n")
	}
	pending := p.Pending()
	if len(pending) == 0 {
		sb.WriteString("\n" + paint(color, "No changes.", ansiBold, ansiGreen) + paint(color, " Your fleet matches the configuration.", ansiBold) + "\n")
		if p.Destroy {
			sb.WriteString("\nThe fleet's state holds nothing to destroy.\n")
		} else {
			sb.WriteString("\npipectl compared the configuration with the fleet's state and found no differences, so no changes are needed.\n")
		}
		writeNotes(&sb, p.Notes, color)
		return sb.String()
	}
	sb.WriteString(fmt.Sprintf("\npipectl used the fleet's state (%s) and the configuration to plan.\nResource actions are indicated with the following symbols:\n", serialText(p.Serial)))
	used := map[plan.Action]bool{}
	for _, c := range pending {
		used[c.Action] = true
	}
	for _, l := range []struct {
		a    plan.Action
		text string
	}{{plan.Create, "create"}, {plan.Update, "update in-place"}, {plan.Replace, "destroy and then create replacement"}, {plan.Delete, "destroy"}} {
		if used[l.a] {
			sb.WriteString(fmt.Sprintf("%s %s\n", paint(color, fmt.Sprintf("%3s", l.a.Symbol()), symbolColor(l.a)...), l.text))
		}
	}
	sb.WriteString("\npipectl will perform the following actions:\n")
	for _, c := range pending {
		sb.WriteByte('\n')
		writeChange(&sb, c, false, color)
	}
	sb.WriteString("\n" + paint(color, summaryLine(p.Summary()), ansiBold) + "\n")
	writeNotes(&sb, p.Notes, color)
	return sb.String()
}

func serialText(serial int64) string {
	if serial < 0 {
		return "never applied"
	}
	return "serial " + strconv.FormatInt(serial, 10)
}

// summaryLine is the plan's last line.
func summaryLine(s plan.Summary) string {
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to replace, %d to destroy.", s.Add, s.Change, s.Replace, s.Destroy)
}

func symbolColor(a plan.Action) []string {
	switch a {
	case plan.Create:
		return []string{ansiGreen}
	case plan.Update:
		return []string{ansiYellow}
	case plan.Replace, plan.Delete:
		return []string{ansiRed}
	}
	return nil
}

func writeNotes(sb *strings.Builder, notes []plan.Note, color bool) {
	if len(notes) == 0 {
		return
	}
	sb.WriteString("\n" + paint(color, "Notes:", ansiBold) + "\n")
	for _, n := range notes {
		sb.WriteString("  - " + n.Message + "\n")
	}
}

// header is the resource's block header: topic "orders",
// source "generator" "orders".
func header(c *plan.Change) string {
	if c.IsDeadLetter() {
		return fmt.Sprintf("dead_letter_topic %q", c.Name)
	}
	if c.IsTopic() {
		return fmt.Sprintf("topic %q", c.Name)
	}
	return fmt.Sprintf("%s %q %q", c.Kind, c.Type, c.Name)
}

// describe is the comment above a resource's block.
func describe(c *plan.Change, drift bool) []string {
	a := c.Address
	if drift {
		if c.Action == plan.Delete {
			return []string{a + " has been deleted"}
		}
		return []string{a + " has changed"}
	}
	var out []string
	switch c.Action {
	case plan.Create:
		out = append(out, a+" will be created")
	case plan.Update:
		out = append(out, a+" will be updated in-place")
	case plan.Replace:
		if c.Reason == plan.ReasonByRequest {
			out = append(out, a+" will be replaced, as requested")
		} else {
			out = append(out, a+" must be replaced")
		}
	case plan.Delete:
		out = append(out, a+" will be destroyed")
		switch {
		case c.Reason == plan.ReasonNoConfig && c.IsDeadLetter():
			out = append(out, "(because no pipeline names it as its dead-letter topic any more)")
		case c.Reason == plan.ReasonNoConfig:
			out = append(out, "(because "+a+" is not in the configuration)")
		}
	case plan.NoOp:
		switch {
		case c.Moved():
			return []string{c.PrevAddress + " has moved to " + a}
		case c.Importing():
			return []string{fmt.Sprintf("%s will be imported from the topic %q", a, c.ImportID)}
		}
	}
	if c.Moved() {
		out = append(out, "(moved from "+c.PrevAddress+")")
	}
	if c.Importing() {
		out = append(out, fmt.Sprintf("(imported from the topic %q)", c.ImportID))
	}
	return out
}

// writeChange writes one resource's block.
func writeChange(sb *strings.Builder, c *plan.Change, drift, color bool) {
	for _, line := range describe(c, drift) {
		sb.WriteString("  " + paint(color, "# "+line, ansiBold) + "\n")
	}
	sym := c.Action.Symbol()
	sb.WriteString(fmt.Sprintf("%s %s {\n", paint(color, fmt.Sprintf("%3s", sym), symbolColor(c.Action)...), header(c)))
	width := 0
	for _, a := range c.Attrs {
		width = max(width, len(a.Path))
	}
	for _, a := range c.Attrs {
		sb.WriteString(attrLine(a, width, c.Action, color))
	}
	if c.Hidden > 0 {
		sb.WriteString(fmt.Sprintf("        # (%s hidden)\n", countOf(c.Hidden, "unchanged attribute", "unchanged attributes")))
	}
	sb.WriteString("    }\n")
	if !drift {
		if o := offsetsText(c); o != "" {
			sb.WriteString("    # " + o + "\n")
		}
		for _, w := range c.Warnings {
			sb.WriteString("    " + paint(color, "# Warning: "+w, ansiYellow) + "\n")
		}
	}
}

func offsetsText(c *plan.Change) string {
	switch c.Offsets {
	case plan.OffsetsKept:
		return "Offsets: kept; the pipeline resumes where it stopped."
	case plan.OffsetsMoved:
		return "Offsets: moved from " + c.PrevAddress + "; the pipeline resumes where it stopped."
	case plan.OffsetsReset:
		return "Offsets: reset; the new pipeline starts over (start_from or the beginning of its input)."
	case plan.OffsetsDeleted:
		return "Offsets: deleted with the pipeline."
	case plan.OffsetsImported:
		if c.ConnectOffsetsFrom != nil {
			return connectOffsetsText(c.ConnectOffsetsFrom)
		}
		return importedOffsetsText(c.OffsetsFrom)
	}
	return ""
}

// connectOffsetsText says where a new source starts: the offsets its Kafka
// Connect connector saved, per source partition where plan read them.
func connectOffsetsText(o *plan.ConnectOffsets) string {
	s := fmt.Sprintf("Offsets: imported from Kafka Connect's offsets topic %q (connector %q) before the source starts", o.Topic, o.Connector)
	if len(o.Offsets) == 0 {
		return s + "."
	}
	parts := make([]string, len(o.Offsets))
	for i, so := range o.Offsets {
		p, _ := json.Marshal(so.Partition)
		v, _ := json.Marshal(so.Offset)
		parts[i] = string(p) + " at " + string(v)
	}
	return s + ": " + strings.Join(parts, ", ") + "."
}

// importedOffsetsText says where a new sink starts: the offsets of the
// consumer group an import block names, per topic-partition where plan
// read them.
func importedOffsetsText(g *plan.GroupOffsets) string {
	if g == nil {
		return ""
	}
	s := fmt.Sprintf("Offsets: copied from consumer group %q before the sink starts", g.Group)
	if len(g.Partitions) == 0 {
		return s + "."
	}
	parts := make([]string, len(g.Partitions))
	for i, p := range g.Partitions {
		parts[i] = fmt.Sprintf("%s[%d] at %d", p.Topic, p.Partition, p.Offset)
	}
	return s + ": " + strings.Join(parts, ", ") + "."
}

// attrLine writes one attribute of a block.
func attrLine(a plan.Attr, width int, action plan.Action, color bool) string {
	pad := a.Path + strings.Repeat(" ", width-len(a.Path))
	var sym, text string
	switch {
	case a.Before == nil && a.After != nil:
		sym, text = "+", formatAttrValue(a.After)
	case a.After == nil && a.Before != nil:
		sym, text = "-", formatAttrValue(a.Before)+" -> null"
	case a.Changed():
		sym, text = "~", formatAttrValue(a.Before)+" -> "+formatAttrValue(a.After)
	default:
		sym, text = " ", formatAttrValue(a.After)
	}
	if action == plan.NoOp {
		sym = " "
	}
	line := fmt.Sprintf("      %s %s = %s", paint(color, sym, symbolColor(symAction(sym))...), pad, text)
	if a.ForcesReplacement {
		line += paint(color, " # forces replacement", ansiRed)
	}
	if a.Note != "" {
		line += " # " + a.Note
	}
	return line + "\n"
}

func symAction(sym string) plan.Action {
	switch sym {
	case "+":
		return plan.Create
	case "-":
		return plan.Delete
	case "~":
		return plan.Update
	}
	return plan.NoOp
}

// formatAttrValue renders a value in HCL syntax; a sensitive value as
// (sensitive value).
func formatAttrValue(v *plan.Value) string {
	if v == nil {
		return "null"
	}
	if v.Sensitive {
		return "(sensitive value)"
	}
	return hclValue(v.V)
}

func hclValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = hclValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + " = " + hclValue(v[k])
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ---------------------------------------------------------------------
// Markdown form, for a pull-request comment

func renderMarkdown(p *plan.Plan) string {
	var sb strings.Builder
	sb.WriteString(fmt.Sprintf("#### pipectl plan: fleet `%s` (%s)\n\n", p.Fleet, serialText(p.Serial)))
	pending := p.Pending()
	if len(pending) == 0 {
		sb.WriteString("**No changes.** Your fleet matches the configuration.\n")
	} else {
		sb.WriteString("**" + summaryLine(p.Summary()) + "**\n\n")
		sb.WriteString("| | Resource | Action | Details |\n| --- | --- | --- | --- |\n")
		for _, c := range pending {
			sb.WriteString(fmt.Sprintf("| `%s` | `%s` | %s | %s |\n", c.Action.Symbol(), c.Address, actionText(c), mdCell(detailText(c))))
		}
	}
	if len(p.Drift) > 0 {
		var addrs []string
		for _, d := range p.Drift {
			addrs = append(addrs, "`"+d.Address+"`")
		}
		sb.WriteString("\n> [!WARNING]\n> Objects have changed outside of pipectl: " + strings.Join(addrs, ", ") + ".\n")
	}
	if len(p.Notes) > 0 {
		sb.WriteString("\n> [!NOTE]\n")
		for _, n := range p.Notes {
			sb.WriteString("> " + mdCell(n.Message) + "\n")
		}
	}
	if len(p.Drift) > 0 {
		var body strings.Builder
		for i, d := range p.Drift {
			if i > 0 {
				body.WriteByte('\n')
			}
			writeChange(&body, d, true, false)
		}
		writeDetails(&sb, "Objects changed outside of pipectl", body.String())
	}
	for _, c := range pending {
		var body strings.Builder
		writeChange(&body, c, false, false)
		writeDetails(&sb, fmt.Sprintf("<code>%s %s</code> %s", htmlEscape(c.Action.Symbol()), htmlEscape(c.Address), htmlEscape(actionText(c))), body.String())
	}
	return sb.String()
}

func writeDetails(sb *strings.Builder, summary, body string) {
	sb.WriteString("\n<details><summary>" + summary + "</summary>\n\n```diff\n")
	sb.WriteString(diffMarkers(body))
	sb.WriteString("```\n\n</details>\n")
}

// diffMarkers moves each line's action symbol to the first column, so
// that a diff code block colours it: + and - as they are, ~ and -/+ as !.
// Every line of a plan block starts with a space or a symbol, so the other
// lines are context lines as they are.
func diffMarkers(body string) string {
	var sb strings.Builder
	for _, line := range strings.SplitAfter(body, "\n") {
		if line == "" {
			continue
		}
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		marker := " "
		switch {
		case strings.HasPrefix(trimmed, "-/+ "):
			marker = "!"
		case strings.HasPrefix(trimmed, "+ "):
			marker = "+"
		case strings.HasPrefix(trimmed, "- "):
			marker = "-"
		case strings.HasPrefix(trimmed, "~ "):
			marker = "!"
		}
		if marker != " " {
			sym, _, _ := strings.Cut(trimmed, " ")
			line = marker + strings.Repeat(" ", indent+len(sym)-1) + strings.TrimPrefix(trimmed, sym)
		}
		sb.WriteString(line)
	}
	return sb.String()
}

func actionText(c *plan.Change) string {
	switch c.Action {
	case plan.Create:
		return "create"
	case plan.Update:
		return "update in-place"
	case plan.Replace:
		return "replace"
	case plan.Delete:
		return "destroy"
	}
	switch {
	case c.Moved():
		return "move"
	case c.Importing():
		return "import"
	}
	return "no-op"
}

// detailText is the table's details cell: what changes and what it costs.
func detailText(c *plan.Change) string {
	var parts []string
	if c.Moved() {
		parts = append(parts, "moved from `"+c.PrevAddress+"`")
	}
	if c.Importing() {
		parts = append(parts, "imports `"+c.ImportID+"`")
	}
	if c.Action == plan.Update || c.Action == plan.Replace {
		var changed, forcing []string
		for _, a := range c.Attrs {
			if !a.Changed() {
				continue
			}
			if a.ForcesReplacement {
				forcing = append(forcing, "`"+a.Path+"`")
			} else {
				changed = append(changed, "`"+a.Path+"`")
			}
		}
		if len(forcing) > 0 {
			parts = append(parts, strings.Join(forcing, ", ")+" forces replacement")
		}
		if len(changed) > 0 {
			parts = append(parts, strings.Join(changed, ", "))
		}
		if c.Reason == plan.ReasonByRequest {
			parts = append(parts, "replacement requested")
		}
	}
	switch c.Offsets {
	case plan.OffsetsReset:
		parts = append(parts, "offsets reset")
	case plan.OffsetsMoved:
		parts = append(parts, "offsets moved")
	case plan.OffsetsDeleted:
		parts = append(parts, "offsets deleted")
	case plan.OffsetsImported:
		if c.ConnectOffsetsFrom != nil {
			parts = append(parts, "offsets from Kafka Connect's `"+c.ConnectOffsetsFrom.Topic+"`")
		} else if c.OffsetsFrom != nil {
			parts = append(parts, "offsets from `"+c.OffsetsFrom.Group+"`")
		}
	}
	if c.IsTopic() && (c.Action == plan.Delete || c.Action == plan.Replace) && c.Before != nil {
		parts = append(parts, "⚠️ deletes the records of `"+c.Before.Topic.Name+"`")
	}
	return strings.Join(parts, "; ")
}

func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// ---------------------------------------------------------------------
// JSON form: schemas/plan.schema.json

// planDocument is what `pipectl plan -json` and `pipectl show -json FILE`
// print. It changes only together with schemas/plan.schema.json.
type planDocument struct {
	FormatVersion   string           `json:"format_version"`
	Fleet           string           `json:"fleet"`
	Serial          int64            `json:"serial"`
	ConfigHash      string           `json:"config_hash"`
	Destroy         bool             `json:"destroy"`
	Refreshed       bool             `json:"refreshed"`
	Targets         []string         `json:"targets"`
	Replace         []string         `json:"replace"`
	ResourceChanges []resourceChange `json:"resource_changes"`
	ResourceDrift   []resourceChange `json:"resource_drift"`
	Notes           []plan.Note      `json:"notes"`
	Summary         planSummary      `json:"summary"`
	Changes         bool             `json:"changes"`
}

type planSummary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Replace int `json:"replace"`
	Destroy int `json:"destroy"`
	Move    int `json:"move"`
	Import  int `json:"import"`
}

type resourceChange struct {
	Address         string     `json:"address"`
	PreviousAddress string     `json:"previous_address,omitempty"`
	Type            string     `json:"type"`
	PluginType      string     `json:"plugin_type,omitempty"`
	Name            string     `json:"name"`
	Actions         []string   `json:"actions"`
	Before          any        `json:"before"`
	After           any        `json:"after"`
	BeforeSensitive any        `json:"before_sensitive"`
	AfterSensitive  any        `json:"after_sensitive"`
	ReplacePaths    [][]string `json:"replace_paths,omitempty"`
	ActionReason    string     `json:"action_reason,omitempty"`
	Importing       *importing `json:"importing,omitempty"`
	Offsets         string     `json:"offsets,omitempty"`
	// OffsetsFrom: with offsets "imported", the consumer group whose
	// offsets the new sink starts from.
	OffsetsFrom *plan.GroupOffsets `json:"offsets_from,omitempty"`
	// ConnectOffsetsFrom: with offsets "imported" on a source, the Kafka
	// Connect offsets it starts from.
	ConnectOffsetsFrom *plan.ConnectOffsets `json:"connect_offsets_from,omitempty"`
	Warnings           []string             `json:"warnings,omitempty"`
	// AttributeNotes are what the text plan shows as a comment beside an
	// attribute (the paths the tasks of a file sink use), by path.
	AttributeNotes map[string]string `json:"attribute_notes,omitempty"`
}

type importing struct {
	ID string `json:"id"`
}

func newPlanDocument(p *plan.Plan) planDocument {
	s := p.Summary()
	doc := planDocument{
		FormatVersion: jsonFormatVersion, Fleet: p.Fleet, Serial: p.Serial, ConfigHash: p.ConfigHash,
		Destroy: p.Destroy, Refreshed: p.Refreshed, Targets: nonNil(p.Targets), Replace: nonNil(p.Replace),
		ResourceChanges: []resourceChange{}, ResourceDrift: []resourceChange{}, Notes: p.Notes,
		Summary: planSummary{s.Add, s.Change, s.Replace, s.Destroy, s.Move, s.Import},
		Changes: p.HasChanges(),
	}
	if doc.Notes == nil {
		doc.Notes = []plan.Note{}
	}
	for _, c := range p.Changes {
		doc.ResourceChanges = append(doc.ResourceChanges, newResourceChange(c))
	}
	for _, c := range p.Drift {
		doc.ResourceDrift = append(doc.ResourceDrift, newResourceChange(c))
	}
	return doc
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func newResourceChange(c *plan.Change) resourceChange {
	rc := resourceChange{
		Address: c.Address, PreviousAddress: c.PrevAddress, Type: c.Kind, PluginType: c.Type, Name: c.Name,
		Actions: c.Action.Actions(), ReplacePaths: c.ReplacePaths, ActionReason: string(c.Reason),
		Offsets: string(c.Offsets), OffsetsFrom: c.OffsetsFrom, ConnectOffsetsFrom: c.ConnectOffsetsFrom, Warnings: c.Warnings,
	}
	rc.Before, rc.BeforeSensitive, rc.After, rc.AfterSensitive = nil, false, nil, false
	if c.Before != nil {
		rc.Before, rc.BeforeSensitive = specValues(c.Before)
	}
	if c.After != nil {
		rc.After, rc.AfterSensitive = specValues(c.After)
	}
	if c.Importing() {
		rc.Importing = &importing{ID: c.ImportID}
	}
	for _, a := range c.Attrs {
		if a.Note == "" {
			continue
		}
		if rc.AttributeNotes == nil {
			rc.AttributeNotes = map[string]string{}
		}
		rc.AttributeNotes[a.Path] = a.Note
	}
	return rc
}

// specValues returns a resource's spec as plain JSON with every sensitive
// value replaced by null, and the mirror object that marks where they
// were (Terraform's before_sensitive/after_sensitive).
func specValues(r any) (any, any) {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("encode a plan resource: %v", err))
	}
	var res map[string]any
	if err := json.Unmarshal(b, &res); err != nil {
		panic(fmt.Sprintf("decode a plan resource: %v", err))
	}
	spec := res["topic"]
	if spec == nil {
		spec = res["pipeline"]
	}
	values, marks := redact(spec)
	if marks == nil {
		marks = map[string]any{}
	}
	return values, marks
}

// redact replaces sealed secrets ({"$secret": {...}}) by null and returns
// the sensitivity mirror: true where a secret was, objects and lists on
// the way to one, nil where none is below.
func redact(v any) (any, any) {
	switch v := v.(type) {
	case map[string]any:
		if _, secret := v["$secret"]; secret && len(v) == 1 {
			return nil, true
		}
		out := map[string]any{}
		var marks map[string]any
		for k, e := range v {
			val, m := redact(e)
			out[k] = val
			if m != nil {
				if marks == nil {
					marks = map[string]any{}
				}
				marks[k] = m
			}
		}
		if marks == nil {
			return out, nil
		}
		return out, marks
	case []any:
		out := make([]any, len(v))
		var marks []any
		found := false
		for i, e := range v {
			val, m := redact(e)
			out[i] = val
			if m != nil {
				found = true
			}
			marks = append(marks, orFalse(m))
		}
		if !found {
			return out, nil
		}
		return out, marks
	}
	return v, nil
}

func orFalse(m any) any {
	if m == nil {
		return false
	}
	return m
}

// countOf is "1 task" or "3 tasks".
func countOf(n int, one, many string) string { return strconv.Itoa(n) + " " + plural(n, one, many) }
