package cli

import (
	"fmt"
	"strings"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

var schemaCommand = &command{
	name:     "schema",
	synopsis: "Describe the connector and converter types",
	usage: `Usage: pipectl schema [options] [KIND.TYPE]

  Without an argument, lists every source, sink and converter type this
  pipectl knows. With one, such as source.file, sink.kafka or
  converter.json, describes the type's configuration: each attribute with
  its type, whether it is required, its default, and what it means; for
  sources and sinks also the attributes and blocks every pipeline takes.

Options:

  -json      Print the schema(s) as JSON.
  -no-color  Print without colour.
`,
	run: runSchema,
}

func runSchema(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	jsonOut := fs.Bool("json", false, "")
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if len(positional) > 1 {
		m.view().UsageError("Too many command-line arguments",
			fmt.Sprintf("schema takes one KIND.TYPE; got %s.", strings.Join(quoteAll(positional), ", ")), cmd.usage)
		return exitError
	}
	reg, err := m.registry()
	if err != nil {
		m.view().Error("Cannot register the plugins", err.Error())
		return exitError
	}
	view := views.NewSchema(*jsonOut, m.view())

	if len(positional) == 0 {
		var docs []views.SchemaDoc
		for _, s := range reg.Schemas() {
			docs = append(docs, schemaDoc(s))
		}
		view.List(docs)
		return exitOK
	}

	s, ok := lookupSchema(reg, positional[0])
	if !ok {
		m.view().Error("Unknown plugin type", unknownSchemaDetail(reg, positional[0]))
		return exitError
	}
	view.Show(schemaDoc(s))
	return exitOK
}

// lookupSchema finds "source.file" and the like in reg.
func lookupSchema(reg *connector.Registry, address string) (*configschema.Schema, bool) {
	kind, typ, ok := strings.Cut(address, ".")
	if !ok {
		return nil, false
	}
	return reg.Schema(configschema.Kind(kind), typ)
}

func unknownSchemaDetail(reg *connector.Registry, address string) string {
	var all []string
	for _, s := range reg.Schemas() {
		all = append(all, s.Address())
	}
	detail := fmt.Sprintf("There is no plugin type %q.", address)
	if !strings.Contains(address, ".") {
		detail = fmt.Sprintf("%q is not a KIND.TYPE such as source.file, sink.kafka or converter.json.", address)
		// "file" alone: suggest the types of that name.
		var same []string
		for _, a := range all {
			if _, typ, _ := strings.Cut(a, "."); typ == address {
				same = append(same, fmt.Sprintf("%q", a))
			}
		}
		if len(same) > 0 {
			return detail + " Did you mean " + strings.Join(same, " or ") + "?"
		}
	}
	if s := configschema.DidYouMean(address, all); s != "" {
		return detail + s
	}
	return detail + ` Run "pipectl schema" for the list of types.`
}

// schemaDoc pairs a plugin's schema with the attributes, blocks and rules
// the language gives every source and sink.
func schemaDoc(s *configschema.Schema) views.SchemaDoc {
	doc := views.SchemaDoc{Schema: s}
	switch s.Kind {
	case configschema.Source, configschema.Sink:
		common := lang.CommonSchema(s.Kind)
		doc.CommonAttributes = common.Attributes
		doc.CommonBlocks = common.Blocks
		doc.CommonExactlyOneOf = common.ExactlyOneOf
	case configschema.Converter: // no attributes of the language's own
	}
	return doc
}
