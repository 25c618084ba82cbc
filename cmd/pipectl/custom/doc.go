// Package custom builds a pipectl binary with more plugins than the
// built-in ones: a third-party connector or converter is one more Register
// call in a main of its own.
//
//	package main
//
//	import (
//		"os"
//
//		"example.com/batchfile"
//		"github.com/pipectl/pipectl/cmd/pipectl/custom"
//	)
//
//	func main() { os.Exit(custom.Main(os.Args[1:], batchfile.Register)) }
//
// The binary is pipectl with every command, flag and built-in plugin; its
// workers can run the added plugins, and its validate, plan and schema
// commands know their schemas. Every worker of a fleet that runs a
// pipeline of an added type must be such a build.
//
// It imports the CLI and the plugin SDK.
package custom
