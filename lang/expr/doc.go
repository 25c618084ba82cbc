// Package expr owns pipectl's CEL environment: the record variables, the
// versioned function library (sha256, uuid, now, cel-go's string
// extensions), compilation with type checks, the evaluation limits (all in
// limits.go) and the mapping of CEL errors to offsets in the source text.
//
// It is the only package of the project that builds a cel.Env. It imports
// nothing else of the project.
package expr
