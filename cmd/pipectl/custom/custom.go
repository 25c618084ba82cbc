package custom

import (
	"github.com/pipectl/pipectl/cmd/pipectl/internal/cli"
	"github.com/pipectl/pipectl/runtime/connector"
)

// Main runs pipectl with args (the process's arguments without the program
// name) and returns the exit code, as the pipectl command does, with the
// plugins that each register function adds to the built-in ones. A
// register function that fails (a schema that does not validate, a type
// registered twice) makes every command fail with its error.
func Main(args []string, register ...func(*connector.Registry) error) int {
	return cli.Main(args, register...)
}
