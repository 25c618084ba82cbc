// Package connector is the plugin SDK: everything a source, sink or
// converter plugin sees of pipectl. It declares the plugin registry into
// which stdlib.Register and third-party plugins register, each plugin with
// the configuration schema (lang/configschema) it declares once and the Go
// struct its configuration decodes into (Plugin.Config; Register refuses a
// struct that does not match the schema, and TaskContext.DecodeConfig fills
// it).
//
// Records may carry the schemas of their keys and values (Record.KeySchema,
// Record.ValueSchema: lang/recordschema's Schema, re-exported here as
// Schema), and converters may write and read them (SchemaEncoder,
// SchemaDecoder).
//
// It may import lang/configschema and lang/recordschema and nothing else of
// the project: plugins depend on this package alone.
package connector
