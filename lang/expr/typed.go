package expr

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/recordschema"
)

// Typed checks: an expression of the record environment checked a second
// time with key and value declared by their record schemas, so that a
// misspelt field or a string compared with an int is a compile problem.
// The program that runs is still the one Compile makes in RecordEnv, where
// key and value are dyn: the typed check only finds problems, it never
// changes what an expression does.
//
// A struct is a CEL object type whose fields are the struct's (a custom
// types.Provider over the schema); everything whose runtime value CEL
// might see otherwise is left dyn, because a false error on a valid
// pipeline is worse than a missed one:
//
//   - a struct that the expression uses other than by selecting its fields
//     (value['a-b'], size(value), 'a' in value, value == {...}, a
//     comprehension over it, passed to a function): CEL objects have no
//     index, size or range, and the runtime value is a map;
//   - structs inside arrays and map values (a comprehension's variable is
//     not followed);
//   - optional arrays and maps (CEL has no nullable list), json values;
//   - without Exact, every type whose value depends on the converter (the
//     json converter gives float64 for every number and text for bytes and
//     times): only strings, uuids, booleans, structs, arrays and maps are
//     typed.
//
// Optional primitives are CEL's nullable types (a string or null).

// Shapes are the record schemas a typed check knows: nil for a schemaless
// (dyn) key or value.
type Shapes struct {
	Key, Value *recordschema.Schema
	// Exact says the values CEL sees are the schema's representation
	// (recordschema value.go): numbers of their types, bytes as bytes,
	// times as timestamps and durations, a decimal as its text.
	Exact bool
}

// CheckTyped type-checks src, an expression of RecordEnv, with key and
// value declared by shapes, and returns its problems and the record schema
// of its result (nil when its type does not say it, as Program.Shape: a
// map literal's field of unknown type is a json field).
// want is as for Compile. With no shapes the check is Compile's. CheckTyped
// never panics.
func CheckTyped(src string, want Type, shapes Shapes) (out *recordschema.Schema, issues []Issue) {
	return RecordEnv().CheckTyped(src, want, shapes)
}

// CheckTyped is the typed check in e: its variables key and value, where
// they are dyn, are declared by shapes (a sink's expression attributes
// over the record).
func (e *Env) CheckTyped(src string, want Type, shapes Shapes) (out *recordschema.Schema, issues []Issue) {
	defer func() {
		if r := recover(); r != nil {
			out = nil
			issues = []Issue{{Offset: -1, End: -1, Message: fmt.Sprintf("internal error type-checking the expression: %v", r)}}
		}
	}()
	base := e
	if len(src) > MaxSourceBytes {
		_, issues := base.Compile(src, want)
		return nil, issues
	}
	parsed, iss := base.cel.Parse(src)
	if iss.Err() != nil {
		return nil, base.issues(src, iss, nil)
	}
	dyn := map[string]bool{}
	markStructUses(parsed.NativeRep().Expr(), nil, false, dyn)
	p := &shapeProvider{Registry: mustRegistry(), exact: shapes.Exact, dyn: dyn, structs: map[string]*recordschema.Schema{}, missed: map[string]missedField{}}
	keyType := p.celType(shapes.Key, "key", false)
	valueType := p.celType(shapes.Value, "value", false)
	decls := make([]cel.EnvOption, 0, len(base.vars))
	for _, v := range base.vars {
		t := base.varType(v)
		switch {
		case v.Name == "key" && t == types.DynType:
			t = keyType
		case v.Name == "value" && t == types.DynType:
			t = valueType
		}
		decls = append(decls, cel.Variable(v.Name, t))
	}
	env, err := newEnvWith([]cel.EnvOption{cel.CustomTypeProvider(p)}, base.vars, decls...)
	if err != nil {
		return nil, []Issue{{Offset: -1, End: -1, Message: "internal error building the typed environment: " + err.Error()}}
	}
	checked, iss := env.cel.Check(parsed)
	if iss.Err() != nil {
		var issues []Issue
		for _, is := range env.issues(src, iss, parsed.NativeRep().SourceInfo()) {
			if numericEquality(is.Message) {
				continue
			}
			if field, ok := undefinedField(is.Message); ok {
				is.Offset, is.End = fieldAt(src, is.Offset, is.End, field)
			}
			is.Message = p.hint(is.Message)
			issues = append(issues, is)
		}
		if len(issues) == 0 {
			// Only equalities of numbers of different types: CEL's
			// checker refuses them, its runtime compares them.
			return nil, nil
		}
		return nil, issues
	}
	if is := wantIssue(src, want, checked.OutputType()); is != nil {
		return nil, []Issue{*is}
	}
	native := checked.NativeRep()
	return outputSchema(native, native.Expr(), true), nil
}

// varType is the CEL type a variable of e is declared with.
func (e *Env) varType(v Var) *types.Type {
	if t, ok := varTypes[v.Type]; ok {
		return t
	}
	if v.Name == "headers" {
		return types.NewMapType(types.StringType, types.StringType)
	}
	return types.DynType
}

// wantIssue is the problem of an expression of output type out where want
// is wanted, or nil.
func wantIssue(src string, want Type, out *types.Type) *Issue {
	if want != Bool && want != String {
		return nil
	}
	wantKind := types.BoolKind
	if want == String {
		wantKind = types.StringKind
	}
	switch out.Kind() {
	case wantKind, types.DynKind, types.AnyKind, types.TypeParamKind:
		return nil
	}
	start, end := wholeSpan(src)
	return &Issue{Offset: start, End: end, Message: fmt.Sprintf("expression must return %s, but it returns %s", want, cel.FormatCELType(out))}
}

func mustRegistry() *types.Registry {
	r, err := types.NewRegistry()
	if err != nil {
		panic(fmt.Sprintf("expr: a new type registry: %v", err))
	}
	return r
}

// markStructUses records in dyn the paths (key, value.customer) that e
// uses other than as the operand of a field selection. bound are the
// comprehension variables in scope; operand says e is selected from.
func markStructUses(e celast.Expr, bound []string, operand bool, dyn map[string]bool) {
	if path := fieldPath(e, bound); path != nil {
		if !operand {
			dyn[strings.Join(path, ".")] = true
		}
		if e.Kind() == celast.SelectKind {
			markStructUses(e.AsSelect().Operand(), bound, true, dyn)
		}
		return
	}
	switch e.Kind() {
	case celast.SelectKind:
		markStructUses(e.AsSelect().Operand(), bound, true, dyn)
	case celast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			markStructUses(c.Target(), bound, false, dyn)
		}
		for _, a := range c.Args() {
			markStructUses(a, bound, false, dyn)
		}
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			markStructUses(el, bound, false, dyn)
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			markStructUses(me.Key(), bound, false, dyn)
			markStructUses(me.Value(), bound, false, dyn)
		}
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			markStructUses(f.AsStructField().Value(), bound, false, dyn)
		}
	case celast.ComprehensionKind:
		c := e.AsComprehension()
		markStructUses(c.IterRange(), bound, false, dyn)
		markStructUses(c.AccuInit(), bound, false, dyn)
		withAccu := append(slices.Clip(bound), c.AccuVar())
		loop := append(slices.Clip(withAccu), c.IterVar())
		if c.HasIterVar2() {
			loop = append(loop, c.IterVar2())
		}
		markStructUses(c.LoopCondition(), loop, false, dyn)
		markStructUses(c.LoopStep(), loop, false, dyn)
		markStructUses(c.Result(), withAccu, false, dyn)
	}
}

// fieldPath returns the path of an expression that is the variable key or
// value, or field selections (not has()) from it, or nil.
func fieldPath(e celast.Expr, bound []string) []string {
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
		case celast.IdentKind:
			name := e.AsIdent()
			global, dotted := strings.CutPrefix(name, ".")
			if !dotted && slices.Contains(bound, name) || global != "key" && global != "value" {
				return nil
			}
			slices.Reverse(rev)
			return append([]string{global}, rev...)
		}
		return nil
	}
}

// shapeProvider is a types.Provider that knows the structs of the shapes
// as object types, besides everything its Registry knows.
type shapeProvider struct {
	*types.Registry
	exact bool
	// dyn are the paths of structs to leave dyn (markStructUses).
	dyn map[string]bool
	// structs are the object types by name.
	structs map[string]*recordschema.Schema
	// missed are the fields a selection asked for and did not find: the
	// "did you mean" of cel-go's "undefined field" message.
	missed map[string]missedField
}

// missedField is the struct a missing field was asked of: its path and
// its fields.
type missedField struct {
	path   string
	fields []string
}

// structTypeName names the object type of the struct at path: not an
// identifier, so that no expression can name it.
func structTypeName(path string) string { return "struct " + path }

// celType returns the CEL type of the values of s at path. inList says
// path is inside an array or a map's values.
func (p *shapeProvider) celType(s *recordschema.Schema, path string, inList bool) *types.Type {
	if s == nil {
		return types.DynType
	}
	nullable := s.Optional || s.Default != nil
	prim := func(t *types.Type, exact bool) *types.Type {
		switch {
		case !exact:
			return types.DynType
		case nullable:
			return types.NewNullableType(t)
		}
		return t
	}
	switch s.Logical {
	case recordschema.JSON:
		return types.DynType
	case recordschema.UUID:
		return prim(types.StringType, true)
	case recordschema.Decimal:
		return prim(types.StringType, p.exact)
	case recordschema.Date, recordschema.TimestampMillis, recordschema.TimestampMicros:
		// Nullable timestamps are not CEL types; a null one stays dyn.
		if nullable {
			return types.DynType
		}
		return prim(types.TimestampType, p.exact)
	case recordschema.TimeMillis, recordschema.TimeMicros:
		if nullable {
			return types.DynType
		}
		return prim(types.DurationType, p.exact)
	case "":
	default:
		return types.DynType
	}
	switch s.Type {
	case recordschema.Boolean:
		return prim(types.BoolType, true)
	case recordschema.String:
		return prim(types.StringType, true)
	case recordschema.Int8, recordschema.Int16, recordschema.Int32, recordschema.Int64:
		return prim(types.IntType, p.exact)
	case recordschema.Float32, recordschema.Float64:
		return prim(types.DoubleType, p.exact)
	case recordschema.Bytes:
		return prim(types.BytesType, p.exact)
	case recordschema.Array:
		if nullable || s.Items == nil {
			return types.DynType
		}
		return types.NewListType(p.celType(s.Items, path+"[]", true))
	case recordschema.Map:
		if nullable || s.Values == nil {
			return types.DynType
		}
		return types.NewMapType(types.StringType, p.celType(s.Values, path+"{}", true))
	case recordschema.Struct:
		if inList || p.dyn[path] {
			return types.DynType
		}
		name := structTypeName(path)
		p.structs[name] = s
		return types.NewObjectType(name)
	}
	return types.DynType
}

// pathOf is the path of the struct an object type names.
func pathOf(typeName string) string { return strings.TrimPrefix(typeName, "struct ") }

func (p *shapeProvider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.structs[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

func (p *shapeProvider) FindStructFieldNames(name string) ([]string, bool) {
	s, ok := p.structs[name]
	if !ok {
		return p.Registry.FindStructFieldNames(name)
	}
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	return names, true
}

func (p *shapeProvider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	s, ok := p.structs[name]
	if !ok {
		return p.Registry.FindStructFieldType(name, field)
	}
	f, _ := s.Field(field)
	if f == nil {
		if _, seen := p.missed[field]; !seen {
			names, _ := p.FindStructFieldNames(name)
			p.missed[field] = missedField{path: pathOf(name), fields: names}
		}
		return nil, false
	}
	return &types.FieldType{
		Type:    p.celType(f.Schema, pathOf(name)+"."+field, false),
		IsSet:   func(any) bool { return false },
		GetFrom: func(any) (any, error) { return nil, fmt.Errorf("no values of %s", name) },
	}, true
}

// NewValue refuses to build values of the shapes' object types: no
// expression can name them.
func (p *shapeProvider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.structs[name]; ok {
		return types.NewErr("cannot build a value of %s", name)
	}
	return p.Registry.NewValue(name, fields)
}

// undefinedField returns the field of cel-go's "undefined field" message.
func undefinedField(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "undefined field '")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, "'")
	return name, ok
}

// fieldAt narrows the range of a problem with the selection of field to
// the field's name, the first ".field" at or after off (cel-go locates the
// selection in has(value.x) at the '(').
func fieldAt(src string, off, end int, field string) (int, int) {
	if off < 0 || off > len(src) {
		return off, end
	}
	for i := off; i < len(src); i++ {
		if src[i] != '.' {
			continue
		}
		if start, stop, ok := fieldAfter(src, i); ok && src[start:stop] == field {
			return start, stop
		}
	}
	return off, end
}

// numericEquality reports whether msg is cel-go's refusal of something
// the runtime does: an equality, an inequality or an 'in' between numbers
// of different types (int and double, say), which it compares by value;
// an equality or inequality with null; a conditional whose branches are
// an int and a double, or a value and null. Not a problem.
func numericEquality(msg string) bool {
	rest, ok := strings.CutPrefix(msg, "found no matching overload for '")
	if !ok {
		return false
	}
	fn, rest, _ := strings.Cut(rest, "'")
	args, ok := strings.CutPrefix(rest, " applied to '(")
	if !ok || !strings.HasSuffix(args, ")'") {
		return false
	}
	args = strings.TrimSuffix(args, ")'")
	// A type may have commas itself (map(string, int)): null is found
	// at either end of the arguments.
	withNull := func(args string) bool {
		return strings.HasPrefix(args, "null, ") || strings.HasSuffix(args, ", null")
	}
	if fn == "_?_:_" {
		// cond ? x : y with an int and a double, or a value and null:
		// the runtime returns either branch as it is.
		branches, ok := strings.CutPrefix(args, "bool, ")
		if !ok {
			return false
		}
		if withNull(branches) {
			return true
		}
		x, y, ok := strings.Cut(branches, ", ")
		return ok && numericType(x) && numericType(y)
	}
	if (fn == "_==_" || fn == "_!=_") && withNull(args) {
		// A comparison with null is false (or true) for a value of
		// any type.
		return true
	}
	a, b, ok := strings.Cut(args, ", ")
	if !ok || strings.Contains(b, ", ") && fn != "@in" {
		return false
	}
	switch fn {
	case "_==_", "_!=_":
		return numericType(a) && numericType(b)
	case "@in":
		if elem, ok := strings.CutPrefix(b, "list("); ok {
			return numericType(a) && numericType(strings.TrimSuffix(elem, ")"))
		}
		if key, ok := strings.CutPrefix(b, "map("); ok {
			k, _, _ := strings.Cut(key, ", ")
			return numericType(a) && numericType(k)
		}
	}
	return false
}

func numericType(t string) bool {
	switch t {
	case "int", "uint", "double", "wrapper(int)", "wrapper(uint)", "wrapper(double)":
		return true
	}
	return false
}

// hint adds "did you mean" to cel-go's message about an undefined field,
// and names the object types of the shapes as the structs they are.
func (p *shapeProvider) hint(msg string) string {
	if name, ok := undefinedField(msg); ok {
		if m, ok := p.missed[name]; ok {
			return fmt.Sprintf("%s has no field %q in its schema.%s", m.path, name, configschema.DidYouMean(name, m.fields))
		}
	}
	return msg
}
