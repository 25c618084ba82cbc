// Package stdlib holds pipectl's built-in connectors and converters, one
// package each, and Register, which adds all of them to a plugin registry.
//
// stdlib sees only the plugin SDK (runtime/connector), lang/configschema and
// the outside libraries its connectors need; it must not import lang,
// planner or any other part of runtime.
package stdlib
