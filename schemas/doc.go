// Package schemas generates pipectl's published JSON Schemas and the plugin
// reference from the configuration schemas plugins declare once
// (lang/configschema):
//
//   - schemas/plugins/KIND.TYPE.schema.json: one JSON Schema (draft 2020-12)
//     per registered plugin, with the language's common attributes and
//     blocks (lang.CommonAttributes, lang.CommonBlocks) for sources and sinks;
//   - schemas/diagnostics.schema.json: the output of `pipectl validate -json`;
//   - schemas/plan.schema.json: the output of `pipectl plan -json`;
//   - schemas/test.schema.json: the output of `pipectl test -json`;
//   - schemas/record-schema.schema.json: the JSON form of a record schema
//     (lang/recordschema);
//   - docs/plugins.md: the human reference of every plugin, from a marker
//     line to the end; the part above the marker is written by hand and
//     kept (withHandWritten).
//
// The files are committed. TestGeneratedFilesUpToDate fails when they are
// stale; `make generate` (PIPECTL_UPDATE=1) rewrites them.
//
// This package is a generator: it may import lang, runtime/connector and
// stdlib, and nothing of the project imports it.
package schemas
