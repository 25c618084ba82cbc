package lang

import (
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pipectl/pipectl/lang/configschema"
)

// Lifecycle is the lifecycle block of a topic, source or sink. Its values
// are literals: they are read before anything is evaluated, as in
// Terraform.
//
//	lifecycle {
//	  prevent_destroy = true
//	  ignore_changes  = [partitions, config["retention.ms"]]
//	}
type Lifecycle struct {
	// PreventDestroy makes any plan that would destroy or replace the
	// resource an error.
	PreventDestroy bool
	// IgnoreChanges lists attributes whose configured value plan
	// ignores once the resource exists: the state's value is kept.
	// An attribute of map type may name one key: config["retention.ms"].
	IgnoreChanges []string
	// IgnoreAll is ignore_changes = all.
	IgnoreAll bool
	// DeclRange is the lifecycle block's range; zero without one.
	DeclRange hcl.Range
}

var lifecycleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "prevent_destroy"}, {Name: "ignore_changes"},
}}

var lifecycleOnly = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "lifecycle"}}}

// lifecycleOf decodes the lifecycle block of a topic, source or sink block
// and returns the rest of its body.
func (l *loader) lifecycleOf(n *node) hcl.Body {
	content, rest, diags := n.block.Body.PartialContent(lifecycleOnly)
	l.diags = append(l.diags, diags...)
	if len(content.Blocks) == 0 {
		return rest
	}
	for _, b := range content.Blocks[1:] {
		l.diags = append(l.diags, errorf(ptr(b.DefRange), "Duplicate lifecycle block",
			"Only one lifecycle block is allowed in a %s block; another is at %s. Merge them.", n.kind, at(content.Blocks[0].DefRange)))
	}
	b := content.Blocks[0]
	lc := Lifecycle{DeclRange: b.DefRange}
	attrs, diags := b.Body.Content(lifecycleSchema)
	l.diags = append(l.diags, diags...)
	if a := attrs.Attributes["prevent_destroy"]; a != nil {
		v, diags := a.Expr.Value(nil)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			bv, err := convert.Convert(v, cty.Bool)
			if err != nil || bv.IsNull() || !bv.IsKnown() {
				l.diags = append(l.diags, errorf(ptr(a.Expr.Range()), "Invalid prevent_destroy",
					"prevent_destroy must be true or false, written literally."))
			} else {
				lc.PreventDestroy = bv.True()
			}
		}
	}
	if a := attrs.Attributes["ignore_changes"]; a != nil {
		lc.IgnoreChanges, lc.IgnoreAll = l.ignoreChanges(n, a)
	}
	if l.meta.lifecycles == nil {
		l.meta.lifecycles = map[string]Lifecycle{}
	}
	l.meta.lifecycles[n.addr] = lc
	return rest
}

// ignoreChanges reads ignore_changes: the keyword all, or a list of
// attribute names written bare (partitions) or quoted, each optionally
// with one map key (config["retention.ms"]).
func (l *loader) ignoreChanges(n *node, a *hcl.Attribute) ([]string, bool) {
	if hcl.ExprAsKeyword(a.Expr) == "all" {
		return nil, true
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		l.diags = append(l.diags, errorf(ptr(a.Expr.Range()), "Invalid ignore_changes",
			"ignore_changes is all, or a list of attribute names such as [partitions, config]."))
		return nil, false
	}
	known, maps := l.resourceAttributes(n)
	var out []string
	for _, e := range exprs {
		rng := e.Range()
		name, key, hasKey, ok := ignoredAttr(e)
		if !ok {
			l.diags = append(l.diags, errorf(&rng, "Invalid ignore_changes",
				`Each element of ignore_changes is an attribute name, such as partitions, or a map attribute with one key, such as config["retention.ms"].`))
			continue
		}
		if !slices.Contains(known, name) {
			l.diags = append(l.diags, errorf(&rng, "Unsupported attribute in ignore_changes",
				"A %s has no attribute %q.%s", describeNode(n), name, configschema.DidYouMean(name, known)))
			continue
		}
		if hasKey && !slices.Contains(maps, name) {
			l.diags = append(l.diags, errorf(&rng, "Invalid ignore_changes",
				"%s is not a map, so it has no keys: ignore the whole attribute with %s.", name, name))
			continue
		}
		path := name
		if hasKey {
			path += "[" + strconv.Quote(key) + "]"
		}
		if !slices.Contains(out, path) {
			out = append(out, path)
		}
	}
	return out, false
}

// ignoredAttr reads one element of ignore_changes.
func ignoredAttr(e hcl.Expression) (name, key string, hasKey, ok bool) {
	if t, diags := hcl.RelTraversalForExpr(e); !diags.HasErrors() && len(t) >= 1 && len(t) <= 2 {
		first, isAttr := t[0].(hcl.TraverseAttr)
		if !isAttr {
			return "", "", false, false
		}
		if len(t) == 1 {
			return first.Name, "", false, true
		}
		idx, isIdx := t[1].(hcl.TraverseIndex)
		if !isIdx || idx.Key.Type() != cty.String || idx.Key.IsNull() {
			return "", "", false, false
		}
		return first.Name, idx.Key.AsString(), true, true
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
		return "", "", false, false
	}
	return v.AsString(), "", false, true
}

func describeNode(n *node) string {
	if n.kind == "topic" {
		return "topic"
	}
	return n.kind + " of type " + strconv.Quote(n.typ)
}

// resourceAttributes lists the attribute and nested block names of a
// resource block, and which of them are maps.
func (l *loader) resourceAttributes(n *node) (names, maps []string) {
	add := func(attrs []configschema.Attribute) {
		for _, a := range attrs {
			names = append(names, a.Name)
			if a.Type == configschema.MapOfString {
				maps = append(maps, a.Name)
			}
		}
	}
	if n.kind == "topic" {
		add(TopicAttributes)
		return names, maps
	}
	kind := configschema.Kind(n.kind)
	add(CommonAttributes(kind))
	for _, b := range CommonBlocks(kind) {
		names = append(names, b.Name)
	}
	if s, ok := l.opts.Plugins.Schema(kind, n.typ); ok {
		add(s.Attributes)
		for _, b := range s.Blocks {
			names = append(names, b.Name)
		}
	}
	return names, maps
}
