package main

import (
	"os"

	"github.com/pipectl/pipectl/cmd/pipectl/custom"
	"github.com/pipectl/pipectl/examples/plugins/batchfile"
)

func main() { os.Exit(custom.Main(os.Args[1:], batchfile.Register)) }
