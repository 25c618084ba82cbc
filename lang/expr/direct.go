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
//
// It is an alias of an unnamed interface type, so that the plugin SDK
// (runtime/connector.Emitter) declares the very same type without
// importing this package.
type Emitter = interface {
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
		return emitScalar(c.integer(e), Emitter.Int)
	case types.DoubleKind:
		return emitScalar(c.double(e), Emitter.Double)
	case types.StringKind:
		return emitScalar(c.str(e), Emitter.String)
	case types.BoolKind:
		return emitScalar(c.boolean(e), Emitter.Bool)
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

// emitScalar compiles a scalar handed to an Emitter with put.
func emitScalar[T any](f func(varMap) (T, bool), put func(Emitter, T)) emitFn {
	if f == nil {
		return nil
	}
	return func(a varMap, w Emitter) bool {
		v, ok := f(a)
		if ok {
			put(w, v)
		}
		return ok
	}
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
// Every element is evaluated, as cel-go builds the whole list first: one
// that fails makes the index fail too.
func index[T any](elems []func(varMap) (T, bool), i intFn) func(varMap) (T, bool) {
	return func(a varMap) (T, bool) {
		var zero, picked T
		n, ok := i(a)
		if !ok || n < 0 || n >= int64(len(elems)) {
			return zero, false
		}
		for k, e := range elems {
			v, ok := e(a)
			if !ok {
				return zero, false
			}
			if int64(k) == n {
				picked = v
			}
		}
		return picked, true
	}
}

// variableOf compiles a variable of Go type T.
func variableOf[T any](name string) func(varMap) (T, bool) {
	return func(a varMap) (T, bool) {
		v, ok := a[name].(T)
		return v, ok
	}
}

// generic compiles what every type shares: it checks the node's type is
// kind, and compiles a literal, a variable, a conditional or an index into
// a list literal. done is false for the other nodes: calls for the
// caller to compile.
func generic[T any](c *directCompiler, e celast.Expr, kind types.Kind, compile func(celast.Expr) func(varMap) (T, bool)) (f func(varMap) (T, bool), done bool) {
	if c.kind(e) != kind {
		return nil, true
	}
	if e.Kind() == celast.LiteralKind {
		v, ok := e.AsLiteral().Value().(T)
		if !ok {
			return nil, true
		}
		return func(varMap) (T, bool) { return v, true }, true
	}
	if name := c.variable(e); name != "" {
		return variableOf[T](name), true
	}
	fn, ov, args, ok := c.call(e)
	if !ok {
		return nil, true
	}
	switch {
	case fn == operators.Conditional && len(args) == 3:
		cond, yes, no := c.boolean(args[0]), compile(args[1]), compile(args[2])
		if cond == nil || yes == nil || no == nil {
			return nil, true
		}
		return conditional(cond, yes, no), true
	case fn == operators.Index && ov == overloads.IndexList && len(args) == 2 && args[0].Kind() == celast.ListKind:
		l := args[0].AsList()
		if len(l.OptionalIndices()) > 0 {
			return nil, true
		}
		elems := make([]func(varMap) (T, bool), len(l.Elements()))
		for k, el := range l.Elements() {
			if elems[k] = compile(el); elems[k] == nil {
				return nil, true
			}
		}
		i := c.integer(args[1])
		if i == nil {
			return nil, true
		}
		return index(elems, i), true
	}
	return nil, false
}

// unary compiles op applied to x's value; op reports false to give up.
func unary[T, U any](x func(varMap) (T, bool), op func(T) (U, bool)) func(varMap) (U, bool) {
	if x == nil {
		return nil
	}
	return func(a varMap) (U, bool) {
		v, ok := x(a)
		if !ok {
			var zero U
			return zero, false
		}
		return op(v)
	}
}

// binary compiles op applied to x's and y's values, evaluated in that
// order; op reports false to give up.
func binary[T, U any](x, y func(varMap) (T, bool), op func(u, v T) (U, bool)) func(varMap) (U, bool) {
	if x == nil || y == nil || op == nil {
		return nil
	}
	return func(a varMap) (U, bool) {
		u, ok := x(a)
		if !ok {
			var zero U
			return zero, false
		}
		v, ok := y(a)
		if !ok {
			var zero U
			return zero, false
		}
		return op(u, v)
	}
}

// intOps are CEL's int arithmetic, giving up on an overflow or a division
// by zero. Division and modulo by -1 give up too (CEL fails for the
// lowest int; cel-go decides).
var intOps = map[string]func(x, y int64) (int64, bool){
	overloads.AddInt64: func(x, y int64) (int64, bool) {
		r := x + y
		return r, (r > x) == (y > 0)
	},
	overloads.SubtractInt64: func(x, y int64) (int64, bool) {
		r := x - y
		return r, (r < x) == (y > 0)
	},
	overloads.MultiplyInt64: func(x, y int64) (int64, bool) {
		if x == 0 || y == 0 {
			return 0, true
		}
		r := x * y
		return r, r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64)
	},
	overloads.DivideInt64: func(x, y int64) (int64, bool) {
		if y == 0 || y == -1 {
			return 0, false
		}
		return x / y, true
	},
	overloads.ModuloInt64: func(x, y int64) (int64, bool) {
		if y == 0 || y == -1 {
			return 0, false
		}
		return x % y, true
	},
}

// doubleOps are CEL's double arithmetic: IEEE 754 as in Go, never failing.
var doubleOps = map[string]func(x, y float64) (float64, bool){
	overloads.AddDouble:      func(x, y float64) (float64, bool) { return x + y, true },
	overloads.SubtractDouble: func(x, y float64) (float64, bool) { return x - y, true },
	overloads.MultiplyDouble: func(x, y float64) (float64, bool) { return x * y, true },
	overloads.DivideDouble:   func(x, y float64) (float64, bool) { return x / y, true },
}

func (c *directCompiler) integer(e celast.Expr) intFn {
	if f, done := generic(c, e, types.IntKind, c.integer); done {
		return f
	}
	_, ov, args, _ := c.call(e)
	switch {
	case len(args) == 2:
		return binary(c.integer(args[0]), c.integer(args[1]), intOps[ov])
	case len(args) != 1:
	case ov == overloads.NegateInt64:
		return unary(c.integer(args[0]), func(v int64) (int64, bool) { return -v, v != math.MinInt64 })
	case ov == overloads.DoubleToInt:
		return unary(c.double(args[0]), func(v float64) (int64, bool) {
			// Well inside int64's range CEL truncates; at the edges
			// (and for NaN) leave the error or result to cel-go.
			if !(v > -9e18 && v < 9e18) {
				return 0, false
			}
			return int64(v), true
		})
	case ov == overloads.SizeString:
		return unary(c.str(args[0]), func(v string) (int64, bool) { return int64(utf8.RuneCountInString(v)), true })
	}
	return nil
}

func (c *directCompiler) double(e celast.Expr) dblFn {
	if f, done := generic(c, e, types.DoubleKind, c.double); done {
		return f
	}
	_, ov, args, _ := c.call(e)
	switch {
	case len(args) == 2:
		return binary(c.double(args[0]), c.double(args[1]), doubleOps[ov])
	case len(args) != 1:
	case ov == overloads.NegateDouble:
		return unary(c.double(args[0]), func(v float64) (float64, bool) { return -v, true })
	case ov == overloads.IntToDouble:
		return unary(c.integer(args[0]), func(v int64) (float64, bool) { return float64(v), true })
	}
	return nil
}

func (c *directCompiler) str(e celast.Expr) strFn {
	if f, done := generic(c, e, types.StringKind, c.str); done {
		return f
	}
	_, ov, args, _ := c.call(e)
	switch {
	case len(args) == 2 && ov == overloads.AddString:
		return binary(c.str(args[0]), c.str(args[1]), func(u, v string) (string, bool) { return u + v, true })
	case len(args) != 1:
	case ov == overloads.IntToString:
		return unary(c.integer(args[0]), func(v int64) (string, bool) { return strconv.FormatInt(v, 10), true })
	case ov == overloads.DoubleToString:
		// cel-go formats with %g, which is strconv's shortest 'g'.
		return unary(c.double(args[0]), func(v float64) (string, bool) { return strconv.FormatFloat(v, 'g', -1, 64), true })
	case ov == overloads.BoolToString:
		return unary(c.boolean(args[0]), func(v bool) (string, bool) { return strconv.FormatBool(v), true })
	case ov == overloads.TimestampToString:
		return unary(c.timestamp(args[0]), func(v time.Time) (string, bool) { return v.Format(time.RFC3339Nano), true })
	}
	return nil
}

// The range of CEL timestamps in Unix seconds: years 1 to 9999.
const (
	minUnixSeconds = -62135596800
	maxUnixSeconds = 253402300799
)

func (c *directCompiler) timestamp(e celast.Expr) timeFn {
	if f, done := generic(c, e, types.TimestampKind, c.timestamp); done {
		return f
	}
	_, ov, args, _ := c.call(e)
	if ov != overloads.IntToTimestamp || len(args) != 1 {
		return nil
	}
	return unary(c.integer(args[0]), func(v int64) (time.Time, bool) {
		if v < minUnixSeconds || v > maxUnixSeconds {
			return time.Time{}, false
		}
		return time.Unix(v, 0).UTC(), true
	})
}

func (c *directCompiler) boolean(e celast.Expr) boolFn {
	if f, done := generic(c, e, types.BoolKind, c.boolean); done {
		return f
	}
	fn, ov, args, ok := c.call(e)
	if !ok {
		return nil
	}
	switch {
	case fn == operators.LogicalNot && len(args) == 1:
		return unary(c.boolean(args[0]), func(v bool) (bool, bool) { return !v, true })
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
	return unary(c.boolean(e), func(v bool) (int64, bool) {
		if v {
			return 1, true
		}
		return 0, true
	})
}

// ordered compiles the comparison fn of two closures of an ordered type.
// Go's comparisons of float64 are IEEE 754's, as CEL's are (NaN is
// unequal to everything).
func ordered[T int64 | float64 | string](fn string, x, y func(varMap) (T, bool)) boolFn {
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
	return binary(x, y, func(u, v T) (bool, bool) { return op(u, v), true })
}
