package configschema

import (
	"fmt"
	"slices"
)

// Kind is the kind of plugin a schema describes.
type Kind string

// The plugin kinds.
const (
	Source    Kind = "source"
	Sink      Kind = "sink"
	Converter Kind = "converter"
)

// Kinds lists every plugin kind in a stable order.
func Kinds() []Kind { return []Kind{Source, Sink, Converter} }

// Type is the type of an attribute's value.
type Type string

// The attribute types. Durations are strings in Go syntax ("30s", "5m").
// Expressions are CEL strings compiled at validate time with the variables
// the attribute declares in ExprVars.
const (
	String       Type = "string"
	Int          Type = "int"
	Number       Type = "number"
	Bool         Type = "bool"
	Duration     Type = "duration"
	Expression   Type = "expression"
	ListOfString Type = "list(string)"
	MapOfString  Type = "map(string)"

	// Reference and ListOfReference are used by the language's own
	// pipeline attributes (a converter name or converter.x; a list of
	// transform.x); plugins do not declare them.
	Reference       Type = "reference"
	ListOfReference Type = "list(reference)"
)

// Attribute describes one configuration attribute.
type Attribute struct {
	Name        string `json:"name"`
	Type        Type   `json:"type"`
	Description string `json:"description"`
	Required    bool   `json:"required,omitempty"`
	// Default is the value used when the attribute is absent: a string,
	// int64, float64, bool, []string or map[string]string matching Type.
	Default any `json:"default,omitempty"`
	// Sensitive values are never printed and are stored as references or
	// encrypted.
	Sensitive bool `json:"sensitive,omitempty"`
	// ForcesReplacement means a change of this attribute replaces the
	// pipeline (its offsets are reset) instead of updating it in place.
	ForcesReplacement bool `json:"forces_replacement,omitempty"`
	// Enum, when set, lists the only values a string attribute may take.
	Enum []string `json:"enum,omitempty"`
	// Min, when set, is the smallest value an int or number may take.
	Min *int64 `json:"minimum,omitempty"`
	// Path marks a string or list(string) attribute that holds file paths
	// or globs: lang resolves relative ones against the configuration
	// directory, so connectors always see absolute paths.
	Path bool `json:"path,omitempty"`
	// ExprVars are the variables an Expression attribute may use.
	ExprVars []ExprVar `json:"expression_variables,omitempty"`
}

// ExprVar is a variable available to an expression attribute.
type ExprVar struct {
	Name string `json:"name"`
	// Type is a CEL type name: "int", "uint", "double", "string", "bool",
	// "bytes", "timestamp" or "dyn".
	Type        string `json:"type"`
	Description string `json:"description"`
}

// Block describes a nested block that appears at most once.
type Block struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Attributes  []Attribute `json:"attributes"`
	Blocks      []Block     `json:"blocks,omitempty"`
}

// Schema describes the configuration of one plugin type.
type Schema struct {
	Kind        Kind        `json:"kind"`
	Type        string      `json:"type"`
	Description string      `json:"description"`
	Attributes  []Attribute `json:"attributes"`
	Blocks      []Block     `json:"blocks,omitempty"`
	// ExactlyOneOf lists groups of attributes of which exactly one must
	// be set, e.g. {"topics", "topics_regex"}.
	ExactlyOneOf [][]string `json:"exactly_one_of,omitempty"`
	// Conflicts lists groups of attributes of which at most one may be
	// set, e.g. {"topic", "topic_prefix"}.
	Conflicts [][]string `json:"conflicts,omitempty"`
}

// Address is the schema's name as `pipectl schema` takes it: "source.file".
func (s *Schema) Address() string { return string(s.Kind) + "." + s.Type }

// Attribute returns the attribute with the given name.
func (s *Schema) Attribute(name string) (*Attribute, bool) {
	return findAttr(s.Attributes, name)
}

// Block returns the nested block with the given name.
func (s *Schema) Block(name string) (*Block, bool) {
	i := slices.IndexFunc(s.Blocks, func(b Block) bool { return b.Name == name })
	if i < 0 {
		return nil, false
	}
	return &s.Blocks[i], true
}

// Attribute returns the attribute with the given name.
func (b *Block) Attribute(name string) (*Attribute, bool) {
	return findAttr(b.Attributes, name)
}

func findAttr(attrs []Attribute, name string) (*Attribute, bool) {
	i := slices.IndexFunc(attrs, func(a Attribute) bool { return a.Name == name })
	if i < 0 {
		return nil, false
	}
	return &attrs[i], true
}

// Validate reports mistakes in the schema itself: duplicate names, defaults
// of the wrong type, expression variables on non-expression attributes. A
// registry calls it when a plugin registers.
func (s *Schema) Validate() error {
	if s.Type == "" {
		return fmt.Errorf("schema of a %s has no type name", s.Kind)
	}
	if !slices.Contains(Kinds(), s.Kind) {
		return fmt.Errorf("%s: unknown kind %q", s.Address(), s.Kind)
	}
	if err := validateAttrs(s.Address(), s.Attributes); err != nil {
		return err
	}
	for _, group := range append(slices.Clone(s.ExactlyOneOf), s.Conflicts...) {
		for _, name := range group {
			if _, ok := s.Attribute(name); !ok {
				return fmt.Errorf("%s: attribute group names unknown attribute %q", s.Address(), name)
			}
		}
	}
	return validateBlocks(s.Address(), s.Blocks)
}

func validateBlocks(where string, blocks []Block) error {
	seen := map[string]bool{}
	for _, b := range blocks {
		if b.Name == "" || seen[b.Name] {
			return fmt.Errorf("%s: block name %q is empty or repeated", where, b.Name)
		}
		seen[b.Name] = true
		if err := validateAttrs(where+"."+b.Name, b.Attributes); err != nil {
			return err
		}
		if err := validateBlocks(where+"."+b.Name, b.Blocks); err != nil {
			return err
		}
	}
	return nil
}

func validateAttrs(where string, attrs []Attribute) error {
	seen := map[string]bool{}
	for _, a := range attrs {
		if a.Name == "" || seen[a.Name] {
			return fmt.Errorf("%s: attribute name %q is empty or repeated", where, a.Name)
		}
		seen[a.Name] = true
		switch a.Type {
		case String, Int, Number, Bool, Duration, Expression, ListOfString, MapOfString, Reference, ListOfReference:
		default:
			return fmt.Errorf("%s.%s: unknown type %q", where, a.Name, a.Type)
		}
		if a.Path && a.Type != String && a.Type != ListOfString {
			return fmt.Errorf("%s.%s: only string and list(string) attributes can be paths", where, a.Name)
		}
		if len(a.ExprVars) > 0 && a.Type != Expression {
			return fmt.Errorf("%s.%s: expression variables on a %s attribute", where, a.Name, a.Type)
		}
		if a.Required && a.Default != nil {
			return fmt.Errorf("%s.%s: a required attribute has no default", where, a.Name)
		}
		if a.Default != nil && !defaultFits(a.Type, a.Default) {
			return fmt.Errorf("%s.%s: default %v (%T) is not a %s", where, a.Name, a.Default, a.Default, a.Type)
		}
	}
	return nil
}

func defaultFits(t Type, v any) bool {
	switch v.(type) {
	case string:
		return t == String || t == Duration || t == Expression || t == Reference
	case int64, int:
		return t == Int || t == Number
	case float64:
		return t == Number
	case bool:
		return t == Bool
	case []string:
		return t == ListOfString
	case map[string]string:
		return t == MapOfString
	}
	return false
}
