// Package lang loads a directory of pipectl HCL files into a checked
// configuration: blocks, variables and locals, functions, for_each,
// references and the dependency graph, CEL expressions compiled at load
// time, and diagnostics that point at file, line and column. Schema blocks
// (schemablock.go) are read into record schemas by lang/schemafile, and
// each pipeline's record expressions are type-checked against the shape of
// its records where the configuration knows it (shapes.go).
//
// lang is the only package of the project that exposes HCL and cty types.
// It imports no other package of the project except its own subpackages
// (lang/configschema, lang/expr, lang/recordschema, lang/schemafile): plugin schemas reach it through the
// PluginSchemas interface declared here.
package lang
