package lang

import (
	"math/big"
	"os"
	"slices"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pipectl/pipectl/lang/configschema"
)

// shape is the structure of a body checked against a schema once; its
// attributes are then evaluated once per for_each instance.
type shape struct {
	attrs     map[string]*hcl.Attribute
	blocks    map[string]*shape
	defRanges map[string]hcl.Range
	body      hcl.Body
}

// shapeOf checks body against the schema's attributes and nested blocks
// (each at most once) plus the extra attribute names the caller decodes
// itself.
func (l *loader) shapeOf(body hcl.Body, attrs []configschema.Attribute, blocks []configschema.Block, extra ...string) *shape {
	schema := &hcl.BodySchema{}
	for _, a := range attrs {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	for _, name := range extra {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name})
	}
	for _, b := range blocks {
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: b.Name})
	}
	content, diags := body.Content(schema)
	l.diags = append(l.diags, diags...)
	s := &shape{attrs: content.Attributes, blocks: map[string]*shape{}, defRanges: map[string]hcl.Range{}, body: body}
	for _, b := range content.Blocks {
		if prev, dup := s.defRanges[b.Type]; dup {
			l.diags = append(l.diags, errorf(ptr(b.DefRange), "Duplicate "+b.Type+" block",
				"Only one %s block is allowed here; another is at %s. Merge them.", b.Type, at(prev)))
			continue
		}
		i := slices.IndexFunc(blocks, func(sb configschema.Block) bool { return sb.Name == b.Type })
		s.defRanges[b.Type] = b.DefRange
		s.blocks[b.Type] = l.shapeOf(b.Body, blocks[i].Attributes, blocks[i].Blocks)
	}
	return s
}

// eval evaluates a shape's attributes, with defaults, into a cty object
// (for references) and plain Go values (for the Config). ok is false when
// an attribute had an error or an unknown value.
func (l *loader) evalShape(s *shape, attrs []configschema.Attribute, blocks []configschema.Block, ctx *hcl.EvalContext) (map[string]cty.Value, map[string]any, bool) {
	ctyVals := map[string]cty.Value{}
	goVals := map[string]any{}
	ok := true
	for i := range attrs {
		a := &attrs[i]
		if a.Required && s.attrs[a.Name] == nil && s.body != nil {
			ok = false // reported by shapeOf
			continue
		}
		cv, gv, good := l.evalAttr(a, s.attrs[a.Name], ctx)
		ok = ok && good
		if gv == nil {
			continue
		}
		ctyVals[a.Name] = cv
		goVals[a.Name] = gv
	}
	for _, b := range blocks {
		sub := s.blocks[b.Name]
		if sub == nil {
			sub = &shape{attrs: map[string]*hcl.Attribute{}, blocks: map[string]*shape{}}
		}
		cv, gv, good := l.evalShape(sub, b.Attributes, b.Blocks, ctx)
		ok = ok && good
		ctyVals[b.Name] = cty.ObjectVal(cv)
		goVals[b.Name] = gv
	}
	return ctyVals, goVals, ok
}

// ctyType is the cty type an attribute's value converts to.
func ctyType(t configschema.Type) cty.Type {
	switch t {
	case configschema.Int, configschema.Number:
		return cty.Number
	case configschema.Bool:
		return cty.Bool
	case configschema.ListOfString, configschema.ListOfReference:
		return cty.List(cty.String)
	case configschema.MapOfString:
		return cty.Map(cty.String)
	}
	return cty.String
}

// evalAttr evaluates one attribute, or its default when absent. gv is nil
// when there is no value (absent without default, unknown, or an error).
func (l *loader) evalAttr(a *configschema.Attribute, attr *hcl.Attribute, ctx *hcl.EvalContext) (cty.Value, any, bool) {
	var v cty.Value
	var rng *hcl.Range
	if attr != nil {
		var diags hcl.Diagnostics
		v, diags = attr.Expr.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			return cty.NilVal, nil, false
		}
		rng = ptr(attr.Expr.Range())
	}
	if attr == nil || v.IsNull() {
		if a.Default == nil {
			return cty.NilVal, nil, true
		}
		v = goToCty(a.Default)
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, nil, false
	}
	plain, marks := v.UnmarkDeep()
	_, sensitive := marks[markSensitive]
	cv, err := convert.Convert(plain, ctyType(a.Type))
	if err != nil || cv.IsNull() {
		msg := "null is not allowed"
		if err != nil {
			msg = err.Error()
		}
		l.diags = append(l.diags, errorf(rng, "Incorrect attribute value type",
			"The attribute %q must be a %s: %s.", a.Name, a.Type, msg))
		return cty.NilVal, nil, false
	}
	var in any = ctyToGo(cv)
	if sensitive {
		in = configschema.Sensitive{Value: in}
	}
	gv, cerr := a.Coerce(in)
	if cerr == nil && a.Path {
		gv, cerr = a.ResolvePath(l.dir, gv)
		cv = goToCty(gv)
	}
	if cerr != nil {
		l.diags = append(l.diags, errorf(rng, cerr.Summary, "%s", cerr.Detail))
		return cty.NilVal, nil, false
	}
	if sensitive || a.Sensitive {
		ref := l.secretRef(cv, marks)
		if ref == "" && hasProviderRef(marks) {
			l.diags = append(l.diags, errorf(rng, "Invalid use of secret()",
				"The attribute %q must be exactly one secret(...) call: its value is only known on the worker, so it cannot be combined with anything else here.", a.Name))
			return cty.NilVal, nil, false
		}
		return cv.Mark(markSensitive), Secret{Value: gv, Ref: ref}, true
	}
	return cv, gv, true
}

// ctyToGo turns a value converted to an attribute's cty type into the
// plain Go form configschema checks: string, bool, int64 for a whole
// number that fits, else float64, []any and map[string]any (a null element
// is nil).
func ctyToGo(v cty.Value) any {
	switch {
	case v.IsNull():
		return nil
	case v.Type() == cty.String:
		return v.AsString()
	case v.Type() == cty.Bool:
		return v.True()
	case v.Type() == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact {
			return i
		}
		f, _ := bf.Float64()
		return f
	case v.Type().IsListType():
		out := []any{}
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = append(out, ctyToGo(ev))
		}
		return out
	case v.Type().IsMapType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			out[k.AsString()] = ctyToGo(ev)
		}
		return out
	}
	return nil
}

// secretRef returns "env:NAME", "file:PATH" or a ProviderRef when a
// sensitive value is exactly what env(), file() or secret() returned.
func (l *loader) secretRef(v cty.Value, marks cty.ValueMarks) string {
	if v.Type() != cty.String {
		return ""
	}
	ref := ""
	for m := range marks {
		switch m := m.(type) {
		case envRef:
			if got, ok := l.opts.LookupEnv(string(m)); ok && got == v.AsString() {
				if ref != "" {
					return ""
				}
				ref = "env:" + string(m)
			}
		case providerRef:
			if providerPlaceholder(string(m)) == v.AsString() {
				if ref != "" {
					return ""
				}
				ref = string(m)
			}
		case fileRef:
			if b, err := os.ReadFile(string(m)); err == nil && string(b) == v.AsString() {
				if ref != "" {
					return ""
				}
				ref = "file:" + string(m)
			}
		}
	}
	return ref
}

// hasProviderRef reports whether a value came from secret().
func hasProviderRef(marks cty.ValueMarks) bool {
	for m := range marks {
		if _, ok := m.(providerRef); ok {
			return true
		}
	}
	return false
}

// goToCty turns a schema default into a cty value.
func goToCty(v any) cty.Value {
	switch v := v.(type) {
	case string:
		return cty.StringVal(v)
	case int64:
		return cty.NumberIntVal(v)
	case int:
		return cty.NumberIntVal(int64(v))
	case float64:
		return cty.NumberFloatVal(v)
	case bool:
		return cty.BoolVal(v)
	case []string:
		if len(v) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		vals := make([]cty.Value, len(v))
		for i, s := range v {
			vals[i] = cty.StringVal(s)
		}
		return cty.ListVal(vals)
	case map[string]string:
		if len(v) == 0 {
			return cty.MapValEmpty(cty.String)
		}
		vals := map[string]cty.Value{}
		for k, s := range v {
			vals[k] = cty.StringVal(s)
		}
		return cty.MapVal(vals)
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// plainString evaluates an attribute that must be a non-sensitive string.
func (l *loader) plainString(attr *hcl.Attribute, ctx *hcl.EvalContext, what string) (string, bool) {
	v, diags := attr.Expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return "", false
	}
	if v.IsMarked() {
		if _, marks := v.UnmarkDeep(); marks != nil {
			if _, sens := marks[markSensitive]; sens {
				l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Sensitive value not allowed",
					"The %s cannot be sensitive: it is shown in plans and compiled into the pipeline.", what))
				return "", false
			}
		}
		v, _ = v.UnmarkDeep()
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() {
		l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Incorrect attribute value type", "The %s must be a string.", what))
		return "", false
	}
	return s.AsString(), true
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
