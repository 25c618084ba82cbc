// Package archtest holds no code, only a test that keeps the project's
// architecture: the import rules (lang imports no other part of the
// project; runtime never reaches planner; planner imports only lang,
// runtime/control and runtime/kafka; stdlib only the plugin SDK and
// lang/configschema; the plugin SDK only lang/configschema; only lang/expr
// imports cel-go) and the layout rules (no Go files in the runtime/ root, a
// doc.go in every package, no util/common/helpers packages). A third test
// keeps the repository self-contained: no file names a design or notes
// file that lives outside it.
//
// The rules apply to the packages' non-test imports, as `go list -deps`
// reports them: tests may import what they need to set up real components.
// They are written against path prefixes, so they hold for packages that do
// not exist yet.
//
// It imports nothing of the project.
package archtest
