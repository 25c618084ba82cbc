package configschema

import (
	"fmt"
	"slices"

	"github.com/pipectl/pipectl/lang/recordschema"
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
	// Min and Max, when set, bound the value of an int or number.
	Min *int64 `json:"minimum,omitempty"`
	Max *int64 `json:"maximum,omitempty"`
	// MinDuration, when set, is the shortest value of a duration, in Go
	// syntax ("10ms"). No duration may be negative.
	MinDuration string `json:"minimum_duration,omitempty"`
	// NonEmpty says that a string may not be "", a list must hold an
	// element and a map an entry.
	NonEmpty bool `json:"non_empty,omitempty"`
	// Regexp marks a string or list(string) attribute whose values are
	// RE2 regular expressions: each must compile.
	Regexp bool `json:"regexp,omitempty"`
	// Path marks a string or list(string) attribute that holds file paths
	// or globs: lang resolves relative ones against the configuration
	// directory, so connectors always see absolute paths.
	Path bool `json:"path,omitempty"`
	// Glob marks a Path attribute whose values are glob patterns in the
	// syntax of Go's filepath.Match: each must be well formed.
	Glob bool `json:"glob,omitempty"`
	// PathMustExist marks a Path attribute whose paths must exist when
	// the configuration is validated (on the machine that validates it).
	// For a glob, the directory before its first wildcard must exist.
	PathMustExist bool `json:"path_must_exist,omitempty"`
	// ExprVars are the variables an Expression attribute may use.
	ExprVars []ExprVar `json:"expression_variables,omitempty"`
	// PerTaskPath marks a string Path attribute of which every task of a
	// pipeline with more than one uses its own variant, TaskPath(path,
	// task, tasks): out/orders.jsonl becomes out/orders-0.jsonl,
	// out/orders-1.jsonl … Plans show the paths the tasks use.
	PerTaskPath bool `json:"per_task_path,omitempty"`
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

	// Groups of attributes, checked together (see CheckGroups). An
	// attribute counts as set when it has a value other than null and
	// other than its default. Groups name top-level attributes only.
	//
	// ExactlyOneOf: exactly one of the group must be set, e.g.
	// {"topics", "topics_regex"}.
	ExactlyOneOf [][]string `json:"exactly_one_of,omitempty"`
	// AtLeastOneOf: one or more of the group must be set.
	AtLeastOneOf [][]string `json:"at_least_one_of,omitempty"`
	// ConflictsWith: at most one of the group may be set, e.g.
	// {"topic", "topic_prefix"}.
	ConflictsWith [][]string `json:"conflicts_with,omitempty"`
	// RequiredWith: when an attribute is set, the ones it requires must
	// be set too.
	RequiredWith []Requirement `json:"required_with,omitempty"`

	// KeyConverter is the key converter of a pipeline of this plugin
	// that names none, where it is not the language's "string": a source
	// whose keys are structured (source "sql" keys its records by a
	// struct of the primary key, so its default is "json"). Optional.
	KeyConverter string `json:"key_converter,omitempty"`

	// KeySchema and ValueSchema are the record schemas of every key and
	// value a source of this plugin produces, when they are fixed (syslog's
	// fields); KeyExpression and ValueExpression name an Expression
	// attribute whose result is the key or value (the generator's key and
	// value), whose schema the expression's checked type gives. validate
	// checks the CEL of a pipeline's transforms against these shapes, with
	// warnings, since records of a source might not keep to them. Optional.
	KeySchema       *recordschema.Schema `json:"-"`
	ValueSchema     *recordschema.Schema `json:"-"`
	KeyExpression   string               `json:"-"`
	ValueExpression string               `json:"-"`

	// Check reports, with Errors of RuleCheck, what the rules above
	// cannot say about the top-level attributes together, e.g. that a
	// mirror on the fleet's own cluster does not list its target among
	// the topics it reads. It runs after the groups, on the values
	// CheckGroups gets (Attribute.Coerce types one); pipectl validate
	// reports its Errors at the attribute they name. Optional.
	Check func(values map[string]any) []*Error `json:"-"`
}

// Requirement says that when Attribute is set, every attribute of
// Requires must be set too, e.g. sasl_username requires sasl_mechanism.
type Requirement struct {
	Attribute string   `json:"attribute"`
	Requires  []string `json:"requires"`
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
	if err := s.validateGroups(); err != nil {
		return err
	}
	return validateBlocks(s.Address(), s.Blocks)
}

func (s *Schema) validateGroups() error {
	check := func(what string, group []string, least int) error {
		if len(group) < least {
			return fmt.Errorf("%s: a %s group needs at least %d attributes, not %v", s.Address(), what, least, group)
		}
		for _, name := range group {
			a, ok := s.Attribute(name)
			if !ok {
				return fmt.Errorf("%s: a %s group names the unknown attribute %q", s.Address(), what, name)
			}
			if a.Required {
				return fmt.Errorf("%s: a %s group names the required attribute %q", s.Address(), what, name)
			}
		}
		return nil
	}
	for _, g := range s.ExactlyOneOf {
		if err := check("exactly_one_of", g, 2); err != nil {
			return err
		}
	}
	for _, g := range s.AtLeastOneOf {
		if err := check("at_least_one_of", g, 2); err != nil {
			return err
		}
	}
	for _, g := range s.ConflictsWith {
		if err := check("conflicts_with", g, 2); err != nil {
			return err
		}
	}
	for _, r := range s.RequiredWith {
		if err := check("required_with", append([]string{r.Attribute}, r.Requires...), 2); err != nil {
			return err
		}
	}
	return nil
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
		if a.Regexp && a.Type != String && a.Type != ListOfString {
			return fmt.Errorf("%s.%s: only string and list(string) attributes can be regular expressions", where, a.Name)
		}
		if a.NonEmpty && a.Type != String && a.Type != ListOfString && a.Type != MapOfString {
			return fmt.Errorf("%s.%s: only string, list(string) and map(string) attributes can be non-empty", where, a.Name)
		}
		if a.PerTaskPath && (!a.Path || a.Type != String || a.Glob) {
			return fmt.Errorf("%s.%s: per_task_path needs a string path that is not a glob", where, a.Name)
		}
		if (a.Glob || a.PathMustExist) && !a.Path {
			return fmt.Errorf("%s.%s: glob and path_must_exist need path", where, a.Name)
		}
		if len(a.Enum) > 0 && a.Type != String {
			return fmt.Errorf("%s.%s: only string attributes can have an enum", where, a.Name)
		}
		if (a.Min != nil || a.Max != nil) && a.Type != Int && a.Type != Number {
			return fmt.Errorf("%s.%s: only int and number attributes can have a minimum or maximum", where, a.Name)
		}
		if a.Min != nil && a.Max != nil && *a.Min > *a.Max {
			return fmt.Errorf("%s.%s: minimum %d is above maximum %d", where, a.Name, *a.Min, *a.Max)
		}
		if a.MinDuration != "" {
			if d, err := parseDuration(a.MinDuration); a.Type != Duration || err != nil || d == 0 {
				return fmt.Errorf("%s.%s: minimum_duration %q needs a duration attribute and a positive duration", where, a.Name, a.MinDuration)
			}
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
		if a.Default != nil {
			if _, err := a.Coerce(a.Default); err != nil {
				return fmt.Errorf("%s.%s: the default breaks the attribute's own rules: %v", where, a.Name, err)
			}
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
