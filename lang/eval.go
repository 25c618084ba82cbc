package lang

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evaluate decodes every node after the nodes it refers to, reporting
// reference cycles.
func (l *loader) evaluate() {
	l.transforms = map[string]*Transform{}
	l.predicates = map[string]*Predicate{}
	l.converters = map[string]*Converter{}
	for _, n := range l.order {
		l.visit(n, nil)
	}
}

func (l *loader) visit(n *node, stack []*node) {
	switch n.visited {
	case 2:
		return
	case 1:
		// A cycle: report it once, at the node where it closes.
		i := len(stack) - 1
		for i >= 0 && stack[i] != n {
			i--
		}
		cycle := make([]string, 0, len(stack)-i+1)
		for _, m := range stack[i:] {
			cycle = append(cycle, m.addr)
			m.failed = true
		}
		cycle = append(cycle, n.addr)
		l.diags = append(l.diags, errorf(ptr(n.declRange()), "Reference cycle",
			"These objects refer to each other in a loop: %s. Break the loop by removing one of the references.",
			strings.Join(cycle, " → ")))
		return
	}
	n.visited = 1
	stack = append(stack, n)
	refs := append([]reference(nil), n.refs...)
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].to < refs[j].to })
	for _, r := range refs {
		l.visit(l.nodes[r.to], stack)
	}
	n.visited = 2
	if n.failed {
		l.values[n.addr] = cty.DynamicVal
		return
	}
	before := len(l.diags)
	switch n.kind {
	case "variable":
		// Already resolved by resolveVariables.
	case "local":
		v, diags := n.attr.Expr.Value(l.evalCtx(n, nil))
		l.diags = append(l.diags, diags...)
		l.values[n.addr] = v
	case "fleet":
		l.decodeFleet(n)
	case "topic":
		l.decodeTopic(n)
	case "schema":
		l.decodeSchemaBlock(n)
	case "predicate":
		l.decodePredicate(n)
	case "transform":
		l.decodeTransform(n)
	case "converter":
		l.decodeConverterBlock(n)
	case "source", "sink":
		l.decodePipeline(n)
	}
	if hcl.Diagnostics(l.diags[before:]).HasErrors() {
		n.failed = true
		if n.kind != "variable" {
			l.values[n.addr] = cty.DynamicVal
		}
	}
}

// forEach evaluates a block's for_each and returns its instances: a nil
// key list means the block has no for_each (one instance, no each).
func (l *loader) forEach(n *node, attr *hcl.Attribute) (keys []string, each map[string]map[string]cty.Value, ok bool) {
	if attr == nil {
		return nil, nil, true
	}
	v, diags := attr.Expr.Value(l.evalCtx(n, nil))
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return nil, nil, false
	}
	rng := ptr(attr.Expr.Range())
	if v.IsMarked() {
		_, marks := v.UnmarkDeep()
		if _, sens := marks[markSensitive]; sens {
			l.diags = append(l.diags, errorf(rng, "Invalid for_each argument",
				"A sensitive value cannot be used in for_each: instance keys appear in addresses and plans."))
			return nil, nil, false
		}
		v, _ = v.UnmarkDeep()
	}
	if !v.IsWhollyKnown() {
		return nil, nil, false
	}
	if v.IsNull() {
		l.diags = append(l.diags, errorf(rng, "Invalid for_each argument", "for_each must be a map or a set of strings, not null."))
		return nil, nil, false
	}
	each = map[string]map[string]cty.Value{}
	ty := v.Type()
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			each[k.AsString()] = map[string]cty.Value{"key": k, "value": ev}
		}
	case ty.IsSetType() && ty.ElementType() == cty.String:
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if ev.IsNull() {
				l.diags = append(l.diags, errorf(rng, "Invalid for_each argument", "A for_each set cannot hold null."))
				return nil, nil, false
			}
			each[ev.AsString()] = map[string]cty.Value{"key": ev, "value": ev}
		}
	default:
		hint := ""
		if ty.IsListType() || ty.IsTupleType() {
			hint = " Convert a list with toset(...)."
		}
		l.diags = append(l.diags, errorf(rng, "Invalid for_each argument",
			"for_each must be a map or a set of strings, not %s.%s", friendly(v), hint))
		return nil, nil, false
	}
	for k := range each {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if keys == nil {
		keys = []string{}
	}
	return keys, each, true
}

// instanceAddr is the address of one instance of a for_each block.
func instanceAddr(addr string, key string, forEach bool) string {
	if !forEach {
		return addr
	}
	return addr + "[" + quote(key) + "]"
}

func quote(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case '\n':
			sb.WriteString(`\n`)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}
