// Package cli is pipectl's command line: it parses arguments, runs the
// command asked for, and returns the exit code. Commands compute — they call
// lang, the plugin registry and (later) the planner and runtime — and hand
// the results to cmd/pipectl/internal/views, which does all the printing; no
// command writes to stdout or stderr itself.
//
// Adding a command: write a file with a *command value (name, synopsis,
// usage text, run function) and list it in commands (commands.go).
//
// cli owns flags, exit codes and panic recovery, and no business logic. It
// may import every package of the project; nothing imports cli but
// cmd/pipectl.
//
// The version string is the variable Version, set at build time with
//
//	go build -ldflags "-X github.com/pipectl/pipectl/cmd/pipectl/internal/cli.Version=v0.2.0" ./cmd/pipectl
package cli
