package expr

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
)

// Type is what an expression must evaluate to.
type Type int

const (
	Dyn    Type = iota // anything
	Bool               // a bool
	String             // a string
)

// String returns the CEL name of the type: "dyn", "bool" or "string".
func (t Type) String() string {
	switch t {
	case Dyn:
		return "dyn"
	case Bool:
		return "bool"
	case String:
		return "string"
	default:
		return fmt.Sprintf("Type(%d)", int(t))
	}
}

// Var is a variable of an expression environment. Type is a CEL type name:
// "int", "uint", "double", "string", "bool", "bytes", "timestamp", "dyn".
type Var struct{ Name, Type string }

// varTypes are the type names NewEnv accepts.
var varTypes = map[string]*cel.Type{
	"int":       cel.IntType,
	"uint":      cel.UintType,
	"double":    cel.DoubleType,
	"string":    cel.StringType,
	"bool":      cel.BoolType,
	"bytes":     cel.BytesType,
	"timestamp": cel.TimestampType,
	"dyn":       cel.DynType,
}

// Env is a CEL environment: a set of variables plus the function library.
// An Env is immutable and safe for concurrent use.
type Env struct {
	cel  *cel.Env
	vars []Var
	// names are the identifiers an undeclared reference is compared with
	// for a "did you mean" hint: variables and function names.
	names []string
}

// Vars returns the variables of the environment, sorted by name.
func (e *Env) Vars() []Var { return slices.Clone(e.vars) }

var (
	recordEnvOnce sync.Once
	recordEnv     *Env
)

// RecordEnv is the environment of transforms and predicates. Variables: key
// (dyn), value (dyn), headers (map(string, string)), topic (string),
// partition (int), offset (int), timestamp (google.protobuf.Timestamp). It
// is built once and shared.
func RecordEnv() *Env {
	recordEnvOnce.Do(func() {
		env, err := newEnv(
			[]Var{
				{"headers", "map(string, string)"},
				{"key", "dyn"},
				{"offset", "int"},
				{"partition", "int"},
				{"timestamp", "timestamp"},
				{"topic", "string"},
				{"value", "dyn"},
			},
			cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)),
			cel.Variable("key", cel.DynType),
			cel.Variable("offset", cel.IntType),
			cel.Variable("partition", cel.IntType),
			cel.Variable("timestamp", cel.TimestampType),
			cel.Variable("topic", cel.StringType),
			cel.Variable("value", cel.DynType),
		)
		if err != nil {
			// The declarations above are fixed: only a programming error
			// (or an incompatible cel-go) gets here, and the tests catch it.
			panic(fmt.Sprintf("expr: building the record environment: %v", err))
		}
		recordEnv = env
	})
	return recordEnv
}

var (
	envCacheMu sync.Mutex
	envCache   = map[string]*Env{}
)

// identRE matches a CEL identifier.
var identRE = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9]*$`)

// reserved are the words CEL reserves: they cannot name a variable.
var reserved = map[string]bool{
	"as": true, "break": true, "const": true, "continue": true, "else": true,
	"false": true, "for": true, "function": true, "if": true, "import": true,
	"in": true, "let": true, "loop": true, "package": true, "namespace": true,
	"null": true, "return": true, "true": true, "var": true, "void": true,
	"while": true,
}

// NewEnv returns an environment with exactly these variables plus the
// function library. Environments are cached by their variables (the order
// does not matter), so calling NewEnv for every plugin schema is cheap. It
// is an error for a type name to be unknown or for a name to be invalid or
// declared twice.
func NewEnv(vars []Var) (*Env, error) {
	sorted := slices.Clone(vars)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	opts := make([]cel.EnvOption, 0, len(sorted))
	var key strings.Builder
	for i, v := range sorted {
		switch {
		case !identRE.MatchString(v.Name):
			return nil, fmt.Errorf("invalid variable name %q: a name starts with a letter or underscore followed by letters, digits or underscores", v.Name)
		case reserved[v.Name]:
			return nil, fmt.Errorf("invalid variable name %q: it is a reserved word of CEL", v.Name)
		case i > 0 && sorted[i-1].Name == v.Name:
			return nil, fmt.Errorf("variable %q is declared twice", v.Name)
		}
		t, ok := varTypes[v.Type]
		if !ok {
			return nil, fmt.Errorf("variable %q has unknown type %q; known types are int, uint, double, string, bool, bytes, timestamp and dyn", v.Name, v.Type)
		}
		opts = append(opts, cel.Variable(v.Name, t))
		fmt.Fprintf(&key, "%s:%s;", v.Name, v.Type)
	}

	envCacheMu.Lock()
	defer envCacheMu.Unlock()
	if env, ok := envCache[key.String()]; ok {
		return env, nil
	}
	env, err := newEnv(sorted, opts...)
	if err != nil {
		return nil, err
	}
	envCache[key.String()] = env
	return env, nil
}

// newEnv builds the cel.Env: the only place of the project that does.
// vars must be sorted by name.
func newEnv(vars []Var, decls ...cel.EnvOption) (*Env, error) {
	return newEnvWith(nil, vars, decls...)
}

// newEnvWith is newEnv with options that come before the library's (a
// type provider).
func newEnvWith(pre []cel.EnvOption, vars []Var, decls ...cel.EnvOption) (*Env, error) {
	opts := append(slices.Clip(pre),
		cel.Lib(library{}),
		// JSON numbers decode to float64: `value.amount >= 10` must work
		// whether amount is an int or a double.
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ParserRecursionLimit(ParserRecursionLimit),
		cel.ParserErrorRecoveryLimit(ParserErrorRecoveryLimit),
		cel.ParserExpressionSizeLimit(MaxSourceBytes),
		cel.ExpressionNodeLimit(ExpressionNodeLimit),
	)
	opts = append(opts, decls...)
	ce, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(vars))
	for _, v := range vars {
		names = append(names, v.Name)
	}
	for name := range ce.Functions() {
		if isPlainName(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return &Env{cel: ce, vars: slices.Clone(vars), names: names}, nil
}

// isPlainName reports whether a function name is one a person types (not an
// operator such as _+_ or an internal @in).
func isPlainName(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if !identRE.MatchString(part) || strings.HasPrefix(part, "_") {
			return false
		}
	}
	return true
}
