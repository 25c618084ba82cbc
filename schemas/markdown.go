package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
)

var kindTitles = map[configschema.Kind]string{
	configschema.Source:    "Sources",
	configschema.Sink:      "Sinks",
	configschema.Converter: "Converters",
}

// pluginDocs renders docs/plugins.md: one section per plugin, grouped by
// kind, and the common attributes once per kind that has them.
func pluginDocs(plugins []*configschema.Schema) []byte {
	var b bytes.Buffer
	b.WriteString("<!-- " + generatedComment + " -->\n\n")
	b.WriteString("# Plugin reference\n\n")
	b.WriteString("The configuration of every built-in plugin, generated from the schema each plugin declares. ")
	b.WriteString("The same schemas are published as JSON Schema in [`schemas/plugins/`](../schemas/plugins/); ")
	b.WriteString("`pipectl schema KIND.TYPE` prints one of them.\n\n")
	b.WriteString("`pipectl validate` checks every rule shown here, and reports a broken one with the file, line and column of the attribute: ")
	b.WriteString("required attributes, enums (one of), minimums and maximums, durations (Go syntax, never negative, at least the minimum where one is shown), ")
	b.WriteString("values that must not be empty, RE2 regular expressions, glob patterns, paths that must exist ")
	b.WriteString("(relative paths start at the configuration directory; for a glob, the directory before its first wildcard must exist), ")
	b.WriteString("and the rules between attributes listed under a plugin. The worker checks them again before a task starts. ")
	b.WriteString("An attribute set to its default counts as unset in those rules; the JSON Schemas count any property that is present.\n")

	for _, kind := range configschema.Kinds() {
		var ofKind []*configschema.Schema
		for _, s := range plugins {
			if s.Kind == kind {
				ofKind = append(ofKind, s)
			}
		}
		if len(ofKind) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n", kindTitles[kind])
		for _, s := range ofKind {
			title := pluginTitle(s)
			fmt.Fprintf(&b, "- [%s](#%s)\n", title, anchor(title))
		}
		common := "Common attributes of every " + string(kind)
		if hasCommon(kind) {
			fmt.Fprintf(&b, "- [%s](#%s)\n", common, anchor(common))
		}
		for _, s := range ofKind {
			fmt.Fprintf(&b, "\n### %s\n\n", pluginTitle(s))
			fmt.Fprintf(&b, "%s\n\n", s.Description)
			fmt.Fprintf(&b, "JSON Schema: [`%s`](../%s)", PluginSchemaPath(s), PluginSchemaPath(s))
			if hasCommon(kind) {
				fmt.Fprintf(&b, ". Every %s also takes the [common attributes](#%s)", kind, anchor(common))
			}
			b.WriteString(".\n\n")
			writeGroups(&b, s)
			writeBody(&b, "####", s.Attributes, s.Blocks)
		}
		if hasCommon(kind) {
			fmt.Fprintf(&b, "\n### %s\n\n", common)
			fmt.Fprintf(&b, "Every `%s` block takes these besides its plugin's own attributes.\n\n", kind)
			cs := lang.CommonSchema(kind)
			writeGroups(&b, cs)
			writeBody(&b, "####", cs.Attributes, cs.Blocks)
		}
	}
	b.WriteString(recordSchemasDoc)
	return b.Bytes()
}

// writeGroups lists the schema's attribute groups, if it has any.
func writeGroups(b *bytes.Buffer, s *configschema.Schema) {
	rules := s.GroupConstraints()
	if len(rules) == 0 {
		return
	}
	b.WriteString("Rules (an attribute at its default counts as unset):\n\n")
	for _, r := range rules {
		fmt.Fprintf(b, "- %s\n", r)
	}
	b.WriteString("\n")
}

func pluginTitle(s *configschema.Schema) string {
	return fmt.Sprintf("%s `%s`", s.Kind, s.Type)
}

// anchor is the fragment GitHub gives a heading: lower case, spaces as
// hyphens, other punctuation dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// writeBody writes the attribute table of a block body, the variables of
// its expression attributes, then one subsection per nested block.
func writeBody(b *bytes.Buffer, heading string, attrs []configschema.Attribute, blocks []configschema.Block) {
	if len(attrs) == 0 {
		b.WriteString("No attributes.\n")
	} else {
		b.WriteString("| Attribute | Type | Required | Default | Description | Flags |\n")
		b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
		for _, a := range attrs {
			required := ""
			if a.Required {
				required = "yes"
			}
			fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s |\n",
				a.Name, a.Type, required, defaultText(a.Default), cell(a.Description), strings.Join(flags(a), "; "))
		}
		writeExprVars(b, attrs)
	}
	for _, blk := range blocks {
		fmt.Fprintf(b, "\n%s Block `%s`\n\n%s\n\n", heading, blk.Name, blk.Description)
		writeBody(b, heading+"#", blk.Attributes, blk.Blocks)
	}
}

func flags(a configschema.Attribute) []string {
	var fs []string
	if len(a.Enum) > 0 {
		vals := make([]string, len(a.Enum))
		for i, e := range a.Enum {
			vals[i] = "`" + e + "`"
		}
		fs = append(fs, "one of "+cell(strings.Join(vals, ", ")))
	}
	fs = append(fs, a.Constraints()...)
	if a.Type == configschema.Duration {
		fs = append(fs, "Go duration (`30s`, `5m`, `1h30m`)")
	}
	if len(a.ExprVars) > 0 {
		names := make([]string, len(a.ExprVars))
		for i, v := range a.ExprVars {
			names[i] = "`" + v.Name + "`"
		}
		fs = append(fs, "CEL with "+strings.Join(names, ", "))
	}
	if a.Sensitive {
		fs = append(fs, "sensitive")
	}
	if a.ForcesReplacement {
		fs = append(fs, "forces replacement")
	}
	return fs
}

// writeExprVars lists the variables of the expression attributes once each,
// with the attributes that may use them.
func writeExprVars(b *bytes.Buffer, attrs []configschema.Attribute) {
	type use struct {
		v     configschema.ExprVar
		attrs []string
	}
	var uses []*use
	for _, a := range attrs {
		for _, v := range a.ExprVars {
			var u *use
			for _, x := range uses {
				if x.v == v {
					u = x
				}
			}
			if u == nil {
				u = &use{v: v}
				uses = append(uses, u)
			}
			u.attrs = append(u.attrs, "`"+a.Name+"`")
		}
	}
	if len(uses) == 0 {
		return
	}
	b.WriteString("\nExpression variables:\n\n")
	for _, u := range uses {
		fmt.Fprintf(b, "- `%s` (%s; in %s): %s\n", u.v.Name, u.v.Type, strings.Join(u.attrs, ", "), u.v.Description)
	}
}

// defaultText shows a default value in JSON syntax, which for these types
// is also how it is written in HCL (except for maps).
func defaultText(v any) string {
	if v == nil {
		return ""
	}
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return cell(fmt.Sprint(v))
	}
	return "`" + cell(strings.TrimSpace(j.String())) + "`"
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\r\n", "<br>", "\n", "<br>").Replace(s)
}
