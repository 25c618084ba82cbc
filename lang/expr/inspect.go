package expr

import (
	"slices"
	"strings"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"

	"github.com/pipectl/pipectl/lang/recordschema"
)

// What a program reads and returns, read from its checked syntax tree once
// at Compile: the one place that knows which variables an expression uses
// (the engine decodes only what transforms read) and what type of record
// value it builds.

// Vars returns the variables of its environment that the program reads,
// sorted: identifiers that name a declared variable, not a comprehension's
// own variables (`[1].exists(value, value > 0)` reads none), not text in
// string literals, not fields (`key.value` reads key).
func (p *Program) Vars() []string { return slices.Clone(p.vars) }

// Path returns the variable and field names of a program that is only a
// selection, like value.customer.id or value['a-b'] (["value", "customer",
// "id"]), and nil for any other program. A transform that copies a field
// keeps the field's schema through it.
func (p *Program) Path() []string { return slices.Clone(p.path) }

// OutputSchema returns the record schema of what the program returns when
// its checked type says it fully (nil otherwise, e.g. for dyn): boolean,
// int64 for int, float64 for double, string, bytes, timestamp-micros for a
// timestamp, arrays and maps of those, and a struct for a map literal with
// constant string keys, its fields in the order written. A value of such a
// program always fits its schema. The schema is shared: do not change it.
func (p *Program) OutputSchema() *recordschema.Schema { return p.schema }

// Shape is OutputSchema for a typed check (validate): a map literal's
// field whose type is not known (a null, a dyn) is a json field (dyn in
// CEL, optional) instead of making the whole literal unknown. Not a
// schema to write records with.
func (p *Program) Shape() *recordschema.Schema { return p.shape }

// untypedField is the schema of a map literal's field in a Shape whose
// type is not known.
var untypedField = &recordschema.Schema{Type: recordschema.String, Logical: recordschema.JSON, Optional: true}

// freeVars returns the declared variables the expression reads, sorted.
func freeVars(e celast.Expr, declared []Var) []string {
	seen := map[string]bool{}
	walkIdents(e, nil, func(name string) { seen[name] = true })
	var out []string
	for _, v := range declared {
		if seen[v.Name] {
			out = append(out, v.Name)
		}
	}
	return out // declared is sorted by name
}

// walkIdents calls use for every identifier of e that is not bound by an
// enclosing comprehension. bound lists the names in scope.
func walkIdents(e celast.Expr, bound []string, use func(string)) {
	switch e.Kind() {
	case celast.IdentKind:
		name := e.AsIdent()
		if global, ok := strings.CutPrefix(name, "."); ok {
			// .value: the global even where a comprehension variable
			// shadows it.
			use(global)
		} else if !slices.Contains(bound, name) {
			use(name)
		}
	case celast.SelectKind:
		walkIdents(e.AsSelect().Operand(), bound, use)
	case celast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			walkIdents(c.Target(), bound, use)
		}
		for _, a := range c.Args() {
			walkIdents(a, bound, use)
		}
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			walkIdents(el, bound, use)
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			walkIdents(me.Key(), bound, use)
			walkIdents(me.Value(), bound, use)
		}
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			walkIdents(f.AsStructField().Value(), bound, use)
		}
	case celast.ComprehensionKind:
		c := e.AsComprehension()
		// The range and the accumulator's start are evaluated outside the
		// comprehension; the loop sees its iteration variables and the
		// accumulator, the result only the accumulator.
		walkIdents(c.IterRange(), bound, use)
		walkIdents(c.AccuInit(), bound, use)
		withAccu := append(slices.Clip(bound), c.AccuVar())
		loop := append(slices.Clip(withAccu), c.IterVar())
		if c.HasIterVar2() {
			loop = append(loop, c.IterVar2())
		}
		walkIdents(c.LoopCondition(), loop, use)
		walkIdents(c.LoopStep(), loop, use)
		walkIdents(c.Result(), withAccu, use)
	}
}

// selectionPath returns the path of an expression that is only a selection
// of fields (by name or by a string literal index) of a declared variable,
// nil otherwise.
func selectionPath(e celast.Expr, declared []Var) []string {
	var rev []string
	for {
		switch e.Kind() {
		case celast.SelectKind:
			s := e.AsSelect()
			if s.IsTestOnly() {
				return nil
			}
			rev = append(rev, s.FieldName())
			e = s.Operand()
			continue
		case celast.CallKind:
			c := e.AsCall()
			args := c.Args()
			if c.FunctionName() != "_[_]" || len(args) != 2 || args[1].Kind() != celast.LiteralKind {
				return nil
			}
			key, ok := args[1].AsLiteral().(types.String)
			if !ok {
				return nil
			}
			rev = append(rev, string(key))
			e = args[0]
			continue
		case celast.IdentKind:
			name := strings.TrimPrefix(e.AsIdent(), ".")
			if !slices.ContainsFunc(declared, func(v Var) bool { return v.Name == name }) {
				return nil
			}
			slices.Reverse(rev)
			return append([]string{name}, rev...)
		}
		return nil
	}
}

// outputSchema returns the record schema of e's value when its checked
// type says it fully, nil otherwise.
func outputSchema(a *celast.AST, e celast.Expr, loose bool) *recordschema.Schema {
	switch e.Kind() {
	case celast.MapKind:
		entries := e.AsMap().Entries()
		s := &recordschema.Schema{Type: recordschema.Struct, Fields: make([]recordschema.Field, 0, len(entries))}
		literal := true
		for _, en := range entries {
			me := en.AsMapEntry()
			if me.IsOptional() || me.Key().Kind() != celast.LiteralKind {
				literal = false
				break
			}
			name, ok := me.Key().AsLiteral().(types.String)
			if f, _ := s.Field(string(name)); !ok || f != nil {
				literal = false
				break
			}
			fs := outputSchema(a, me.Value(), loose)
			if fs == nil && loose {
				fs = untypedField
			}
			if fs == nil {
				return nil
			}
			s.Fields = append(s.Fields, recordschema.Field{Name: string(name), Schema: fs})
		}
		if literal && len(entries) > 0 {
			return s
		}
	case celast.ListKind:
		l := e.AsList()
		var items *recordschema.Schema
		for i, el := range l.Elements() {
			es := outputSchema(a, el, loose)
			if es == nil || l.IsOptional(int32(i)) || (items != nil && !items.Equal(es)) {
				items = nil
				break
			}
			items = es
		}
		if items != nil {
			return &recordschema.Schema{Type: recordschema.Array, Items: items}
		}
	}
	return typeSchema(a.GetType(e.ID()))
}

// typeSchema returns the record schema of a checked CEL type, nil when it
// has none or may be null.
func typeSchema(t *types.Type) *recordschema.Schema {
	if t == nil || t.IsAssignableType(types.NullType) {
		return nil
	}
	switch t.Kind() {
	case types.BoolKind:
		return &recordschema.Schema{Type: recordschema.Boolean}
	case types.IntKind:
		return &recordschema.Schema{Type: recordschema.Int64}
	case types.DoubleKind:
		return &recordschema.Schema{Type: recordschema.Float64}
	case types.StringKind:
		return &recordschema.Schema{Type: recordschema.String}
	case types.BytesKind:
		return &recordschema.Schema{Type: recordschema.Bytes}
	case types.TimestampKind:
		return &recordschema.Schema{Type: recordschema.Int64, Logical: recordschema.TimestampMicros}
	case types.ListKind:
		if items := typeSchema(t.Parameters()[0]); items != nil {
			return &recordschema.Schema{Type: recordschema.Array, Items: items}
		}
	case types.MapKind:
		if t.Parameters()[0].Kind() != types.StringKind {
			return nil
		}
		if values := typeSchema(t.Parameters()[1]); values != nil {
			return &recordschema.Schema{Type: recordschema.Map, Keys: &recordschema.Schema{Type: recordschema.String}, Values: values}
		}
	}
	return nil
}
