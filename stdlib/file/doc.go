// Package file is the built-in "file" source and sink: a source that tails
// files line by line, and a sink that appends records to a file.
//
// It imports only the plugin SDK and lang/configschema.
package file
