package main

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/cli"
)

// TestMain lets the test binary act as pipectl inside the scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pipectl": func() { os.Exit(cli.Main(os.Args[1:])) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script. With
// PIPECTL_UPDATE=1 the expected-output files inside the scripts are
// rewritten from the actual output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: os.Getenv("PIPECTL_UPDATE") == "1",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":     exitcode,
			"kafka":        kafkaCmd,
			"example":      exampleCmd,
			"records":      recordsCmd,
			"lines":        linesCmd,
			"counted":      countedCmd,
			"firstrunning": firstRunningCmd,
			"cibroker":     cibrokerCmd,
			"cicommands":   cicommandsCmd,
			"cistep":       cistepCmd,
			"docexample":   docexampleCmd,
			"freeport":     freePortCmd,
		},
	})
}

// exitcode runs a program like exec and asserts its exact exit status,
// which exec cannot ("! exec" accepts any failure):
//
//	exitcode 3 pipectl fmt -check
//
// stdout and stderr are then checked as after exec.
func exitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: exitcode CODE PROGRAM [ARGS...] (no !)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d; want %d", args[1], got, want)
	}
}
