package expr

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/recordschema"
)

// Issue is one compile problem. Offset and End are byte offsets into the
// source text given to Compile (End exclusive, End == Offset when only a
// point is known, Offset == End == -1 when the position is unknown).
type Issue struct {
	Offset, End int
	Message     string
}

// Program is a compiled expression: compile it once, evaluate it for every
// record, from as many goroutines as needed.
type Program struct {
	src     string
	prg     cel.Program
	outType string
	// want is checked on the result of each evaluation when the checked
	// output type is not already want (that is, when it is dyn).
	want      Type
	checkWant bool
	info      *celast.SourceInfo
	// direct is the direct evaluator (EvalTo); nil when the expression
	// is outside its subset.
	direct emitFn
	// vars, path and schema are Vars, Path and OutputSchema (inspect.go).
	vars   []string
	path   []string
	schema *recordschema.Schema
	shape  *recordschema.Schema // OutputSchema for a typed check (Shape)
}

// Source returns the text the program was compiled from.
func (p *Program) Source() string { return p.src }

// OutputType returns the CEL name of the checked output type, e.g. "bool",
// "string", "dyn", "map(string, dyn)".
func (p *Program) OutputType() string { return p.outType }

// Compile parses, type-checks and plans src. With want Bool (or String) the
// output type must be bool (string) or dyn; a definitely different type is an
// Issue spanning the whole expression, and a dyn result of another type is an
// evaluation error. Compile reports every problem cel-go finds and never
// panics.
func (e *Env) Compile(src string, want Type) (prog *Program, issues []Issue) {
	defer func() {
		// cel-go should not panic, but sources are arbitrary text from
		// configuration files: a bug there must become a diagnostic, not
		// a crash of validate.
		if r := recover(); r != nil {
			prog = nil
			issues = []Issue{{Offset: -1, End: -1, Message: fmt.Sprintf("internal error compiling the expression: %v", r)}}
		}
	}()
	if len(src) > MaxSourceBytes {
		return nil, []Issue{{
			Offset:  0,
			End:     len(src),
			Message: fmt.Sprintf("expression is %d bytes long; the limit is %d bytes", len(src), MaxSourceBytes),
		}}
	}
	parsed, iss := e.cel.Parse(src)
	if iss.Err() != nil {
		return nil, e.issues(src, iss, nil)
	}
	checked, iss := e.cel.Check(parsed)
	if iss.Err() != nil {
		return nil, e.issues(src, iss, parsed.NativeRep().SourceInfo())
	}

	out := checked.OutputType()
	outName := cel.FormatCELType(out)
	checkWant := false
	switch want {
	case Dyn:
	case Bool, String:
		wantKind := types.BoolKind
		if want == String {
			wantKind = types.StringKind
		}
		switch out.Kind() {
		case wantKind:
		case types.DynKind, types.AnyKind, types.TypeParamKind:
			checkWant = true
		default:
			start, end := wholeSpan(src)
			return nil, []Issue{{
				Offset:  start,
				End:     end,
				Message: fmt.Sprintf("expression must return %s, but it returns %s", want, outName),
			}}
		}
	default:
		return nil, []Issue{{Offset: -1, End: -1, Message: fmt.Sprintf("unknown wanted type %v", want)}}
	}

	cost := costOptions(e.cel, checked)
	prg, err := e.cel.Program(checked, append([]cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}, cost...)...)
	if err != nil {
		// Planning fails for constant arguments that are invalid, such as
		// a malformed regular expression given to matches().
		return nil, []Issue{{Offset: -1, End: -1, Message: err.Error()}}
	}
	var direct emitFn
	// The direct evaluator tracks no cost: only for programs whose static
	// cost is bounded below the limit (no cost options).
	if !checkWant && len(cost) == 0 {
		direct = compileDirect(checked.NativeRep())
	}
	native := checked.NativeRep()
	return &Program{
		vars:      freeVars(native.Expr(), e.vars),
		path:      selectionPath(native.Expr(), e.vars),
		schema:    outputSchema(native, native.Expr(), false),
		shape:     outputSchema(native, native.Expr(), true),
		direct:    direct,
		src:       src,
		prg:       prg,
		outType:   outName,
		want:      want,
		checkWant: checkWant,
		info:      checked.NativeRep().SourceInfo(),
	}, nil
}

// issues converts cel-go's errors to Issues with byte offsets. info is the
// parsed expression's source information, which knows the range of each
// expression node; nil when parsing failed.
func (e *Env) issues(src string, iss *cel.Issues, info *celast.SourceInfo) []Issue {
	var out []Issue
	for _, ce := range iss.Errors() {
		off := -1
		if ce.Location != nil {
			off = lineColumnOffset(src, ce.Location.Line(), ce.Location.Column())
		}
		end := off
		if off >= 0 && info != nil && ce.ExprID > 0 {
			end = nodeEnd(src, info, ce.ExprID, off)
		}
		off, end = refine(src, off, end, ce.Message)
		out = append(out, Issue{Offset: off, End: end, Message: e.message(ce.Message)})
	}
	if len(out) == 0 {
		// iss.Err() was non-nil, so there was a problem: never lose it.
		out = append(out, Issue{Offset: -1, End: -1, Message: iss.Err().Error()})
	}
	return out
}

// refine narrows a position cel-go gives to what a person looks for: the
// name of a called function rather than its '(', the name of a selected
// field rather than its '.'.
func refine(src string, off, end int, msg string) (int, int) {
	if off < 0 || off >= len(src) {
		return off, end
	}
	switch src[off] {
	case '(':
		if name := calledName(msg); name != "" {
			if start := nameBefore(src, off, name); start >= 0 {
				return start, start + len(name)
			}
		}
	case '.':
		if start, stop, ok := fieldAfter(src, off); ok {
			return start, stop
		}
	}
	return off, end
}

// calledName returns the function name quoted in a message about a call,
// or "".
func calledName(msg string) string {
	for _, prefix := range []string{"undeclared reference to '", "found no matching overload for '"} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			name, _, _ := strings.Cut(rest, "'")
			return name
		}
	}
	return ""
}

// nodeEnd returns the byte offset where expression node id ends, given that
// it starts at byte offset start, or start when that is not known.
//
// cel-go records a node's range as a start in code points and a length that
// is the byte length of the node's tokens without the whitespace between
// them: exact for a single token (an identifier, a literal, an operator),
// a prefix of the true range otherwise. Either way it is a range inside the
// node.
func nodeEnd(src string, info *celast.SourceInfo, id int64, start int) int {
	r, ok := info.GetOffsetRange(id)
	if !ok || r.Stop <= r.Start || codePointOffset(src, int(r.Start)) != start {
		return start
	}
	end := start + int(r.Stop-r.Start)
	if end > len(src) {
		end = len(src)
	}
	return runeStart(src, end, start)
}

// message tidies a cel-go message and adds a "did you mean" hint to an
// undeclared reference.
func (e *Env) message(msg string) string {
	msg = strings.TrimSuffix(msg, " (in container '')")
	const undeclared = "undeclared reference to '"
	if rest, ok := strings.CutPrefix(msg, undeclared); ok {
		if name, _, ok := strings.Cut(rest, "'"); ok {
			if near := configschema.Nearest(name, e.names); near != "" {
				msg += fmt.Sprintf("; did you mean '%s'?", near)
			}
		}
	}
	return msg
}
