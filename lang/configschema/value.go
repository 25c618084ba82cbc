package configschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Redacted is what a message shows in place of a sensitive value.
const Redacted = "(sensitive value)"

// Sensitive wraps a value that no message may quote: a value marked
// sensitive in the configuration, or a secret the worker opened. Coerce
// unwraps it (and treats it as sensitive); the result is the clear value.
type Sensitive struct{ Value any }

// Rule names the rule of a schema that a configuration breaks.
type Rule uint8

// The rules: one per check of Coerce, ResolvePath and CheckGroups, and the
// plugin's own (Schema.Check).
const (
	RuleType          Rule = iota + 1 // the value is not of the attribute's type
	RuleRequired                      // a required attribute is missing
	RuleUnknown                       // the schema declares no attribute or block of that name
	RuleEnum                          // a string outside Enum
	RuleMin                           // below Min or MinDuration
	RuleMax                           // above Max
	RuleNonEmpty                      // empty where NonEmpty
	RuleDuration                      // not a duration of zero or more in Go syntax
	RuleRegexp                        // not an RE2 regular expression
	RuleGlob                          // not a well-formed glob pattern
	RulePathMustExist                 // a path that does not exist
	RuleExactlyOneOf                  // not exactly one of an ExactlyOneOf group set
	RuleAtLeastOneOf                  // none of an AtLeastOneOf group set
	RuleConflictsWith                 // more than one of a ConflictsWith group set
	RuleRequiredWith                  // an attribute set without those it requires
	RuleCheck                         // a rule of the plugin's own (Schema.Check)
)

var ruleNames = [...]string{
	RuleType:          "type",
	RuleRequired:      "required",
	RuleUnknown:       "unknown",
	RuleEnum:          "enum",
	RuleMin:           "minimum",
	RuleMax:           "maximum",
	RuleNonEmpty:      "non_empty",
	RuleDuration:      "duration",
	RuleRegexp:        "regexp",
	RuleGlob:          "glob",
	RulePathMustExist: "path_must_exist",
	RuleExactlyOneOf:  "exactly_one_of",
	RuleAtLeastOneOf:  "at_least_one_of",
	RuleConflictsWith: "conflicts_with",
	RuleRequiredWith:  "required_with",
	RuleCheck:         "check",
}

func (r Rule) String() string {
	if int(r) < len(ruleNames) && ruleNames[r] != "" {
		return ruleNames[r]
	}
	return "Rule(" + strconv.Itoa(int(r)) + ")"
}

// Error is one rule of a schema that a configuration breaks. lang turns it
// into a diagnostic at the attribute's range; the worker into a message.
// No Error quotes a sensitive value.
type Error struct {
	Rule Rule
	// Attribute is the attribute or block the error is about, as a dotted
	// path from the top of the configuration ("errors.retry_timeout"); ""
	// means the configuration as a whole (a group none of whose
	// attributes is set).
	Attribute string
	// Summary is short and in Title Case ("Value out of range"); Detail
	// is a full sentence that says what to do.
	Summary string
	Detail  string
}

// Error returns the detail as an error message: "the attribute "rate"
// must be at least 0".
func (e *Error) Error() string {
	r, n := utf8.DecodeRuneInString(e.Detail)
	return string(unicode.ToLower(r)) + strings.TrimSuffix(e.Detail[n:], ".")
}

// Errors joins errs into one error, nil when there are none.
func Errors(errs []*Error) error {
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// check builds the errors of one attribute's value.
type check struct {
	a      *Attribute
	name   string // what messages call the attribute: its path
	hidden bool   // the value is sensitive: never quote it
}

func (c check) fail(rule Rule, summary, format string, args ...any) *Error {
	return &Error{Rule: rule, Attribute: c.name, Summary: summary, Detail: fmt.Sprintf(format, args...)}
}

// shown is s quoted, or Redacted for a sensitive value.
func (c check) shown(s string) string {
	if c.hidden {
		return Redacted
	}
	return strconv.Quote(s)
}

// Coerce checks one value of the attribute and returns it as the Go type
// of its Type: string (String, Duration, Expression, Reference), int64,
// float64, bool, []string (the list types) or map[string]string. It
// accepts every form stored configuration holds: those types, int, float64
// and json.Number for numbers, []any and map[string]any of strings, and
// strings of numbers and booleans (a secret read from a file or the
// environment is a string). An Expression attribute also takes a compiled
// Expr, returned as it is. v may be wrapped in Sensitive.
//
// Coerce checks Enum, Min, Max, MinDuration, NonEmpty, Regexp and Glob; whether paths
// exist is ResolvePath's. The result is a copy: changing it does not
// change v.
func (a *Attribute) Coerce(v any) (any, *Error) { return a.coerce(a.Name, v) }

func (a *Attribute) coerce(name string, v any) (any, *Error) {
	c := check{a: a, name: name, hidden: a.Sensitive}
	if s, ok := v.(Sensitive); ok {
		v, c.hidden = s.Value, true
	}
	out, ok := convert(a.Type, v)
	if !ok {
		if e, isExpr := v.(Expr); isExpr && e != nil && a.Type == Expression {
			return e, nil
		}
		not := ""
		if !c.hidden {
			not = ", not " + notType(v)
		}
		return nil, c.fail(RuleType, "Incorrect attribute value type", "The attribute %q must be %s%s.", name, typeNames[a.Type], not)
	}
	if err := c.rules(out); err != nil {
		return nil, err
	}
	return out, nil
}

var typeNames = map[Type]string{
	String:          "a string",
	Int:             "a whole number",
	Number:          "a number",
	Bool:            "a bool",
	Duration:        "a duration string",
	Expression:      "an expression string",
	ListOfString:    "a list of strings",
	MapOfString:     "a map of strings",
	Reference:       "a name or reference",
	ListOfReference: "a list of references",
}

// Describe names the type of a stored value for messages ("a string",
// "a list"), without quoting it.
func Describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case int, int32, int64, uint32, uint64, float32, float64, json.Number:
		return "a number"
	case map[string]any, map[string]string:
		return "a map"
	case []any, []string:
		return "a list"
	}
	return fmt.Sprintf("a %T", v)
}

// notType says what a value of the wrong type is: a number as itself, a
// list or map by its first element that is not a string.
func notType(v any) string {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []any:
		for _, e := range v {
			if _, ok := e.(string); !ok {
				return "a list holding " + notType(e)
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if _, ok := v[k].(string); !ok {
				return "a map holding " + notType(v[k])
			}
		}
	}
	return Describe(v)
}

// convert turns a stored value into the Go type of t.
func convert(t Type, v any) (any, bool) {
	switch t {
	case String, Duration, Expression, Reference:
		s, ok := v.(string)
		return s, ok
	case Int:
		if s, ok := v.(string); ok {
			i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			return i, err == nil
		}
		return AsInt64(v)
	case Number:
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case float32:
			f = float64(n)
		case json.Number:
			var err error
			if f, err = n.Float64(); err != nil {
				return nil, false
			}
		case string:
			var err error
			if f, err = strconv.ParseFloat(strings.TrimSpace(n), 64); err != nil {
				return nil, false
			}
		default:
			i, ok := AsInt64(v)
			if !ok {
				return nil, false
			}
			f = float64(i)
		}
		return f, !math.IsInf(f, 0) && !math.IsNaN(f)
	case Bool:
		switch b := v.(type) {
		case bool:
			return b, true
		case string:
			x, err := strconv.ParseBool(strings.TrimSpace(b))
			return x, err == nil
		}
	case ListOfString, ListOfReference:
		switch l := v.(type) {
		case []string:
			return slices.Clone(l), true
		case []any:
			out := make([]string, len(l))
			for i, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, false
				}
				out[i] = s
			}
			return out, true
		}
	case MapOfString:
		switch m := v.(type) {
		case map[string]string:
			return maps.Clone(m), true
		case map[string]any:
			out := make(map[string]string, len(m))
			for k, e := range m {
				s, ok := e.(string)
				if !ok {
					return nil, false
				}
				out[k] = s
			}
			return out, true
		}
	}
	return nil, false
}

// AsInt64 returns a whole number held in any of the forms a stored value
// takes (int64, int, int32, uint32, uint64, a float64 without fraction,
// json.Number), and false for anything else.
func AsInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		if n != math.Trunc(n) || n < math.MinInt64 || n >= math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return AsInt64(f)
	}
	return 0, false
}

// rules checks a converted value against the attribute's rules.
func (c check) rules(v any) *Error {
	a := c.a
	if a.NonEmpty && isEmpty(v) {
		return c.fail(RuleNonEmpty, "Empty value", "The attribute %q must not be empty.", c.name)
	}
	switch v := v.(type) {
	case int64:
		return c.bounds(float64(v))
	case float64:
		return c.bounds(v)
	case string:
		if len(a.Enum) > 0 && !slices.Contains(a.Enum, v) {
			hint := ""
			if !c.hidden {
				hint = DidYouMean(v, a.Enum)
			}
			return c.fail(RuleEnum, "Invalid value for "+a.Name, "The attribute %q must be one of %s, not %s.%s", c.name, Alternatives(a.Enum), c.shown(v), hint)
		}
		if a.Type == Duration {
			return c.duration(v)
		}
		return c.each([]string{v})
	case []string:
		return c.each(v)
	}
	return nil
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case string:
		return v == ""
	case []string:
		return len(v) == 0
	case map[string]string:
		return len(v) == 0
	}
	return false
}

func (c check) bounds(f float64) *Error {
	if c.a.Min != nil && f < float64(*c.a.Min) {
		return c.fail(RuleMin, "Value out of range", "The attribute %q must be at least %d.", c.name, *c.a.Min)
	}
	if c.a.Max != nil && f > float64(*c.a.Max) {
		return c.fail(RuleMax, "Value out of range", "The attribute %q must be at most %d.", c.name, *c.a.Max)
	}
	return nil
}

// parseDuration parses a duration in Go syntax that is not negative.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 || strings.HasPrefix(s, "-") {
		return 0, errors.New("negative")
	}
	return d, nil
}

func (c check) duration(s string) *Error {
	d, err := parseDuration(s)
	if err != nil {
		return c.fail(RuleDuration, "Invalid duration",
			`The attribute %q must be a duration of zero or more in Go syntax, like "30s", "5m" or "1h30m", not %s.`, c.name, c.shown(s))
	}
	if c.a.MinDuration != "" {
		if least, _ := parseDuration(c.a.MinDuration); d < least {
			return c.fail(RuleMin, "Value out of range", "The attribute %q must be at least %s.", c.name, c.a.MinDuration)
		}
	}
	return nil
}

// each checks the strings of a string or list attribute against Regexp
// and Glob.
func (c check) each(vals []string) *Error {
	for _, s := range vals {
		if c.a.Regexp {
			if _, err := regexp.Compile(s); err != nil {
				why := "it does not compile"
				var se *syntax.Error
				if errors.As(err, &se) {
					why = se.Code.String()
				}
				return c.fail(RuleRegexp, "Invalid regular expression",
					"The attribute %q must hold RE2 regular expressions, and %s is not one: %s.", c.name, c.shown(s), why)
			}
		}
		if c.a.Glob {
			if _, err := filepath.Match(s, ""); err != nil {
				return c.fail(RuleGlob, "Invalid glob pattern",
					"The attribute %q must hold glob patterns (*, ?, [a-z], \\ to escape), and %s is malformed.", c.name, c.shown(s))
			}
		}
	}
	return nil
}

// ResolvePath makes the paths of a Path attribute's value (a string or
// []string as Coerce returns it) absolute against dir, and checks that they
// exist when the attribute says PathMustExist: for a glob, the directory
// before its first wildcard. lang calls it when it loads a configuration;
// the worker then sees absolute paths. Other values come back as they are.
func (a *Attribute) ResolvePath(dir string, v any) (any, *Error) {
	if !a.Path {
		return v, nil
	}
	c := check{a: a, name: a.Name, hidden: a.Sensitive}
	if s, ok := v.(Sensitive); ok {
		v, c.hidden = s.Value, true
	}
	var paths []string
	switch v := v.(type) {
	case string:
		paths = []string{v}
	case []string:
		paths = slices.Clone(v)
	default:
		return v, nil
	}
	for i, p := range paths {
		paths[i] = AbsPath(dir, p)
		if a.PathMustExist {
			if err := c.exists(paths[i]); err != nil {
				return nil, err
			}
		}
	}
	if _, one := v.(string); one {
		return paths[0], nil
	}
	return paths, nil
}

// AbsPath makes p absolute against dir, the configuration directory, and
// cleans it.
func AbsPath(dir, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return filepath.Clean(p)
}

func (c check) exists(p string) *Error {
	what := "the path"
	if c.a.Glob {
		for hasMeta(p) {
			p, what = filepath.Dir(p), "the directory"
		}
	}
	if _, err := os.Stat(p); err != nil {
		return c.fail(RulePathMustExist, "Path not found",
			"The attribute %q needs %s %s to exist, and it does not: create it or correct the path (relative paths start at the configuration directory).", c.name, what, c.shown(p))
	}
	return nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// CheckGroups checks the schema's ExactlyOneOf, AtLeastOneOf, ConflictsWith
// and RequiredWith groups against values, the top-level attributes of a
// configuration, and then the schema's Check. An attribute counts as set
// when values holds it with a value other than nil and other than its
// default. An error about a set attribute names it (lang points at it);
// one about a group none of whose attributes is set names none.
func (s *Schema) CheckGroups(values map[string]any) []*Error {
	isSet := func(name string) bool {
		v := values[name]
		if sv, ok := v.(Sensitive); ok {
			v = sv.Value
		}
		if v == nil {
			return false
		}
		a, ok := s.Attribute(name)
		if !ok || a.Default == nil {
			return true
		}
		tv, err := a.Coerce(v)
		if err != nil {
			return true
		}
		def, _ := a.Coerce(a.Default)
		return !reflect.DeepEqual(tv, def)
	}
	setOf := func(group []string) []string {
		var out []string
		for _, name := range group {
			if isSet(name) {
				out = append(out, name)
			}
		}
		return out
	}
	var errs []*Error
	conflict := func(rule Rule, group, set []string) {
		errs = append(errs, &Error{Rule: rule, Attribute: set[1], Summary: "Conflicting arguments",
			Detail: fmt.Sprintf("Only one of %s can be set, and %s are: remove all but one.", Alternatives(group), join(set, "and"))})
	}
	for _, g := range s.ExactlyOneOf {
		switch set := setOf(g); {
		case len(set) == 0:
			errs = append(errs, &Error{Rule: RuleExactlyOneOf, Summary: "Missing required argument",
				Detail: fmt.Sprintf("Exactly one of %s must be set.", Alternatives(g))})
		case len(set) > 1:
			conflict(RuleExactlyOneOf, g, set)
		}
	}
	for _, g := range s.AtLeastOneOf {
		if len(setOf(g)) == 0 {
			errs = append(errs, &Error{Rule: RuleAtLeastOneOf, Summary: "Missing required argument",
				Detail: fmt.Sprintf("At least one of %s must be set.", Alternatives(g))})
		}
	}
	for _, g := range s.ConflictsWith {
		if set := setOf(g); len(set) > 1 {
			conflict(RuleConflictsWith, g, set)
		}
	}
	for _, r := range s.RequiredWith {
		if !isSet(r.Attribute) {
			continue
		}
		var missing []string
		for _, name := range r.Requires {
			if !isSet(name) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, &Error{Rule: RuleRequiredWith, Attribute: r.Attribute, Summary: "Missing required argument",
				Detail: fmt.Sprintf("The attribute %q needs %s to be set too.", r.Attribute, join(missing, "and"))})
		}
	}
	if s.Check != nil {
		errs = append(errs, s.Check(values)...)
	}
	return errs
}

// Coerce checks a plugin's stored configuration against the schema and
// returns it typed: each attribute as Attribute.Coerce returns it, an
// absent one that has a default at its default, and each nested block that
// is present as a map[string]any of the same (an absent block stays
// absent). It reports every problem at once: missing required attributes,
// attributes and blocks the schema does not declare, values that break
// their rules, and the schema's groups. Values may be wrapped in Sensitive.
func (s *Schema) Coerce(values map[string]any) (map[string]any, []*Error) {
	out, errs := coerceBody("", s.Attributes, s.Blocks, values)
	return out, append(errs, s.CheckGroups(values)...)
}

func coerceBody(prefix string, attrs []Attribute, blocks []Block, in map[string]any) (map[string]any, []*Error) {
	out := make(map[string]any, len(attrs)+len(blocks))
	var errs []*Error
	names := make([]string, 0, len(attrs)+len(blocks))
	for i := range attrs {
		a := &attrs[i]
		names = append(names, a.Name)
		name := prefix + a.Name
		v := in[a.Name]
		if sv, ok := v.(Sensitive); ok && sv.Value == nil {
			v = nil
		}
		if v == nil {
			switch {
			case a.Default != nil:
				out[a.Name], _ = a.coerce(name, a.Default)
			case a.Required:
				errs = append(errs, &Error{Rule: RuleRequired, Attribute: name, Summary: "Missing required argument",
					Detail: fmt.Sprintf("The attribute %q is required.", name)})
			}
			continue
		}
		tv, err := a.coerce(name, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[a.Name] = tv
	}
	for i := range blocks {
		b := &blocks[i]
		names = append(names, b.Name)
		switch v := in[b.Name].(type) {
		case nil:
		case map[string]any:
			sub, subErrs := coerceBody(prefix+b.Name+".", b.Attributes, b.Blocks, v)
			out[b.Name] = sub
			errs = append(errs, subErrs...)
		default:
			errs = append(errs, &Error{Rule: RuleType, Attribute: prefix + b.Name, Summary: "Incorrect attribute value type",
				Detail: fmt.Sprintf("%q is a block, not %s.", prefix+b.Name, Describe(v))})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		if !slices.Contains(names, k) {
			errs = append(errs, &Error{Rule: RuleUnknown, Attribute: prefix + k, Summary: "Unsupported argument",
				Detail: fmt.Sprintf("The schema declares no attribute or block %q.%s", prefix+k, DidYouMean(k, names))})
		}
	}
	return out, errs
}
