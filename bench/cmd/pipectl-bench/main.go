package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pipectl/pipectl/bench/harness"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "baseline" {
		return harness.BaselineMain(args[1:], stderr)
	}
	fs := flag.NewFlagSet("pipectl-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pipectl := fs.String("pipectl", "bin/pipectl", "the pipectl binary under test")
	bench := fs.String("bench", "", "scenarios to run, comma-separated (default all): "+strings.Join(harness.Names(), ", "))
	records := fs.Int64("records", harness.DefaultRecords, "records per run of the throughput scenarios")
	runs := fs.Int("runs", harness.DefaultRuns, "runs of each scenario; the report gives the median")
	out := fs.String("out", "bench/results.json", "the JSON report to update (\"\" for none)")
	src := fs.String("src", ".", "the module's root, where the Go benchmarks run")
	workDir := fs.String("work-dir", "", "keep logs and files here (default: a temporary directory, removed)")
	benchtime := fs.String("benchtime", "", "-benchtime of the Go benchmarks (default go test's)")
	perf := fs.String("perf", "", "record pipectl's worker with Linux perf into this directory (throughput scenarios)")
	verify := fs.Bool("verify", false, "check that pipectl and each baseline wrote the same records (first run)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "pipectl-bench:", err)
		return 1
	}
	cfg := harness.Config{
		Pipectl: *pipectl, Baseline: []string{self, "baseline"}, Src: *src,
		Records: *records, Runs: *runs, GoBenchTime: *benchtime, WorkDir: *workDir, Verify: *verify, Perf: *perf,
		Out: stdout, Log: stderr,
	}
	if *bench != "" {
		cfg.Scenarios = strings.Split(*bench, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, runErr := harness.Run(ctx, cfg)
	if rep != nil && *out != "" && len(rep.Scenarios) > 0 {
		if err := harness.WriteReport(*out, rep); err != nil {
			fmt.Fprintln(stderr, "pipectl-bench:", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s\n", *out)
	}
	if runErr != nil {
		fmt.Fprintln(stderr, "pipectl-bench:", runErr)
		return 1
	}
	return 0
}
