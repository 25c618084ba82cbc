package expr

import (
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"
)

// Emitter receives the result of EvalTo one value at a time: a map as
// BeginMap, then Key and the entry's value for each entry in ascending key
// order, then EndMap; a list as BeginList, its elements, EndList.
type Emitter interface {
	BeginMap()
	Key(k string)
	EndMap()
	BeginList()
	EndList()
	Null()
	Bool(b bool)
	Int(i int64)
	Double(f float64)
	String(s string)
}

// Direct reports whether EvalTo can evaluate the program: whether the
// expression is within the subset the direct evaluator covers.
func (p *Program) Direct() bool { return p.direct != nil }

// EvalTo evaluates the program without cel-go's interpreter and without
// building the result, handing it to w instead: what Eval returns, written
// value by value. It covers map and list literals (string literal keys)
// over scalars computed from literals, variables, arithmetic, string
// concatenation, comparisons, logic, the conditional, conversions between
// int, double, string and timestamp, size of a string and indexing a list
// literal; a generator's record template, for instance. It reports false
// when it cannot evaluate: an expression outside the subset (see Direct),
// a variable that is missing or of another Go type, or a value at the edge
// of CEL's semantics (an overflow, a division by zero, an index out of
// range). Then w may have received part of a value: discard it and call
// Eval, which gives the result or the error. Reporting false is never
// wrong; reporting true means w received exactly Eval's result.
//
// Maps and lists are what it saves: built by cel-go and converted by Eval,
// they cost several times what the scalars in them do.
func (p *Program) EvalTo(vars map[string]any, w Emitter) bool {
	if p.direct == nil {
		return false
	}
	return p.direct(vars, w)
}

// The direct evaluator is a tree of closures, one a node of the checked
// expression, each of the node's checked type. A closure reports false when
// it cannot give CEL's result (see EvalTo); its callers give up then.
type (
	varMap = map[string]any
	emitFn func(varMap, Emitter) bool
	intFn  = func(varMap) (int64, bool)
	dblFn  = func(varMap) (float64, bool)
	strFn  = func(varMap) (string, bool)
	boolFn = func(varMap) (bool, bool)
	timeFn = func(varMap) (time.Time, bool)
)

// directCompiler compiles a checked expression to closures. Each compile
// method returns nil for a node outside the subset.
type directCompiler struct {
	ast *celast.AST
}

// compileDirect returns the direct evaluator of a checked expression, or
// nil when the expression is outside the subset.
func compileDirect(ast *celast.AST) emitFn {
	if ast == nil || !ast.IsChecked() {
		return nil
	}
	c := directCompiler{ast: ast}
	return c.emit(ast.Expr())
}

func (c *directCompiler) kind(e celast.Expr) types.Kind {
	t := c.ast.GetType(e.ID())
	if t == nil {
		return types.DynKind
	}
	return t.Kind()
}

// overload returns the single overload the checker chose for a call, ""
// when it left more than one (a dyn argument).
func (c *directCompiler) overload(e celast.Expr) string {
	ids := c.ast.GetOverloadIDs(e.ID())
	if len(ids) != 1 {
		return ""
	}
	return ids[0]
}

// emit compiles a node whose value is handed to an Emitter.
func (c *directCompiler) emit(e celast.Expr) emitFn {
	switch e.Kind() {
	case celast.MapKind:
		return c.emitMap(e.AsMap())
	case celast.ListKind:
		return c.emitList(e.AsList())
	case celast.CallKind:
		if call := e.AsCall(); call.FunctionName() == operators.Conditional && len(call.Args()) == 3 {
			cond, yes, no := c.boolean(call.Args()[0]), c.emit(call.Args()[1]), c.emit(call.Args()[2])
			if cond == nil || yes == nil || no == nil {
				return nil
			}
			return func(a varMap, w Emitter) bool {
				v, ok := cond(a)
				if !ok {
					return false
				}
				if v {
					return yes(a, w)
				}
				return no(a, w)
			}
		}
	}
	switch c.kind(e) {
	case types.IntKind:
		if f := c.integer(e); f != nil {
			return func(a varMap, w Emitter) bool {
				v, ok := f(a)
				if ok {
					w.Int(v)
				}
				return ok
			}
		}
	case types.DoubleKind:
		if f := c.double(e); f != nil {
			return func(a varMap, w Emitter) bool {
				v, ok := f(a)
				if ok {
					w.Double(v)
				}
				return ok
			}
		}
	case types.StringKind:
		if f := c.str(e); f != nil {
			return func(a varMap, w Emitter) bool {
				v, ok := f(a)
				if ok {
					w.String(v)
				}
				return ok
			}
		}
	case types.BoolKind:
		if f := c.boolean(e); f != nil {
			return func(a varMap, w Emitter) bool {
				v, ok := f(a)
				if ok {
					w.Bool(v)
				}
				return ok
			}
		}
	case types.NullTypeKind:
		if e.Kind() == celast.LiteralKind {
			return func(_ varMap, w Emitter) bool {
				w.Null()
				return true
			}
		}
	}
	return nil
}

// emitMap compiles a map literal whose keys are distinct string literals;
// its entries are emitted in key order, the order Eval's result is
// encoded in.
func (c *directCompiler) emitMap(m celast.MapExpr) emitFn {
	type entry struct {
		key   string
		value emitFn
	}
	entries := make([]entry, 0, len(m.Entries()))
	for _, ee := range m.Entries() {
		if ee.Kind() != celast.MapEntryKind {
			return nil
		}
		me := ee.AsMapEntry()
		if me.IsOptional() || me.Key().Kind() != celast.LiteralKind {
			return nil
		}
		k, ok := me.Key().AsLiteral().(types.String)
		if !ok {
			return nil
		}
		v := c.emit(me.Value())
		if v == nil {
			return nil
		}
		entries = append(entries, entry{string(k), v})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	for i := 1; i < len(entries); i++ {
		if entries[i].key == entries[i-1].key {
			return nil // a duplicate key is an error at run time
		}
	}
	return func(a varMap, w Emitter) bool {
		w.BeginMap()
		for _, e := range entries {
			w.Key(e.key)
			if !e.value(a, w) {
				return false
			}
		}
		w.EndMap()
		return true
	}
}

func (c *directCompiler) emitList(l celast.ListExpr) emitFn {
	if len(l.OptionalIndices()) > 0 {
		return nil
	}
	elems := make([]emitFn, len(l.Elements()))
	for i, e := range l.Elements() {
		if elems[i] = c.emit(e); elems[i] == nil {
			return nil
		}
	}
	return func(a varMap, w Emitter) bool {
		w.BeginList()
		for _, e := range elems {
			if !e(a, w) {
				return false
			}
		}
		w.EndList()
		return true
	}
}

// variable returns the name of an identifier that is a plain variable,
// "" otherwise (a constant, an enum value).
func (c *directCompiler) variable(e celast.Expr) string {
	if e.Kind() != celast.IdentKind {
		return ""
	}
	name := e.AsIdent()
	if r, ok := c.ast.ReferenceMap()[e.ID()]; ok && (r.Value != nil || (r.Name != "" && r.Name != name)) {
		return ""
	}
	return name
}

// call returns a call's function, its checked overload and its arguments,
// or ok false for a node that is not a global call.
func (c *directCompiler) call(e celast.Expr) (fn, overload string, args []celast.Expr, ok bool) {
	if e.Kind() != celast.CallKind {
		return "", "", nil, false
	}
	call := e.AsCall()
	if call.IsMemberFunction() {
		return "", "", nil, false
	}
	return call.FunctionName(), c.overload(e), call.Args(), true
}

// conditional compiles `cond ? yes : no` for any one of the typed
// closures.
func conditional[T any](cond boolFn, yes, no func(varMap) (T, bool)) func(varMap) (T, bool) {
	return func(a varMap) (T, bool) {
		v, ok := cond(a)
		if !ok {
			var zero T
			return zero, false
		}
		if v {
			return yes(a)
		}
		return no(a)
	}
}

// index compiles `[e0, e1, …][i]` for any one of the typed closures.
func index[T any](elems []func(varMap) (T, bool), i intFn) func(varMap) (T, bool) {
	return func(a varMap) (T, bool) {
		n, ok := i(a)
		if !ok || n < 0 || n >= int64(len(elems)) {
			var zero T
			return zero, false
		}
		return elems[n](a)
	}
}

// variableOf compiles a variable of Go type T.
func variableOf[T any](name string) func(varMap) (T, bool) {
	return func(a varMap) (T, bool) {
		v, ok := a[name].(T)
		return v, ok
	}
}

// generic compiles the nodes every type shares: a variable, a
// conditional, an index into a list literal. nil for other nodes.
func generic[T any](c *directCompiler, e celast.Expr, compile func(celast.Expr) func(varMap) (T, bool)) func(varMap) (T, bool) {
	if name := c.variable(e); name != "" {
		return variableOf[T](name)
	}
	fn, ov, args, ok := c.call(e)
	if !ok {
		return nil
	}
	switch {
	case fn == operators.Conditional && len(args) == 3:
		cond, yes, no := c.boolean(args[0]), compile(args[1]), compile(args[2])
		if cond == nil || yes == nil || no == nil {
			return nil
		}
		return conditional(cond, yes, no)
	case fn == operators.Index && ov == overloads.IndexList && len(args) == 2 && args[0].Kind() == celast.ListKind:
		l := args[0].AsList()
		if len(l.OptionalIndices()) > 0 {
			return nil
		}
		elems := make([]func(varMap) (T, bool), len(l.Elements()))
		for k, el := range l.Elements() {
			if elems[k] = compile(el); elems[k] == nil {
				return nil
			}
		}
		i := c.integer(args[1])
		if i == nil {
			return nil
		}
		return index(elems, i)
	}
	return nil
}

func (c *directCompiler) integer(e celast.Expr) intFn {
	if c.kind(e) != types.IntKind {
		return nil
	}
	if e.Kind() == celast.LiteralKind {
		v, ok := e.AsLiteral().(types.Int)
		if !ok {
			return nil
		}
		return func(varMap) (int64, bool) { return int64(v), true }
	}
	if f := generic(c, e, c.integer); f != nil {
		return f
	}
	_, ov, args, ok := c.call(e)
	if !ok {
		return nil
	}
	if len(args) == 1 {
		switch ov {
		case overloads.NegateInt64:
			x := c.integer(args[0])
			if x == nil {
				return nil
			}
			return func(a varMap) (int64, bool) {
				v, ok := x(a)
				return -v, ok && v != math.MinInt64
			}
		case overloads.DoubleToInt:
			x := c.double(args[0])
			if x == nil {
				return nil
			}
			return func(a varMap) (int64, bool) {
				v, ok := x(a)
				// Well inside int64's range CEL truncates; at the edges
				// (and for NaN) leave the error or result to cel-go.
				if !ok || !(v > -9e18 && v < 9e18) {
					return 0, false
				}
				return int64(v), true
			}
		case overloads.SizeString:
			x := c.str(args[0])
			if x == nil {
				return nil
			}
			return func(a varMap) (int64, bool) {
				v, ok := x(a)
				return int64(utf8.RuneCountInString(v)), ok
			}
		}
		return nil
	}
	if len(args) != 2 {
		return nil
	}
	var op func(x, y int64) (int64, bool)
	switch ov {
	case overloads.AddInt64:
		op = func(x, y int64) (int64, bool) {
			r := x + y
			return r, (r > x) == (y > 0)
		}
	case overloads.SubtractInt64:
		op = func(x, y int64) (int64, bool) {
			r := x - y
			return r, (r < x) == (y > 0)
		}
	case overloads.MultiplyInt64:
		op = func(x, y int64) (int64, bool) {
			if x == 0 || y == 0 {
				return 0, true
			}
			r := x * y
			return r, r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64)
		}
	case overloads.DivideInt64:
		op = func(x, y int64) (int64, bool) {
			if y == 0 || y == -1 {
				return 0, false
			}
			return x / y, true
		}
	case overloads.ModuloInt64:
		op = func(x, y int64) (int64, bool) {
			if y == 0 || y == -1 {
				return 0, false
			}
			return x % y, true
		}
	default:
		return nil
	}
	x, y := c.integer(args[0]), c.integer(args[1])
	if x == nil || y == nil {
		return nil
	}
	return func(a varMap) (int64, bool) {
		u, ok := x(a)
		if !ok {
			return 0, false
		}
		v, ok := y(a)
		if !ok {
			return 0, false
		}
		return op(u, v)
	}
}

func (c *directCompiler) double(e celast.Expr) dblFn {
	if c.kind(e) != types.DoubleKind {
		return nil
	}
	if e.Kind() == celast.LiteralKind {
		v, ok := e.AsLiteral().(types.Double)
		if !ok {
			return nil
		}
		return func(varMap) (float64, bool) { return float64(v), true }
	}
	if f := generic(c, e, c.double); f != nil {
		return f
	}
	_, ov, args, ok := c.call(e)
	if !ok {
		return nil
	}
	if len(args) == 1 {
		switch ov {
		case overloads.NegateDouble:
			x := c.double(args[0])
			if x == nil {
				return nil
			}
			return func(a varMap) (float64, bool) {
				v, ok := x(a)
				return -v, ok
			}
		case overloads.IntToDouble:
			x := c.integer(args[0])
			if x == nil {
				return nil
			}
			return func(a varMap) (float64, bool) {
				v, ok := x(a)
				return float64(v), ok
			}
		}
		return nil
	}
	if len(args) != 2 {
		return nil
	}
	// Double arithmetic never fails in CEL: IEEE 754, as in Go.
	var op func(x, y float64) float64
	switch ov {
	case overloads.AddDouble:
		op = func(x, y float64) float64 { return x + y }
	case overloads.SubtractDouble:
		op = func(x, y float64) float64 { return x - y }
	case overloads.MultiplyDouble:
		op = func(x, y float64) float64 { return x * y }
	case overloads.DivideDouble:
		op = func(x, y float64) float64 { return x / y }
	default:
		return nil
	}
	x, y := c.double(args[0]), c.double(args[1])
	if x == nil || y == nil {
		return nil
	}
	return func(a varMap) (float64, bool) {
		u, ok := x(a)
		if !ok {
			return 0, false
		}
		v, ok := y(a)
		return op(u, v), ok
	}
}

func (c *directCompiler) str(e celast.Expr) strFn {
	if c.kind(e) != types.StringKind {
		return nil
	}
	if e.Kind() == celast.LiteralKind {
		v, ok := e.AsLiteral().(types.String)
		if !ok {
			return nil
		}
		return func(varMap) (string, bool) { return string(v), true }
	}
	if f := generic(c, e, c.str); f != nil {
		return f
	}
	_, ov, args, ok := c.call(e)
	if !ok {
		return nil
	}
	switch {
	case ov == overloads.AddString && len(args) == 2:
		x, y := c.str(args[0]), c.str(args[1])
		if x == nil || y == nil {
			return nil
		}
		return func(a varMap) (string, bool) {
			u, ok := x(a)
			if !ok {
				return "", false
			}
			v, ok := y(a)
			return u + v, ok
		}
	case ov == overloads.IntToString && len(args) == 1:
		x := c.integer(args[0])
		if x == nil {
			return nil
		}
		return func(a varMap) (string, bool) {
			v, ok := x(a)
			return strconv.FormatInt(v, 10), ok
		}
	case ov == overloads.DoubleToString && len(args) == 1:
		x := c.double(args[0])
		if x == nil {
			return nil
		}
		return func(a varMap) (string, bool) {
			v, ok := x(a)
			// cel-go formats with %g, which is strconv's shortest 'g'.
			return strconv.FormatFloat(v, 'g', -1, 64), ok
		}
	case ov == overloads.BoolToString && len(args) == 1:
		x := c.boolean(args[0])
		if x == nil {
			return nil
		}
		return func(a varMap) (string, bool) {
			v, ok := x(a)
			return strconv.FormatBool(v), ok
		}
	case ov == overloads.TimestampToString && len(args) == 1:
		x := c.timestamp(args[0])
		if x == nil {
			return nil
		}
		return func(a varMap) (string, bool) {
			v, ok := x(a)
			return v.Format(time.RFC3339Nano), ok
		}
	}
	return nil
}

// The range of CEL timestamps in Unix seconds: years 1 to 9999.
const (
	minUnixSeconds = -62135596800
	maxUnixSeconds = 253402300799
)

func (c *directCompiler) timestamp(e celast.Expr) timeFn {
	if c.kind(e) != types.TimestampKind {
		return nil
	}
	if f := generic(c, e, c.timestamp); f != nil {
		return f
	}
	_, ov, args, ok := c.call(e)
	if !ok || ov != overloads.IntToTimestamp || len(args) != 1 {
		return nil
	}
	x := c.integer(args[0])
	if x == nil {
		return nil
	}
	return func(a varMap) (time.Time, bool) {
		v, ok := x(a)
		if !ok || v < minUnixSeconds || v > maxUnixSeconds {
			return time.Time{}, false
		}
		return time.Unix(v, 0).UTC(), true
	}
}

func (c *directCompiler) boolean(e celast.Expr) boolFn {
	if c.kind(e) != types.BoolKind {
		return nil
	}
	if e.Kind() == celast.LiteralKind {
		v, ok := e.AsLiteral().(types.Bool)
		if !ok {
			return nil
		}
		return func(varMap) (bool, bool) { return bool(v), true }
	}
	if f := generic(c, e, c.boolean); f != nil {
		return f
	}
	fn, ov, args, ok := c.call(e)
	if !ok {
		return nil
	}
	switch {
	case fn == operators.LogicalNot && len(args) == 1:
		x := c.boolean(args[0])
		if x == nil {
			return nil
		}
		return func(a varMap) (bool, bool) {
			v, ok := x(a)
			return !v, ok
		}
	case (fn == operators.LogicalAnd || fn == operators.LogicalOr) && len(args) == 2:
		x, y := c.boolean(args[0]), c.boolean(args[1])
		if x == nil || y == nil {
			return nil
		}
		// CEL's && and || absorb an error on one side when the other
		// decides; here any failure gives up, which is never wrong.
		and := fn == operators.LogicalAnd
		return func(a varMap) (bool, bool) {
			u, ok := x(a)
			if !ok {
				return false, false
			}
			if u != and {
				return u, true
			}
			return y(a)
		}
	case len(args) == 2:
		return c.compare(fn, ov, args[0], args[1])
	}
	return nil
}

// compare compiles a comparison of two ints, doubles or strings.
func (c *directCompiler) compare(fn, ov string, x, y celast.Expr) boolFn {
	if ov != overloads.Equals && ov != overloads.NotEquals && !slices.Contains(orderings, ov) {
		return nil
	}
	kx, ky := c.kind(x), c.kind(y)
	if kx != ky {
		return nil
	}
	switch kx {
	case types.IntKind:
		return ordered(fn, c.integer(x), c.integer(y))
	case types.DoubleKind:
		return ordered(fn, c.double(x), c.double(y))
	case types.StringKind:
		return ordered(fn, c.str(x), c.str(y))
	case types.BoolKind:
		if fn == operators.Equals || fn == operators.NotEquals {
			return ordered(fn, c.boolAsInt(x), c.boolAsInt(y))
		}
	}
	return nil
}

// orderings are the overloads of <, <=, > and >= that compare two values
// of one type.
var orderings = []string{
	overloads.LessInt64, overloads.LessDouble, overloads.LessString,
	overloads.LessEqualsInt64, overloads.LessEqualsDouble, overloads.LessEqualsString,
	overloads.GreaterInt64, overloads.GreaterDouble, overloads.GreaterString,
	overloads.GreaterEqualsInt64, overloads.GreaterEqualsDouble, overloads.GreaterEqualsString,
}

// boolAsInt compiles a bool as 0 or 1, for == and !=.
func (c *directCompiler) boolAsInt(e celast.Expr) intFn {
	x := c.boolean(e)
	if x == nil {
		return nil
	}
	return func(a varMap) (int64, bool) {
		v, ok := x(a)
		if v {
			return 1, ok
		}
		return 0, ok
	}
}

// ordered compiles the comparison fn of two closures of an ordered type.
// Go's comparisons of float64 are IEEE 754's, as CEL's are (NaN is
// unequal to everything).
func ordered[T int64 | float64 | string](fn string, x, y func(varMap) (T, bool)) boolFn {
	if x == nil || y == nil {
		return nil
	}
	var op func(u, v T) bool
	switch fn {
	case operators.Equals:
		op = func(u, v T) bool { return u == v }
	case operators.NotEquals:
		op = func(u, v T) bool { return u != v }
	case operators.Less:
		op = func(u, v T) bool { return u < v }
	case operators.LessEquals:
		op = func(u, v T) bool { return u <= v }
	case operators.Greater:
		op = func(u, v T) bool { return u > v }
	case operators.GreaterEquals:
		op = func(u, v T) bool { return u >= v }
	default:
		return nil
	}
	return func(a varMap) (bool, bool) {
		u, ok := x(a)
		if !ok {
			return false, false
		}
		v, ok := y(a)
		return op(u, v), ok
	}
}
