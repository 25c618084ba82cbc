package harness

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/pipectl/pipectl/bench/baseline"
)

// BaselineMain is the baseline mode of the harness binary (`pipectl-bench
// baseline -name NAME ...`): it runs one baseline until it is done or
// receives SIGTERM, and returns the exit code.
func BaselineMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "baseline to run: "+strings.Join(baseline.Names, ", "))
	brokers := fs.String("brokers", "", "bootstrap brokers, comma-separated")
	targets := fs.String("target-brokers", "", "bootstrap brokers of the cluster the mirror baseline writes to, comma-separated")
	var a baseline.Args
	fs.StringVar(&a.Input, "input", "", "topic to consume")
	fs.StringVar(&a.Group, "group", "", "consumer group")
	fs.StringVar(&a.Output, "output", "", "topic to produce to")
	fs.StringVar(&a.Path, "path", "", "file to append to")
	fs.Int64Var(&a.Records, "records", 0, "records to generate (syslog_tcp, http_source: to receive)")
	fs.StringVar(&a.Listen, "listen", "", "address the syslog_tcp and http_source baselines listen on")
	fs.StringVar(&a.DSN, "dsn", "", "PostgreSQL connection string (sql_sink)")
	fs.StringVar(&a.Table, "table", "", "table to upsert into (sql_sink)")
	fs.IntVar(&a.SchemaID, "schema-id", 0, "registry id of the Avro schema the values are written with (avro_transform)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *brokers == "" || *name == "" {
		fmt.Fprintln(stderr, "baseline: -name and -brokers are required")
		return 2
	}
	a.Brokers = strings.Split(*brokers, ",")
	if *targets != "" {
		a.TargetBrokers = strings.Split(*targets, ",")
	}
	// Like PIPECTL_CPUPROFILE for the worker, so that both sides of a
	// scenario can be profiled in the same run.
	if path := os.Getenv("PIPECTL_BASELINE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(stderr, "baseline: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "baseline: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := baseline.Run(ctx, *name, a); err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "baseline %s: %v\n", *name, err)
		return 1
	}
	return 0
}
