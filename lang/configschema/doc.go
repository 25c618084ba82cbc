// Package configschema is the plain-data description of a plugin's
// configuration: its attributes, their types, defaults, documentation and
// flags (sensitive, forces replacement, expression variables).
//
// A connector or converter declares its schema once; the same value drives
// HCL decoding and validation in lang, `pipectl schema`, the generated JSON
// Schemas under schemas/, and the planner's update-versus-replace decision.
//
// This package holds data only. It imports no other package of the project
// and no HCL or cty types, so that plugins (stdlib and third-party) can
// declare schemas without depending on the language implementation.
package configschema
