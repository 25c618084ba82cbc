// Package connector is the plugin SDK: everything a source, sink or
// converter plugin sees of pipectl. It declares the plugin registry into
// which stdlib.Register and third-party plugins register, each plugin with
// the configuration schema (lang/configschema) it declares once and the Go
// struct its configuration decodes into (Plugin.Config; Register refuses a
// struct that does not match the schema, and TaskContext.DecodeConfig fills
// it).
//
// It may import lang/configschema and nothing else of the project: plugins
// depend on this package alone.
package connector
