// Package testfile reads the test files of pipectl test: *.pipetest.hcl
// files beside a configuration or in its tests/ directory, each a list of
// run blocks that name the pipeline (or chain of transforms) under test,
// give it input records and say what must come out (docs/testing.md).
//
// It only parses and checks the files: records become plain Go values
// (string, int64, float64, bool, nil, []any, map[string]any), assertions
// are compiled CEL (lang/expr's record environment) and every problem is
// an hcl.Diagnostic with file, line and column. Running the tests is
// runtime/pipetest's job.
//
// It imports lang and lang/expr, and nothing else of the project.
package testfile
