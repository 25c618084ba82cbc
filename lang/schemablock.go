package lang

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/recordschema"
	"github.com/pipectl/pipectl/lang/schemafile"
)

// SchemaBlock is a schema block: a schema document, parsed.
//
//	schema "order" {
//	  avro = file("schemas/order.avsc")   # or protobuf = ..., message = "shop.Order"
//	}                                      # or json_schema = ...
//
// A reference schema.NAME evaluates to the document's text (what a
// converter's schema attribute takes); a topic's key_schema and
// value_schema name the block and get its record schema.
type SchemaBlock struct {
	Name string
	// Language is "avro", "protobuf" or "json_schema"; Text the document;
	// Message the protobuf message ("" for the others).
	Language, Text, Message string
	// Record is the document as a record schema (lang/schemafile).
	Record    *recordschema.Schema
	DeclRange hcl.Range
}

var schemaBlockSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "avro"}, {Name: "protobuf"}, {Name: "message"}, {Name: "json_schema"},
}}

// schemaLanguages are the attributes of a schema block that hold a
// document, in the order messages list them.
var schemaLanguages = []string{"avro", "protobuf", "json_schema"}

func (l *loader) decodeSchemaBlock(n *node) {
	content, diags := n.block.Body.Content(schemaBlockSchema)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	a := content.Attributes
	var lang string
	for _, name := range schemaLanguages {
		if a[name] == nil {
			continue
		}
		if lang != "" {
			l.diags = append(l.diags, errorf(ptr(a[name].NameRange), "Conflicting schema languages",
				"A schema block holds one document: set exactly one of avro, protobuf or json_schema (%s is set too).", lang))
			return
		}
		lang = name
	}
	if lang == "" {
		l.diags = append(l.diags, errorf(ptr(n.block.DefRange), "Missing schema document",
			`A schema block needs exactly one of avro, protobuf or json_schema, e.g. avro = file("schemas/%s.avsc").`, n.name))
		return
	}
	msgAttr := a["message"]
	switch {
	case lang == "protobuf" && msgAttr == nil:
		l.diags = append(l.diags, errorf(ptr(n.block.DefRange), "Missing protobuf message",
			`A protobuf schema names the message that records hold: message = "pkg.Message".`))
		return
	case lang != "protobuf" && msgAttr != nil:
		l.diags = append(l.diags, errorf(ptr(msgAttr.NameRange), "Unexpected attribute",
			"message names a protobuf message; an %s schema has none.", lang))
		return
	}
	ctx := l.evalCtx(n, nil)
	attr := a[lang]
	text, ok := l.plainString(attr, ctx, lang+" of schema."+n.name)
	if !ok {
		return
	}
	var message string
	if msgAttr != nil {
		if message, ok = l.plainString(msgAttr, ctx, "message of schema."+n.name); !ok {
			return
		}
	}
	rec, err := parseSchemaDocument(lang, text, message)
	if err != nil {
		rng := attr.Expr.Range()
		if lang == "protobuf" && schemaErrorIsMessage(err) {
			rng = msgAttr.Expr.Range()
		}
		l.diags = append(l.diags, errorf(&rng, "Invalid schema document", "The %s document of schema.%s%s is invalid: %s.",
			lang, n.name, fileOf(attr.Expr), err))
		return
	}
	sb := &SchemaBlock{Name: n.name, Language: lang, Text: text, Message: message, Record: rec, DeclRange: n.block.DefRange}
	if l.schemas == nil {
		l.schemas = map[string]*SchemaBlock{}
	}
	l.schemas[n.name] = sb
	l.cfg.Schemas = append(l.cfg.Schemas, sb)
	l.values[n.addr] = cty.StringVal(text)
}

// parseSchemaDocument reads a schema document into a record schema; it
// never panics (the parsers are fuzzed, and this recovers all the same).
func parseSchemaDocument(lang, text, message string) (s *recordschema.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("internal error reading the document: %v", r)
		}
	}()
	switch lang {
	case "avro":
		return schemafile.Avro(text)
	case "protobuf":
		return schemafile.Protobuf(text, message, nil)
	case "json_schema":
		return schemafile.JSONSchema(text)
	}
	return nil, fmt.Errorf("unknown schema language %q", lang)
}

// schemaErrorIsMessage reports whether a protobuf error is about the
// message name rather than the document: it has no place in the text.
func schemaErrorIsMessage(err error) bool {
	var e *schemafile.Error
	return errors.As(err, &e) && e.Line == 0
}

// fileOf names the file of an attribute written file("PATH"), for
// messages: " (PATH)", or "".
func fileOf(e hcl.Expression) string {
	call, ok := e.(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "file" || len(call.Args) != 1 {
		return ""
	}
	v, diags := call.Args[0].Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || !v.IsKnown() || v.IsNull() {
		return ""
	}
	return " (" + v.AsString() + ")"
}

// schemaRef reads a topic's key_schema / value_schema: a reference
// schema.NAME to a schema block (resolved and reported by the reference
// check when it is unknown).
func (l *loader) schemaRef(attr *hcl.Attribute) (*SchemaBlock, bool) {
	if attr == nil {
		return nil, true
	}
	t, diags := hcl.AbsTraversalForExpr(attr.Expr)
	name, hasName := stepName(t, 1)
	if diags.HasErrors() || t.RootName() != "schema" || !hasName || len(t) != 2 {
		l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Invalid schema reference",
			"The %s of a topic is a reference to a schema block, like schema.order.", attr.Name))
		return nil, false
	}
	sb := l.schemas[name]
	if sb == nil {
		return nil, false // undeclared or broken: already reported
	}
	return sb, true
}

// converterSchemaMessage is the protobuf message of the schema block a
// converter's schema attribute names (schema = schema.order), or "".
func (l *loader) converterSchemaMessage(attr *hcl.Attribute) string {
	if attr == nil {
		return ""
	}
	t, diags := hcl.AbsTraversalForExpr(attr.Expr)
	name, _ := stepName(t, 1)
	if diags.HasErrors() || t.RootName() != "schema" || len(t) != 2 {
		return ""
	}
	if sb := l.schemas[name]; sb != nil {
		return sb.Message
	}
	return ""
}

func findAttribute(attrs []configschema.Attribute, name string) (configschema.Attribute, bool) {
	for _, a := range attrs {
		if a.Name == name {
			return a, true
		}
	}
	return configschema.Attribute{}, false
}

func (sb *SchemaBlock) record() *recordschema.Schema {
	if sb == nil {
		return nil
	}
	return sb.Record
}

func (sb *SchemaBlock) name() string {
	if sb == nil {
		return ""
	}
	return sb.Name
}
