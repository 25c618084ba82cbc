// Package converters holds the built-in converters "json", "string" and
// "bytes", which turn record keys and values from bytes into structured
// values and back.
//
// It imports only the plugin SDK and lang/configschema.
package converters
