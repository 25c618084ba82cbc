// Package main is the pipectl binary: main.go only hands os.Args to
// cmd/pipectl/internal/cli and exits with its code. The commands live in
// internal/cli, the output in internal/views, the unified diff of fmt -diff
// in internal/linediff. End-to-end tests are testscript files in
// testdata/script, run against this binary by main_test.go.
//
// main imports only cmd/pipectl/internal/cli.
package main
