package configschema

import "fmt"

// Constraints describes the attribute's rules other than its type and
// enum, one short phrase each ("minimum 1", "RE2 regular expression"), for
// `pipectl schema` and the generated documentation.
func (a *Attribute) Constraints() []string {
	var out []string
	if a.Min != nil {
		out = append(out, fmt.Sprintf("minimum %d", *a.Min))
	}
	if a.Max != nil {
		out = append(out, fmt.Sprintf("maximum %d", *a.Max))
	}
	if a.MinDuration != "" {
		out = append(out, "minimum "+a.MinDuration)
	}
	if a.NonEmpty {
		out = append(out, "not empty")
	}
	if a.Regexp {
		out = append(out, "RE2 regular expression")
	}
	if a.Path {
		out = append(out, "path")
	}
	if a.Glob {
		out = append(out, "glob pattern")
	}
	if a.PathMustExist {
		if a.Glob {
			out = append(out, "its directory must exist")
		} else {
			out = append(out, "must exist")
		}
	}
	return out
}

// GroupConstraints describes the schema's attribute groups, one sentence
// each, in the order ExactlyOneOf, AtLeastOneOf, ConflictsWith,
// RequiredWith.
func (s *Schema) GroupConstraints() []string {
	var out []string
	for _, g := range s.ExactlyOneOf {
		out = append(out, fmt.Sprintf("Exactly one of %s.", Alternatives(g)))
	}
	for _, g := range s.AtLeastOneOf {
		out = append(out, fmt.Sprintf("At least one of %s.", Alternatives(g)))
	}
	for _, g := range s.ConflictsWith {
		out = append(out, fmt.Sprintf("At most one of %s.", Alternatives(g)))
	}
	for _, r := range s.RequiredWith {
		out = append(out, fmt.Sprintf("%q requires %s.", r.Attribute, join(r.Requires, "and")))
	}
	return out
}
