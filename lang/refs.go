package lang

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang/configschema"
)

// staticAttrs are the attributes whose references to transforms,
// predicates and converters are read from the syntax, not evaluated.
var staticAttrs = map[string]map[string]bool{
	"source":    {"transforms": true, "key_converter": true, "value_converter": true},
	"sink":      {"transforms": true, "key_converter": true, "value_converter": true},
	"transform": {"when": true, "unless": true},
}

// refKinds maps a reference's root name to the kind of node it names.
var refKinds = map[string]string{
	"var": "variable", "local": "local", "topic": "topic", "schema": "schema", "predicate": "predicate",
	"transform": "transform", "converter": "converter", "source": "source", "sink": "sink",
}

// staticKinds are not values: they are only referred to by name from
// static attributes.
var staticKinds = map[string]string{
	"predicate": "A predicate can only be used as the when or unless of a transform.",
	"transform": "A transform can only be listed in the transforms attribute of a source or sink.",
	"converter": "A converter can only be used as the key_converter or value_converter of a source or sink.",
}

var undeclared = map[string]struct{ summary, detail string }{
	"variable":  {"Reference to undeclared input variable", `An input variable named %q is not declared. Declare it with a variable %q block.`},
	"local":     {"Reference to undeclared local value", `A local value named %q is not declared. Declare it in a locals block, as %s = ...`},
	"topic":     {"Reference to undeclared topic", `There is no topic named %q. Declare it with a topic %q block.`},
	"schema":    {"Reference to undeclared schema", `There is no schema named %q. Declare it with a schema %q block.`},
	"predicate": {"Unknown predicate", `There is no predicate named %q. Declare it with a predicate %q block.`},
	"transform": {"Unknown transform", `There is no transform named %q. Declare it with a transform %q block.`},
	"converter": {"Unknown converter", `There is no converter named %q. Declare it with a converter %q block.`},
}

func (l *loader) collectReferences() {
	for _, n := range l.order {
		switch {
		case n.kind == "variable":
			// A variable's default is a literal and its validation
			// refers only to itself: see resolveVariables.
		case n.attr != nil:
			l.addRefs(n, n.attr.Expr, false, false)
		case n.block != nil:
			l.walkBody(n, n.block.Body, true)
		}
	}
}

func (l *loader) walkBody(n *node, body hcl.Body, top bool) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return
	}
	attrs := make([]*hclsyntax.Attribute, 0, len(sb.Attributes))
	for _, a := range sb.Attributes {
		attrs = append(attrs, a)
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].SrcRange.Start.Byte < attrs[j].SrcRange.Start.Byte })
	for _, a := range attrs {
		l.addRefs(n, a.Expr, top && staticAttrs[n.kind][a.Name], top && a.Name == "for_each")
	}
	for _, b := range sb.Blocks {
		if top && b.Type == "lifecycle" {
			continue // static: decoded by lifecycleOf
		}
		l.walkBody(n, b.Body, false)
	}
}

func (l *loader) addRefs(n *node, e hcl.Expression, static, inForEach bool) {
	for _, t := range e.Variables() {
		before := len(l.diags)
		if to, ok := l.resolveTraversal(n, t, static, inForEach); ok {
			n.refs = append(n.refs, reference{to: to, rng: t.SourceRange()})
		} else if len(l.diags) > before {
			// Evaluate the rest of this root as unknown, so that the bad
			// reference is reported once, not again by HCL.
			if n.badRoots == nil {
				n.badRoots = map[string]bool{}
			}
			n.badRoots[t.RootName()] = true
		}
	}
}

func hasForEach(n *node) bool {
	if n.block == nil {
		return false
	}
	sb, ok := n.block.Body.(*hclsyntax.Body)
	if !ok {
		return false
	}
	_, ok = sb.Attributes["for_each"]
	return ok
}

// stepName returns the attribute name of step i of a traversal.
func stepName(t hcl.Traversal, i int) (string, bool) {
	if len(t) <= i {
		return "", false
	}
	if a, ok := t[i].(hcl.TraverseAttr); ok {
		return a.Name, true
	}
	return "", false
}

// resolveTraversal checks one reference and returns the address of the node
// it names ("" for each.*); ok is false when it is invalid (a diagnostic is
// recorded) or names no node.
func (l *loader) resolveTraversal(n *node, t hcl.Traversal, static, inForEach bool) (string, bool) {
	root := t.RootName()
	rng := t.SourceRange()
	if root == "each" {
		attr, _ := stepName(t, 1)
		switch {
		case !hasForEach(n) || inForEach:
			l.diags = append(l.diags, errorf(&rng, `Reference to "each" in a block without for_each`,
				"each.key and each.value are only available inside a topic, source or sink block that sets for_each, and not in the for_each expression itself."))
		case attr != "key" && attr != "value":
			l.diags = append(l.diags, errorf(&rng, "Invalid each reference", `Only each.key and each.value exist.%s`, configschema.DidYouMean(attr, []string{"key", "value"})))
		}
		return "", false
	}
	kind, known := refKinds[root]
	if !known {
		roots := []string{"var", "local", "topic", "schema", "source", "sink", "each", "predicate", "transform", "converter"}
		l.diags = append(l.diags, errorf(&rng, "Unknown reference",
			"There is no object named %q. References start with var., local., topic., schema., source., sink. or each.%s", root, configschema.DidYouMean(root, roots)))
		return "", false
	}
	if isPipeline(kind) {
		typ, ok1 := stepName(t, 1)
		name, ok2 := stepName(t, 2)
		if !ok1 || !ok2 {
			l.diags = append(l.diags, errorf(&rng, "Invalid reference", "A reference to a %s names its type and name, like %s.TYPE.NAME.", kind, kind))
			return "", false
		}
		addr := kind + "." + typ + "." + name
		if _, ok := l.nodes[addr]; !ok {
			var opts []string
			for _, m := range l.byKind(kind) {
				opts = append(opts, m.addr)
			}
			l.diags = append(l.diags, errorf(&rng, "Reference to undeclared pipeline",
				"There is no %s named %q.%s", kind, addr, configschema.DidYouMean(addr, opts)))
			return "", false
		}
		return addr, true
	}
	name, ok := stepName(t, 1)
	if !ok {
		l.diags = append(l.diags, errorf(&rng, "Invalid reference", "A reference to a %s needs a name, like %s.NAME.", kind, root))
		return "", false
	}
	if why, isStatic := staticKinds[kind]; isStatic && !static {
		l.diags = append(l.diags, errorf(&rng, "Invalid reference", "%s.%s is not a value. %s", root, name, why))
		return "", false
	}
	addr := root + "." + name
	if _, ok := l.nodes[addr]; !ok {
		u := undeclared[kind]
		if hint := configschema.DidYouMean(name, l.names(kind)); hint != "" {
			first, _, _ := strings.Cut(u.detail, ". ")
			l.diags = append(l.diags, errorf(&rng, u.summary, first+"."+hint, name))
		} else {
			l.diags = append(l.diags, errorf(&rng, u.summary, u.detail, name, name))
		}
		return "", false
	}
	return addr, true
}

// evalCtx builds the evaluation context of a node from the values of the
// nodes it refers to; each is set for one instance of a for_each block.
func (l *loader) evalCtx(n *node, each map[string]cty.Value) *hcl.EvalContext {
	ns := map[string]map[string]cty.Value{}
	pipes := map[string]map[string]map[string]cty.Value{"source": {}, "sink": {}}
	for _, r := range n.refs {
		to := l.nodes[r.to]
		v, ok := l.values[r.to]
		if !ok {
			v = cty.DynamicVal
		}
		switch to.kind {
		case "source", "sink":
			if pipes[to.kind][to.typ] == nil {
				pipes[to.kind][to.typ] = map[string]cty.Value{}
			}
			pipes[to.kind][to.typ][to.name] = v
		default:
			root, _, _ := strings.Cut(r.to, ".")
			if ns[root] == nil {
				ns[root] = map[string]cty.Value{}
			}
			ns[root][to.name] = v
		}
	}
	vars := map[string]cty.Value{}
	for root, m := range ns {
		vars[root] = cty.ObjectVal(m)
	}
	for kind, byType := range pipes {
		if len(byType) == 0 {
			continue
		}
		obj := map[string]cty.Value{}
		for typ, m := range byType {
			obj[typ] = cty.ObjectVal(m)
		}
		vars[kind] = cty.ObjectVal(obj)
	}
	// Static kinds evaluate to unknown where they slipped into a value
	// position: the reference check already reported it.
	for kind := range staticKinds {
		if _, ok := vars[kind]; !ok {
			vars[kind] = cty.DynamicVal
		}
	}
	if each != nil {
		vars["each"] = cty.ObjectVal(each)
	}
	for root := range n.badRoots {
		vars[root] = cty.DynamicVal
	}
	return &hcl.EvalContext{Variables: vars, Functions: l.fns}
}
