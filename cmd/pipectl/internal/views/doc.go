// Package views prints everything pipectl shows: diagnostics, command
// results, usage text and crash notices. Commands (package cli) compute and
// hand plain values to a view; no command writes to stdout or stderr itself.
//
// Each view has a human form and, where the command takes -json, a JSON form
// with a "format_version". Human output is coloured only when the View was
// told its stream is a terminal (the cli decides: a terminal and NO_COLOR
// unset), so tests and pipes never see escape codes. Golden files in
// testdata are refreshed with PIPECTL_UPDATE=1.
//
// views may import the plain-data models it shows (lang, lang/configschema
// and the hcl diagnostic types, planner/plan, the report types of
// runtime/worker and runtime/api); it must not import
// cmd/pipectl/internal/cli or stdlib, nor call into the planner or the
// runtime: it knows nothing of how results are computed.
package views
