// Package lang loads a directory of pipectl HCL files into a checked
// configuration: blocks, variables and locals, functions, for_each,
// references and the dependency graph, CEL expressions compiled at load
// time, and diagnostics that point at file, line and column.
//
// lang is the only package of the project that exposes HCL and cty types.
// It imports no other package of the project except its own subpackages
// (lang/configschema, lang/expr): plugin schemas reach it through the
// PluginSchemas interface declared here.
package lang
