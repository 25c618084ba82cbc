// Command pipectl-batchfile is pipectl with one more plugin, sink
// "batchfile" (package examples/plugins/batchfile): the custom main of a
// third-party plugin, one Register call beside the built-ins.
//
//	go build -o bin/pipectl-batchfile ./examples/plugins/batchfile/cmd/pipectl-batchfile
//	bin/pipectl-batchfile schema sink.batchfile
//	bin/pipectl-batchfile dev -duration 20s examples/plugins/batchfile/example
package main
