// Package configschema describes a plugin's configuration as plain data —
// its attributes, their types, defaults, documentation, flags (sensitive,
// forces replacement, expression variables) and rules (enums, bounds,
// durations, regular expressions, paths, attribute groups) — and is the one
// owner of checking and converting a configuration against it.
//
// A connector or converter declares its schema once; the same value drives
// HCL decoding and validation in lang, the worker's checks of the stored
// configuration, a plugin's typed configuration struct, `pipectl schema`,
// the generated JSON Schemas under schemas/, and the planner's
// update-versus-replace decision:
//
//   - Attribute.Coerce checks one value and returns it as the Go type of
//     its attribute; Schema.Coerce does a whole stored configuration
//     (defaults, required and undeclared attributes, nested blocks, groups);
//     Schema.CheckGroups checks the groups alone and Attribute.ResolvePath
//     resolves paths against the configuration directory. Every problem is
//     an *Error with its Rule and attribute, so that lang reports it at the
//     attribute's range and the worker as a message; none quotes a
//     sensitive value.
//   - Decode fills a plugin's configuration struct (fields tagged
//     `pipectl:"NAME"`) and CheckStruct proves that a struct and a schema
//     agree, so that the two cannot drift.
//   - Nearest and DidYouMean are the project's one "Did you mean …?" rule.
//
// It imports no other package of the project but lang/recordschema (the
// record schemas a source plugin declares) and no HCL or cty types, so
// that plugins (stdlib and third-party) can declare schemas without
// depending on the language implementation.
package configschema
