// Command pipectl is the pipectl command line. Everything but the exit lives
// in cmd/pipectl/internal/cli.
package main

import (
	"os"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
