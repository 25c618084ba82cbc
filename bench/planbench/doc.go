// Package planbench holds the benchmark of the plan scenario of `make
// bench` (BenchmarkPlan): loading a configuration of N pipelines and
// planning it against a state of the same size in which 1 % of the
// pipelines differ. It has no code outside its test; the harness runs it
// with `go test -bench`.
//
// It may import anything (the benchmarks are outside the layering that
// internal/archtest keeps): lang and planner here.
package planbench
