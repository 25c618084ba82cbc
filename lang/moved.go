package lang

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang/configschema"
)

// Moved is a moved block: the resource that the state holds at From is the
// one the configuration now declares at To. Plan renames it instead of
// destroying and creating it, and keeps its offsets.
//
//	moved {
//	  from = source.generator.orders
//	  to   = source.generator.orders_v2
//	}
type Moved struct {
	From      string // a resource address: topic.x, source.t.n, sink.t.n["k"]
	To        string
	DeclRange hcl.Range
}

// metaBlocks collects the blocks that are about resources rather than
// resources themselves: top-level moved and import blocks, and the
// lifecycle block inside topic, source and sink blocks.
type metaBlocks struct {
	moved, imports []*hcl.Block
	lifecycles     map[string]Lifecycle // by block address (no instance key)
}

func (m *metaBlocks) declare(b *hcl.Block) {
	if b.Type == "moved" {
		m.moved = append(m.moved, b)
	} else {
		m.imports = append(m.imports, b)
	}
}

// decodeMetaBlocks runs after every resource is decoded: moved and import
// blocks check their addresses against the declared resources, and
// lifecycle settings are attached to every instance of their block.
func (l *loader) decodeMetaBlocks() {
	declared := map[string]bool{}
	for _, t := range l.cfg.Topics {
		declared[t.Address] = true
		t.Lifecycle = l.meta.lifecycles[blockAddr(t.Address)]
	}
	for _, p := range l.cfg.Pipelines {
		declared[p.Address] = true
		p.Lifecycle = l.meta.lifecycles[blockAddr(p.Address)]
	}
	l.decodeMoved(declared)
	l.decodeImports(declared)
}

// blockAddr is the address of the block an instance address belongs to:
// topic.orders for topic.orders["eu"].
func blockAddr(addr string) string {
	if i := strings.IndexByte(addr, '['); i >= 0 {
		return addr[:i]
	}
	return addr
}

var movedSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "from", Required: true}, {Name: "to", Required: true},
}}

func (l *loader) decodeMoved(declared map[string]bool) {
	type stmt struct {
		m        *Moved
		fromRng  hcl.Range
		toRng    hcl.Range
		from, to resourceAddr
	}
	var stmts []stmt
	for _, b := range l.meta.moved {
		content, diags := b.Body.Content(movedSchema)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		from, ok1 := l.resourceAddr(content.Attributes["from"], "moved")
		to, ok2 := l.resourceAddr(content.Attributes["to"], "moved")
		if !ok1 || !ok2 {
			continue
		}
		toRng := content.Attributes["to"].Expr.Range()
		switch {
		case from.String() == to.String():
			l.diags = append(l.diags, errorf(&toRng, "Redundant moved block",
				"This moved block moves %s to itself. Remove it, or name the new address in to.", from))
			continue
		case from.kind != to.kind || from.typ != to.typ:
			l.diags = append(l.diags, errorf(&toRng, "Invalid moved block",
				"%s cannot move to %s: a resource moves only to an address of the same kind and type (a topic to a topic, source.%s to source.%s). To change the type, remove the old block and add a new one.",
				from, to, from.typeOrName(), from.typeOrName()))
			continue
		}
		stmts = append(stmts, stmt{m: &Moved{From: from.String(), To: to.String(), DeclRange: b.DefRange},
			fromRng: content.Attributes["from"].Expr.Range(), toRng: toRng, from: from, to: to})
	}
	byFrom := map[string]stmt{}
	byTo := map[string]stmt{}
	var ok []stmt
	for _, s := range stmts {
		if prev, dup := byFrom[s.m.From]; dup {
			l.diags = append(l.diags, errorf(&s.fromRng, "Ambiguous move statements",
				"%s is moved twice: here and at %s. A resource can move to one address only.", s.m.From, at(prev.m.DeclRange)))
			continue
		}
		if prev, dup := byTo[s.m.To]; dup {
			l.diags = append(l.diags, errorf(&s.toRng, "Ambiguous move statements",
				"Two moved blocks move into %s: this one and the one at %s. Only one resource can end up at an address.", s.m.To, at(prev.m.DeclRange)))
			continue
		}
		byFrom[s.m.From], byTo[s.m.To] = s, s
		ok = append(ok, s)
	}
	for _, s := range ok {
		if declared[s.m.From] || l.failedBlock(s.from) {
			if declared[s.m.From] {
				l.diags = append(l.diags, errorf(&s.fromRng, "Moved object still exists",
					"%s is still declared in the configuration, so it cannot be the source of a move. Remove or rename its block, or remove this moved block.", s.m.From))
			}
			continue
		}
		// Follow a chain of moves (a → b, b → c) to its end, which must
		// be declared; a chain that comes back is a cycle.
		end, seen := s, map[string]bool{s.m.From: true}
		cyclic := false
		for {
			next, chained := byFrom[end.m.To]
			if !chained {
				break
			}
			if seen[next.m.From] {
				cyclic = true
				break
			}
			seen[next.m.From] = true
			end = next
		}
		switch {
		case cyclic:
			l.diags = append(l.diags, errorf(ptr(s.m.DeclRange), "Cyclic moved blocks",
				"The moved blocks starting at %s come back to an address they left. Remove one of them.", s.m.From))
			continue
		case !declared[end.m.To] && !l.failedBlock(end.to):
			if _, chained := byFrom[s.m.To]; !chained {
				l.diags = append(l.diags, errorf(&s.toRng, "Moved to an undeclared resource",
					"%s is not declared in the configuration. A moved block's to must name a topic, source or sink that the configuration declares.%s",
					s.m.To, configschema.DidYouMean(s.m.To, sortedTrue(declared))))
			}
			continue
		}
		l.cfg.Moved = append(l.cfg.Moved, s.m)
	}
}

// failedBlock reports whether the block of an address is declared but
// failed to decode: its instances are unknown, and errors about them were
// already reported.
func (l *loader) failedBlock(a resourceAddr) bool {
	n, ok := l.nodes[a.block()]
	return ok && n.failed
}

func sortedTrue(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// resourceAddr is a parsed resource address.
type resourceAddr struct {
	kind   string // topic, source or sink
	typ    string // source and sink only
	name   string
	key    string
	hasKey bool
}

func (a resourceAddr) block() string {
	if a.kind == "topic" {
		return "topic." + a.name
	}
	return a.kind + "." + a.typ + "." + a.name
}

func (a resourceAddr) String() string { return instanceAddr(a.block(), a.key, a.hasKey) }

func (a resourceAddr) typeOrName() string {
	if a.typ != "" {
		return a.typ
	}
	return "TYPE"
}

// resourceAddr reads an attribute that holds a resource address written as
// a reference: topic.NAME, source.TYPE.NAME or sink.TYPE.NAME, optionally
// followed by an instance key in brackets.
func (l *loader) resourceAddr(attr *hcl.Attribute, block string) (resourceAddr, bool) {
	rng := attr.Expr.Range()
	bad := func() (resourceAddr, bool) {
		l.diags = append(l.diags, errorf(&rng, "Invalid resource address",
			`The %s of a %s block is a resource address written without quotes: topic.NAME, source.TYPE.NAME or sink.TYPE.NAME, with ["KEY"] for an instance of a for_each block.`,
			attr.Name, block))
		return resourceAddr{}, false
	}
	t, diags := hcl.AbsTraversalForExpr(attr.Expr)
	if diags.HasErrors() {
		return bad()
	}
	var a resourceAddr
	a.kind = t.RootName()
	steps := t[1:]
	want := 2
	if a.kind == "topic" {
		want = 1
	} else if !isPipeline(a.kind) {
		return bad()
	}
	if len(steps) != want && len(steps) != want+1 {
		return bad()
	}
	var names []string
	for _, s := range steps[:want] {
		attr, ok := s.(hcl.TraverseAttr)
		if !ok {
			return bad()
		}
		names = append(names, attr.Name)
	}
	if want == 2 {
		a.typ = names[0]
	}
	a.name = names[want-1]
	if len(steps) == want+1 {
		idx, ok := steps[want].(hcl.TraverseIndex)
		if !ok || idx.Key.Type() != cty.String || idx.Key.IsNull() {
			return bad()
		}
		a.key, a.hasKey = idx.Key.AsString(), true
	}
	return a, true
}
