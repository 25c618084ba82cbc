package lang

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang/configschema"
)

// Import is an import block: plan adopts the existing Kafka topic ID as the
// topic resource To instead of failing because the topic already exists.
// Only topics can be imported: a pipeline exists nowhere but in pipectl's
// state.
//
//	import {
//	  to = topic.orders
//	  id = "shop.orders"
//	}
type Import struct {
	To        string // a topic address: topic.orders or topic.orders["eu"]
	ID        string // the Kafka topic name
	DeclRange hcl.Range
}

var importSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "to", Required: true}, {Name: "id", Required: true},
}}

func (l *loader) decodeImports(declared map[string]bool) {
	topics := map[string]*Topic{}
	for _, t := range l.cfg.Topics {
		topics[t.Address] = t
	}
	seen := map[string]*Import{}
	ctx := l.varsAndLocals()
	for _, b := range l.meta.imports {
		content, diags := b.Body.Content(importSchema)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		toAttr, idAttr := content.Attributes["to"], content.Attributes["id"]
		to, ok := l.resourceAddr(toAttr, "import")
		if !ok {
			continue
		}
		toRng, idRng := toAttr.Expr.Range(), idAttr.Expr.Range()
		if to.kind != "topic" {
			l.diags = append(l.diags, errorf(&toRng, "Cannot import a pipeline",
				"Only topics can be imported: %s exists nowhere but in pipectl's state, so there is nothing to adopt. Remove this import block; plan creates the pipeline.", to))
			continue
		}
		id, ok := l.plainString(idAttr, ctx, "id of an import block")
		if !ok {
			continue
		}
		if !l.checkTopicName(&idRng, "The import id", id) {
			continue
		}
		addr := to.String()
		t := topics[addr]
		if t == nil {
			if !l.failedBlock(to) {
				l.diags = append(l.diags, errorf(&toRng, "Import to an undeclared topic",
					"%s is not declared in the configuration. Declare the topic block the imported topic becomes, with its settings, then import into it.%s",
					addr, configschema.DidYouMean(addr, sortedTrue(declared))))
			}
			continue
		}
		if t.Name != id {
			l.diags = append(l.diags, errorf(&idRng, "Import id differs from the topic name",
				"The import id %q is the Kafka topic to adopt, but %s names the topic %q. Set the block's name to %q, or import the topic it names.",
				id, addr, t.Name, id))
			continue
		}
		if prev, dup := seen[addr]; dup {
			l.diags = append(l.diags, errorf(&toRng, "Duplicate import",
				"%s is already imported by the import block at %s. Remove one of them.", addr, at(prev.DeclRange)))
			continue
		}
		imp := &Import{To: addr, ID: id, DeclRange: b.DefRange}
		seen[addr] = imp
		l.cfg.Imports = append(l.cfg.Imports, imp)
	}
}

// varsAndLocals is an evaluation context with every variable and local
// value, for the top-level blocks that are not part of the reference graph.
func (l *loader) varsAndLocals() *hcl.EvalContext {
	vars, locals := map[string]cty.Value{}, map[string]cty.Value{}
	for _, n := range l.order {
		v, ok := l.values[n.addr]
		if !ok {
			v = cty.DynamicVal
		}
		switch n.kind {
		case "variable":
			vars[n.name] = v
		case "local":
			locals[n.name] = v
		}
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars), "local": cty.ObjectVal(locals)},
		Functions: l.fns,
	}
}
