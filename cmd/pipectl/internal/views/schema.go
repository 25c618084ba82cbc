package views

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/pipectl/pipectl/lang/configschema"
)

// SchemaDoc is what `pipectl schema` shows of one plugin type: its own
// schema and, for sources and sinks, the attributes, blocks and group the
// language gives every pipeline (a sink's topics and topics_regex).
type SchemaDoc struct {
	*configschema.Schema
	CommonAttributes   []configschema.Attribute `json:"common_attributes,omitempty"`
	CommonBlocks       []configschema.Block     `json:"common_blocks,omitempty"`
	CommonExactlyOneOf [][]string               `json:"common_exactly_one_of,omitempty"`
}

// Schema shows plugin schemas.
type Schema interface {
	// List shows every registered plugin type.
	List(docs []SchemaDoc)
	// Show shows one plugin type in full.
	Show(doc SchemaDoc)
}

// NewSchema returns the JSON form of the view when json is set, else the
// human form.
func NewSchema(json bool, v *View) Schema {
	if json {
		return &schemaJSON{v}
	}
	return &schemaHuman{v}
}

type schemaJSON struct{ *View }

func (v *schemaJSON) List(docs []SchemaDoc) {
	if docs == nil {
		docs = []SchemaDoc{}
	}
	v.json(struct {
		FormatVersion string      `json:"format_version"`
		Schemas       []SchemaDoc `json:"schemas"`
	}{jsonFormatVersion, docs})
}

func (v *schemaJSON) Show(doc SchemaDoc) {
	v.json(struct {
		FormatVersion string `json:"format_version"`
		SchemaDoc
	}{jsonFormatVersion, doc})
}

type schemaHuman struct{ *View }

// listWidth is the width the one-line descriptions of List are cut to.
const listWidth = 80

func (v *schemaHuman) List(docs []SchemaDoc) {
	nameWidth := 0
	for _, d := range docs {
		nameWidth = max(nameWidth, len(d.Address()))
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 3, ' ', 0)
	for _, d := range docs {
		fmt.Fprintf(tw, "%s\t%s\n", d.Address(), truncate(firstSentence(d.Description), listWidth-nameWidth-3))
	}
	tw.Flush()
	sb.WriteString("\nRun \"pipectl schema KIND.TYPE\" for the attributes of one type.\n")
	v.out(sb.String())
}

func (v *schemaHuman) Show(doc SchemaDoc) {
	var sb strings.Builder
	sb.WriteString(paint(v.streams.StdoutColor, doc.Address(), ansiBold) + "\n")
	if doc.Description != "" {
		sb.WriteString("\n" + wrapIndent(doc.Description, "") + "\n")
	}
	writeAttributes(&sb, "Attributes", doc.Attributes, "  ")
	writeBlocks(&sb, "Blocks", doc.Blocks, "  ")
	writeRules(&sb, "Rules", doc.GroupConstraints())
	every := fmt.Sprintf("every %s", doc.Kind)
	writeAttributes(&sb, "Attributes of "+every, doc.CommonAttributes, "  ")
	writeBlocks(&sb, "Blocks of "+every, doc.CommonBlocks, "  ")
	writeRules(&sb, "Rules of "+every, (&configschema.Schema{ExactlyOneOf: doc.CommonExactlyOneOf}).GroupConstraints())
	v.out(sb.String())
}

// writeRules lists the rules between attributes, one a line.
func writeRules(sb *strings.Builder, title string, rules []string) {
	if len(rules) == 0 {
		return
	}
	sb.WriteString("\n" + title + " (an attribute at its default counts as unset):\n\n")
	for _, r := range rules {
		sb.WriteString(wrapIndent(r, "  ") + "\n")
	}
}

func writeAttributes(sb *strings.Builder, title string, attrs []configschema.Attribute, indent string) {
	if len(attrs) == 0 {
		return
	}
	if title != "" {
		sb.WriteString("\n" + title + ":\n")
	}
	for _, a := range attrs {
		sb.WriteString("\n" + indent + a.Name + " (" + attributeTraits(a) + ")\n")
		more := indent + "  "
		if len(a.Enum) > 0 {
			sb.WriteString(more + "One of " + quoteList(a.Enum) + ".\n")
		}
		if len(a.ExprVars) > 0 {
			sb.WriteString(more + "Variables:\n")
			for _, ev := range a.ExprVars {
				line := fmt.Sprintf("%s (%s)", ev.Name, ev.Type)
				if ev.Description != "" {
					line += ": " + ev.Description
				}
				sb.WriteString(wrapIndent(line, more+"  ") + "\n")
			}
		}
		if a.Description != "" {
			sb.WriteString(wrapIndent(a.Description, more) + "\n")
		}
	}
}

func writeBlocks(sb *strings.Builder, title string, blocks []configschema.Block, indent string) {
	if len(blocks) == 0 {
		return
	}
	sb.WriteString("\n" + title + ":\n")
	for _, b := range blocks {
		sb.WriteString("\n" + indent + b.Name + " { ... }\n")
		if b.Description != "" {
			sb.WriteString(wrapIndent(b.Description, indent+"  ") + "\n")
		}
		writeAttributes(sb, "", b.Attributes, indent+"  ")
		writeBlocks(sb, "Blocks of "+b.Name, b.Blocks, indent+"  ")
	}
}

// attributeTraits is "string, optional, default \"x\", sensitive, ...".
func attributeTraits(a configschema.Attribute) string {
	traits := []string{string(a.Type)}
	if a.Required {
		traits = append(traits, "required")
	} else {
		traits = append(traits, "optional")
	}
	if a.Default != nil {
		traits = append(traits, "default "+formatValue(a.Default))
	}
	traits = append(traits, a.Constraints()...)
	if a.Sensitive {
		traits = append(traits, "sensitive")
	}
	if a.ForcesReplacement {
		traits = append(traits, "forces replacement")
	}
	return strings.Join(traits, ", ")
}

// formatValue renders a default value the way it is written in HCL.
func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []string:
		return "[" + quoteList(v) + "]"
	case map[string]string:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q = %q", k, v[k])
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return fmt.Sprint(v)
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// wrapIndent wraps text at detailWidth with every line indented.
func wrapIndent(text, indent string) string {
	wrapped := wrapDetail(text, uint(max(detailWidth-len(indent), 20)))
	lines := strings.Split(wrapped, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = indent + l
		}
	}
	return strings.Join(lines, "\n")
}

// firstSentence cuts a description at the end of its first sentence or
// clause.
func firstSentence(s string) string {
	for _, sep := range []string{". ", "; "} {
		if i := strings.Index(s, sep); i >= 0 {
			s = s[:i]
		}
	}
	return strings.TrimSuffix(s, ".")
}

// truncate cuts s to at most width characters, marking the cut with "…".
func truncate(s string, width int) string {
	if width < 2 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)[:width-1]
	return strings.TrimRight(string(r), " ,;") + "…"
}
