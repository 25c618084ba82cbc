// Package expr owns pipectl's CEL environment: the record variables, the
// versioned function library (library.go: sha256, uuid, now and cel-go's
// strings, encoders, math and lists extensions), compilation with type
// checks, evaluation with results as plain Go values, the limits (all in
// limits.go), the mapping of CEL errors to byte offsets in the source text
// (position.go), and what a program reads and returns as its checked
// syntax tree says (inspect.go: the variables it reads, the field path it
// selects, the record schema of its result).
//
// It is the only package of the project that builds a cel.Env. It imports
// nothing else of the project but lang/configschema (for the one "did you
// mean" rule, configschema.Nearest) and lang/recordschema (the schema of a
// result, and the shapes a typed check declares key and value by:
// typed.go, CheckTyped).
package expr
