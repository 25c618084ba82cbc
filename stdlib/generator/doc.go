// Package generator is the built-in "generator" source: it produces records
// from CEL expressions over a sequence number, for demos, tests and load.
//
// It imports only the plugin SDK and lang/configschema.
package generator
