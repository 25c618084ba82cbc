package lang

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
)

var transformSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "when"}, {Name: "unless"}, {Name: "filter"}, {Name: "set"}, {Name: "rename"},
	{Name: "drop"}, {Name: "key"}, {Name: "topic"}, {Name: "headers"},
}}

func (l *loader) decodeTransform(n *node) {
	content, diags := n.block.Body.Content(transformSchema)
	l.diags = append(l.diags, diags...)
	ctx := l.evalCtx(n, nil)
	t := &Transform{Name: n.name, DeclRange: n.block.DefRange}
	where := "transform." + n.name
	env := expr.RecordEnv()
	a := content.Attributes
	ok := true
	cel := func(name string, want expr.Type) *Expr {
		attr := a[name]
		if attr == nil {
			return nil
		}
		src, good := l.plainString(attr, ctx, name+" of "+where)
		if !good {
			ok = false
			return nil
		}
		e, good := l.compileCEL(env, want, attr.Expr, src, ctx, "the "+name+" of "+where)
		ok = ok && good
		return e
	}
	t.When = l.condition(a["when"], ctx, where, &ok)
	t.Unless = l.condition(a["unless"], ctx, where, &ok)
	t.Filter = cel("filter", expr.Bool)
	for _, kv := range l.celMap(a["set"], ctx, where, &ok) {
		if p, good := l.path(kv.keyRange, kv.key, "set", false); good {
			if e, good := l.compileCEL(env, expr.Dyn, kv.valExpr, kv.val, ctx, "set \""+kv.key+"\" of "+where); good {
				t.Set = append(t.Set, SetOp{Path: p, Expr: e})
				continue
			}
		}
		ok = false
	}
	for _, kv := range l.celMap(a["rename"], ctx, where, &ok) {
		from, good1 := l.path(kv.keyRange, kv.key, "rename", true)
		to, good2 := l.path(kv.valExpr.Range(), kv.val, "rename", true)
		if !good1 || !good2 {
			ok = false
			continue
		}
		if from.Root != to.Root {
			l.diags = append(l.diags, errorf(ptr(kv.valExpr.Range()), "Invalid rename",
				"A rename stays within the key, the value or the headers: %s cannot become %s.", kv.key, kv.val))
			ok = false
			continue
		}
		t.Rename = append(t.Rename, RenameOp{From: from, To: to})
	}
	if attr := a["drop"]; attr != nil {
		for _, item := range l.stringList(attr, ctx, "drop of "+where, &ok) {
			if p, good := l.path(item.rng, item.s, "drop", false); good {
				t.Drop = append(t.Drop, p)
			} else {
				ok = false
			}
		}
	}
	t.Key = cel("key", expr.Dyn)
	t.Topic = cel("topic", expr.String)
	for _, kv := range l.celMap(a["headers"], ctx, where, &ok) {
		if kv.key == "" {
			l.diags = append(l.diags, errorf(ptr(kv.keyRange), "Invalid header name", "A header name cannot be empty."))
			ok = false
			continue
		}
		if e, good := l.compileCEL(env, expr.String, kv.valExpr, kv.val, ctx, "header \""+kv.key+"\" of "+where); good {
			t.Headers = append(t.Headers, HeaderOp{Name: kv.key, Expr: e})
		} else {
			ok = false
		}
	}
	if !ok {
		return
	}
	if len(a) == 0 {
		l.diags = append(l.diags, warnf(ptr(n.block.DefRange), "Empty transform",
			"The transform %q has no operation, so it passes every record unchanged. Add filter, set, rename, drop, key, topic or headers, or remove it.", n.name))
	} else if len(a) == len(t.whenUnlessAttrs(a)) {
		l.diags = append(l.diags, warnf(ptr(n.block.DefRange), "Empty transform",
			"The transform %q has a condition but no operation to apply. Add filter, set, rename, drop, key, topic or headers.", n.name))
	}
	l.transforms[n.name] = t
	l.cfg.Transforms = append(l.cfg.Transforms, t)
}

func (t *Transform) whenUnlessAttrs(a hcl.Attributes) []string {
	var out []string
	for _, name := range []string{"when", "unless"} {
		if a[name] != nil {
			out = append(out, name)
		}
	}
	return out
}

// condition decodes a when/unless: a predicate reference or a CEL string.
func (l *loader) condition(attr *hcl.Attribute, ctx *hcl.EvalContext, where string, ok *bool) *Condition {
	if attr == nil {
		return nil
	}
	if t, diags := hcl.AbsTraversalForExpr(attr.Expr); !diags.HasErrors() && t.RootName() == "predicate" {
		name, _ := stepName(t, 1)
		p := l.predicates[name]
		if p == nil {
			// Unknown or broken predicate: already reported.
			*ok = false
			return nil
		}
		return &Condition{Predicate: name, Expr: p.Expr}
	}
	src, good := l.plainString(attr, ctx, attr.Name+" of "+where)
	if !good {
		*ok = false
		return nil
	}
	e, good := l.compileCEL(expr.RecordEnv(), expr.Bool, attr.Expr, src, ctx, "the "+attr.Name+" of "+where)
	if !good {
		*ok = false
		return nil
	}
	return &Condition{Expr: e}
}

// mapItem is one key = "string" entry of a map attribute.
type mapItem struct {
	key      string
	keyRange hcl.Range
	val      string
	valExpr  hcl.Expression
}

// celMap reads a map of strings keeping each entry's source range, in
// source order. A map that is not written literally (a local, say) is
// evaluated and its entries point at the whole attribute.
func (l *loader) celMap(attr *hcl.Attribute, ctx *hcl.EvalContext, where string, ok *bool) []mapItem {
	if attr == nil {
		return nil
	}
	pairs, diags := hcl.ExprMap(attr.Expr)
	if diags.HasErrors() {
		v, diags := attr.Expr.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			*ok = false
			return nil
		}
		if v.IsMarked() {
			l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Sensitive value not allowed",
				"The %s of %s cannot be sensitive: it is compiled into the pipeline and shown in plans.", attr.Name, where))
			*ok = false
			return nil
		}
		m, err := convert.Convert(v, cty.Map(cty.String))
		if err != nil || m.IsNull() {
			l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Incorrect attribute value type",
				"The %s of %s must be a map of strings.", attr.Name, where))
			*ok = false
			return nil
		}
		var items []mapItem
		for _, k := range sortedKeys(m.AsValueMap()) {
			ev := m.Index(cty.StringVal(k))
			if ev.IsNull() {
				continue
			}
			items = append(items, mapItem{key: k, keyRange: attr.Expr.Range(), val: ev.AsString(), valExpr: attr.Expr})
		}
		return items
	}
	var items []mapItem
	seen := map[string]hcl.Range{}
	for _, p := range pairs {
		k, good := l.plainString(&hcl.Attribute{Name: attr.Name, Expr: p.Key}, ctx, "key in the "+attr.Name+" of "+where)
		v, good2 := l.plainString(&hcl.Attribute{Name: attr.Name, Expr: p.Value}, ctx, "value in the "+attr.Name+" of "+where)
		if !good || !good2 {
			*ok = false
			continue
		}
		if prev, dup := seen[k]; dup {
			l.diags = append(l.diags, errorf(ptr(p.Key.Range()), "Duplicate key",
				"The key %q appears twice in the %s of %s; the first is at %s.", k, attr.Name, where, at(prev)))
			*ok = false
			continue
		}
		seen[k] = p.Key.Range()
		items = append(items, mapItem{key: k, keyRange: p.Key.Range(), val: v, valExpr: p.Value})
	}
	return items
}

type listItem struct {
	s   string
	rng hcl.Range
}

// stringList reads a list of strings keeping each element's range.
func (l *loader) stringList(attr *hcl.Attribute, ctx *hcl.EvalContext, what string, ok *bool) []listItem {
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		exprs = []hcl.Expression{attr.Expr}
		v, diags := attr.Expr.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			*ok = false
			return nil
		}
		v, _ = v.UnmarkDeep()
		lv, err := convert.Convert(v, cty.List(cty.String))
		if err != nil || lv.IsNull() {
			l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Incorrect attribute value type", "The %s must be a list of strings.", what))
			*ok = false
			return nil
		}
		var items []listItem
		for it := lv.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if !ev.IsNull() {
				items = append(items, listItem{s: ev.AsString(), rng: exprs[0].Range()})
			}
		}
		return items
	}
	var items []listItem
	for _, e := range exprs {
		s, good := l.plainString(&hcl.Attribute{Name: attr.Name, Expr: e}, ctx, "element of the "+what)
		if !good {
			*ok = false
			continue
		}
		items = append(items, listItem{s: s, rng: e.Range()})
	}
	return items
}

// path parses "value.a.b". needField requires at least one field.
func (l *loader) path(rng hcl.Range, s, op string, needField bool) (Path, bool) {
	parts := strings.Split(s, ".")
	p := Path{Root: parts[0], Fields: parts[1:]}
	roots := []string{"key", "value", "headers"}
	bad := func(detail string, args ...any) (Path, bool) {
		l.diags = append(l.diags, errorf(&rng, "Invalid path", detail, args...))
		return Path{}, false
	}
	switch p.Root {
	case "key", "value", "headers":
	default:
		return bad("The %s path %q must start with key., value. or headers.%s", op, s, configschema.DidYouMean(p.Root, roots))
	}
	for _, f := range p.Fields {
		if f == "" {
			return bad("The %s path %q has an empty field name.", op, s)
		}
	}
	if needField && len(p.Fields) == 0 {
		return bad("The %s path %q must name a field, like %s.field.", op, s, p.Root)
	}
	if p.Root == "headers" && len(p.Fields) > 1 {
		return bad("The %s path %q names a header and nothing more: headers.NAME.", op, s)
	}
	if p.Root == "headers" && len(p.Fields) == 0 && op == "set" {
		return bad("The set path %q must name a header: headers.NAME.", s)
	}
	return p, true
}
