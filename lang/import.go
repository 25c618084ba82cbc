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
//
// An import block with consumer_group instead of id carries a sink's
// offsets over from another consumer group (a Kafka Connect sink's
// connect-NAME): apply commits that group's offsets as the offsets of the
// new sink's group before its tasks start, so that it resumes where the
// other consumer stopped. It does nothing once the sink exists.
//
//	import {
//	  to             = sink.file.orders
//	  consumer_group = "connect-orders"
//	}
//
// Into a source, connect_offsets_topic and connector name Kafka Connect's
// offsets topic and the connector whose saved offsets the new source
// starts from (where the plugin's offsets map: the file source's).
type Import struct {
	To string // topic.orders or topic.orders["eu"]; a sink with ConsumerGroup
	ID string // the Kafka topic name; "" with ConsumerGroup
	// ConsumerGroup is the consumer group whose committed offsets become
	// the sink's (its To is a sink address).
	ConsumerGroup string
	// ConnectOffsetsTopic and Connector, for a source: the Kafka Connect
	// offsets topic (offset.storage.topic) and the name of the connector
	// whose saved source offsets the new source starts from.
	ConnectOffsetsTopic string
	Connector           string
	DeclRange           hcl.Range
}

var importSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "to", Required: true}, {Name: "id"}, {Name: "consumer_group"},
	{Name: "connect_offsets_topic"}, {Name: "connector"},
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
		toRng := toAttr.Expr.Range()
		if a := content.Attributes["connect_offsets_topic"]; a != nil || content.Attributes["connector"] != nil {
			l.decodeConnectImport(b, to, toAttr, a, content.Attributes["connector"], idAttr, declared, seen, ctx)
			continue
		}
		if groupAttr := content.Attributes["consumer_group"]; groupAttr != nil || to.kind == "sink" {
			l.decodeGroupImport(b, to, toAttr, idAttr, groupAttr, declared, seen, ctx)
			continue
		}
		if idAttr == nil {
			l.diags = append(l.diags, errorf(ptr(b.DefRange), "Missing import id",
				"An import block that adopts a topic needs id, the name of the Kafka topic to adopt."))
			continue
		}
		idRng := idAttr.Expr.Range()
		if to.kind != "topic" {
			l.diags = append(l.diags, errorf(&toRng, "Cannot import a source",
				"Only topics, and the offsets of sinks (with consumer_group), can be imported: %s exists nowhere but in pipectl's state, so there is nothing to adopt. Remove this import block; plan creates the pipeline.", to))
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

// decodeGroupImport decodes import { to = sink.T.N, consumer_group = "G" }.
func (l *loader) decodeGroupImport(b *hcl.Block, to resourceAddr, toAttr, idAttr, groupAttr *hcl.Attribute, declared map[string]bool, seen map[string]*Import, ctx *hcl.EvalContext) {
	toRng := toAttr.Expr.Range()
	if to.kind != "sink" {
		l.diags = append(l.diags, errorf(&toRng, "Consumer group import needs a sink",
			"consumer_group copies a consumer group's offsets to a sink's group, so to must be a sink address like sink.file.orders, not %s.", to))
		return
	}
	if idAttr != nil {
		l.diags = append(l.diags, errorf(ptr(idAttr.NameRange), "Conflicting import settings",
			"An import block into a sink takes consumer_group, the group whose offsets the sink starts from; id adopts a topic. Remove id."))
		return
	}
	if groupAttr == nil {
		l.diags = append(l.diags, errorf(ptr(b.DefRange), "Missing consumer group",
			"An import block into %s needs consumer_group: the consumer group (for a Kafka Connect sink, connect-NAME) whose committed offsets the sink starts from.", to))
		return
	}
	group, ok := l.plainString(groupAttr, ctx, "consumer_group of an import block")
	if !ok {
		return
	}
	grng := groupAttr.Expr.Range()
	if group == "" || len(group) > 255 {
		l.diags = append(l.diags, errorf(&grng, "Invalid consumer group", "A consumer group name is 1 to 255 characters long."))
		return
	}
	addr, ok := l.offsetsImportTarget(to, toRng, "sink", declared, seen)
	if !ok {
		return
	}
	imp := &Import{To: addr, ConsumerGroup: group, DeclRange: b.DefRange}
	seen[addr] = imp
	l.cfg.Imports = append(l.cfg.Imports, imp)
}

// decodeConnectImport decodes import { to = source.T.N,
// connect_offsets_topic = "connect-offsets", connector = "NAME" }.
func (l *loader) decodeConnectImport(b *hcl.Block, to resourceAddr, toAttr, topicAttr, connAttr, idAttr *hcl.Attribute, declared map[string]bool, seen map[string]*Import, ctx *hcl.EvalContext) {
	toRng := toAttr.Expr.Range()
	if to.kind != "source" {
		l.diags = append(l.diags, errorf(&toRng, "Connect offsets import needs a source",
			"connect_offsets_topic copies a Kafka Connect source connector's saved offsets, so to must be a source address like source.file.logs, not %s. For a sink, use consumer_group.", to))
		return
	}
	if idAttr != nil {
		l.diags = append(l.diags, errorf(ptr(idAttr.NameRange), "Conflicting import settings",
			"An import block into a source takes connect_offsets_topic and connector; id adopts a topic. Remove id."))
		return
	}
	if topicAttr == nil || connAttr == nil {
		l.diags = append(l.diags, errorf(ptr(b.DefRange), "Missing import settings",
			"An import block into %s needs both connect_offsets_topic (Kafka Connect's offset.storage.topic) and connector (the Connect connector's name).", to))
		return
	}
	topic, ok1 := l.plainString(topicAttr, ctx, "connect_offsets_topic of an import block")
	conn, ok2 := l.plainString(connAttr, ctx, "connector of an import block")
	if !ok1 || !ok2 || !l.checkTopicName(ptr(topicAttr.Expr.Range()), "The connect_offsets_topic", topic) {
		return
	}
	if conn == "" {
		l.diags = append(l.diags, errorf(ptr(connAttr.Expr.Range()), "Invalid connector name", "The connector is the Kafka Connect connector's name; it cannot be empty."))
		return
	}
	addr, ok := l.offsetsImportTarget(to, toRng, "source", declared, seen)
	if !ok {
		return
	}
	imp := &Import{To: addr, ConnectOffsetsTopic: topic, Connector: conn, DeclRange: b.DefRange}
	seen[addr] = imp
	l.cfg.Imports = append(l.cfg.Imports, imp)
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

// offsetsImportTarget checks that the pipeline an offsets import block
// sets (kind "sink" or "source") is declared and imported only once.
func (l *loader) offsetsImportTarget(to resourceAddr, toRng hcl.Range, kind string, declared map[string]bool, seen map[string]*Import) (string, bool) {
	addr := to.String()
	if !declared[addr] {
		// A block that is declared but did not decode was reported.
		if _, exists := l.nodes[to.block()]; !exists {
			l.diags = append(l.diags, errorf(&toRng, "Import to an undeclared "+kind,
				"%s is not declared in the configuration. Declare the %s whose offsets the import block sets.%s",
				addr, kind, configschema.DidYouMean(addr, sortedTrue(declared))))
		}
		return "", false
	}
	if prev, dup := seen[addr]; dup {
		l.diags = append(l.diags, errorf(&toRng, "Duplicate import",
			"%s is already imported by the import block at %s. Remove one of them.", addr, at(prev.DeclRange)))
		return "", false
	}
	return addr, true
}
