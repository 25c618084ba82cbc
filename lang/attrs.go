package lang

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"regexp"
	"slices"
	"sort"
	"time"

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
	gv, ok := l.toGo(a, cv, rng, sensitive)
	if !ok {
		return cty.NilVal, nil, false
	}
	if a.Path {
		gv, cv = l.resolvePaths(gv)
	}
	if sensitive || a.Sensitive {
		return cv.Mark(markSensitive), Secret{Value: gv, Ref: l.secretRef(cv, marks)}, true
	}
	return cv, gv, true
}

// toGo turns a converted value into the Go value of its schema type and
// checks enums, minimums and durations. Messages never quote a sensitive
// value.
func (l *loader) toGo(a *configschema.Attribute, v cty.Value, rng *hcl.Range, sensitive bool) (any, bool) {
	shown := func(s string) string {
		if sensitive || a.Sensitive {
			return Redacted
		}
		return fmt.Sprintf("%q", s)
	}
	switch a.Type {
	case configschema.Int, configschema.Number:
		bf := v.AsBigFloat()
		if a.Min != nil && bf.Cmp(new(big.Float).SetInt64(*a.Min)) < 0 {
			l.diags = append(l.diags, errorf(rng, "Value out of range", "The attribute %q must be at least %d.", a.Name, *a.Min))
			return nil, false
		}
		if a.Type == configschema.Number {
			f, _ := bf.Float64()
			return f, true
		}
		i, acc := bf.Int64()
		if !bf.IsInt() || acc != big.Exact || i > math.MaxInt32 && a.Name == "partitions" {
			l.diags = append(l.diags, errorf(rng, "Incorrect attribute value type", "The attribute %q must be a whole number.", a.Name))
			return nil, false
		}
		return i, true
	case configschema.Bool:
		return v.True(), true
	case configschema.ListOfString, configschema.ListOfReference:
		out := []string{}
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if ev.IsNull() {
				l.diags = append(l.diags, errorf(rng, "Incorrect attribute value type", "The list %q cannot hold null.", a.Name))
				return nil, false
			}
			out = append(out, ev.AsString())
		}
		return out, true
	case configschema.MapOfString:
		out := map[string]string{}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			if ev.IsNull() {
				l.diags = append(l.diags, errorf(rng, "Incorrect attribute value type", "The map %q cannot hold null.", a.Name))
				return nil, false
			}
			out[k.AsString()] = ev.AsString()
		}
		return out, true
	}
	s := v.AsString()
	if len(a.Enum) > 0 && !slices.Contains(a.Enum, s) {
		l.diags = append(l.diags, errorf(rng, "Invalid value for "+a.Name,
			"The attribute %q must be one of %s, not %s.%s", a.Name, quoteList(a.Enum), shown(s), suggestIf(!sensitive, s, a.Enum)))
		return nil, false
	}
	if a.Type == configschema.Duration {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			l.diags = append(l.diags, errorf(rng, "Invalid duration",
				`The attribute %q must be a positive duration in Go syntax, like "30s", "5m" or "1h30m", not %s.`, a.Name, shown(s)))
			return nil, false
		}
	}
	return s, true
}

func suggestIf(ok bool, given string, options []string) string {
	if !ok {
		return ""
	}
	return suggest(given, options)
}

func quoteList(items []string) string {
	s := ""
	for i, it := range items {
		switch {
		case i == 0:
		case i == len(items)-1:
			s += " or "
		default:
			s += ", "
		}
		s += fmt.Sprintf("%q", it)
	}
	return s
}

// resolvePaths makes the paths of a Path attribute absolute against the
// configuration directory.
func (l *loader) resolvePaths(v any) (any, cty.Value) {
	switch v := v.(type) {
	case string:
		p := resolvePath(l.dir, v)
		return p, cty.StringVal(p)
	case []string:
		out := make([]string, len(v))
		for i, p := range v {
			out[i] = resolvePath(l.dir, p)
		}
		return out, goToCty(out)
	}
	return v, goToCty(v)
}

// secretRef returns "env:NAME" or "file:PATH" when a sensitive value is
// exactly what env() or file() returned.
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

// checkRegexp reports an invalid RE2 expression.
func (l *loader) checkRegexp(attr *hcl.Attribute, s string) bool {
	if _, err := regexp.Compile(s); err != nil {
		l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Invalid regular expression",
			"The attribute %q is not a valid RE2 regular expression: %s.", attr.Name, err))
		return false
	}
	return true
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
