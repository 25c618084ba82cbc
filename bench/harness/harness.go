package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Config configures a harness run.
type Config struct {
	// Pipectl is the pipectl binary under test.
	Pipectl string
	// Baseline is the command line that runs a baseline (BaselineMain),
	// e.g. {"bin/pipectl-bench", "baseline"}; BaselineEnv is added to its
	// environment.
	Baseline    []string
	BaselineEnv []string
	// Src is the module's root, where `go test -bench` runs (the cel and
	// plan scenarios).
	Src string
	// Records is how many records the throughput scenarios move per run.
	Records int64
	// Runs is how many times each scenario runs; the report gives the
	// median.
	Runs int
	// Scenarios to run; empty runs all, in Names order.
	Scenarios []string
	// IdlePipelines is how many idle pipelines the rss scenario adds.
	IdlePipelines int
	// GoBenchTime is -benchtime of the Go benchmarks ("" for go test's
	// default of 1s).
	GoBenchTime string
	// Verify reads the output of the first run of each side of the
	// throughput scenarios back and fails when pipectl and the baseline
	// did not write the same records (as JSON values, in any order).
	Verify bool
	// Perf, when set, is a directory where Linux perf records pipectl's
	// worker (perf record -g -p PID) during each throughput run, for
	// `perf report -i FILE`. The recording costs the worker some speed.
	Perf string
	// WorkDir keeps the logs, configurations and files of the run; ""
	// uses a temporary directory removed afterwards.
	WorkDir string
	// Out receives the result lines; Log the progress.
	Out, Log io.Writer
}

// Defaults of Config.
const (
	DefaultRecords       = 1_000_000
	DefaultRuns          = 3
	DefaultIdlePipelines = 100
)

// scenario is one entry of issue 7's table.
type scenario struct {
	name   string
	target string
	// broker: the scenario runs on a broker of its own; seed: with the
	// input topic filled first.
	broker, seed bool
	run          func(ctx context.Context, e *env) (*Result, error)
}

// scenarios lists every scenario in the order they run and are reported.
var scenarios = []scenario{
	{name: "transform", target: "ratio >= 1.2", broker: true, seed: true, run: runTransform},
	{name: "passthrough", target: "ratio >= 0.8", broker: true, seed: true, run: runPassthrough},
	{name: "generator", target: "ratio >= 0.8", broker: true, run: runGenerator},
	{name: "file_sink", target: "ratio >= 0.8", broker: true, seed: true, run: runFileSink},
	{name: "mirror", target: "ratio >= 0.9", broker: true, seed: true, run: runMirror},
	{name: "syslog_tcp", target: "ratio >= 0.9", broker: true, run: runSyslogTCP},
	{name: "http_source", target: "ratio >= 0.9", broker: true, run: runHTTPSource},
	{name: "sql_sink", target: "ratio >= 0.9", broker: true, seed: true, run: runSQLSink},
	{name: "avro_transform", target: "ratio >= 1.0", broker: true, run: runAvroTransform},
	{name: "plan", target: "1,000 pipelines < 1 s; growth no worse than linear", run: runPlan},
	{name: "failover", target: "<= session timeout + 5 s", broker: true, run: runFailover},
	{name: "restart", target: "<= 3 s (session timeout 10 s)", broker: true, run: runRestart},
	{name: "rss", target: "idle < 50 MiB; < 1 MiB per idle pipeline", broker: true, run: runRSS},
	{name: "startup", target: "< 1 s", broker: true, run: runStartup},
	{name: "cel", target: "report; fewer allocations each round", run: runCEL},
}

// Names lists the scenarios in the order they run.
func Names() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

func scenarioOrder(name string) int {
	if i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name }); i >= 0 {
		return i
	}
	return len(scenarios)
}

// env is what a scenario runs with.
type env struct {
	cfg      Config
	dir      string
	scenario string
	broker   *broker // nil for scenarios without one
	// fleet, when set, is the broker of the fleets and the outputs (the
	// mirror scenario's target cluster); otherwise broker is.
	fleet   *broker
	input   Input
	workers int // worker processes started, for their log files
}

// fleetBroker is the broker the fleets run on and the outputs are written
// to.
func (e *env) fleetBroker() *broker {
	if e.fleet != nil {
		return e.fleet
	}
	return e.broker
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.cfg.Log, "  %s: %s\n", e.scenario, fmt.Sprintf(format, args...))
}

// logPath is where a process of the scenario logs.
func (e *env) logPath(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' {
			return '_'
		}
		return r
	}, name)
	return filepath.Join(e.dir, e.scenario+"."+name+".log")
}

// Run runs the scenarios and returns what they measured: every line is
// written to cfg.Out as soon as its scenario ends. A scenario that fails
// is reported on cfg.Out as `NAME error="..."` and left out of the report;
// Run then returns an error after running the others.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Records <= 0 {
		cfg.Records = DefaultRecords
	}
	if cfg.Runs <= 0 {
		cfg.Runs = DefaultRuns
	}
	if cfg.IdlePipelines <= 0 {
		cfg.IdlePipelines = DefaultIdlePipelines
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	var selected []scenario
	if len(cfg.Scenarios) == 0 {
		selected = scenarios
	} else {
		for _, name := range cfg.Scenarios {
			i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
			if i < 0 {
				return nil, fmt.Errorf("no scenario %q; the scenarios are %s", name, strings.Join(Names(), ", "))
			}
			selected = append(selected, scenarios[i])
		}
	}
	dir := cfg.WorkDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "pipectl-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}

	rep := &Report{Machine: describeMachine(cfg)}
	var failed []string
	for _, sc := range selected {
		start := time.Now()
		fmt.Fprintf(cfg.Log, "%s: running (%d runs)\n", sc.name, cfg.Runs)
		res, err := runScenario(ctx, cfg, dir, sc)
		if err != nil {
			fmt.Fprintf(cfg.Out, "%s error=%q\n", sc.name, err.Error())
			failed = append(failed, sc.name)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		res.Name, res.Target, res.MeasuredAt = sc.name, sc.target, time.Now().UTC().Truncate(time.Second)
		for _, line := range res.Lines() {
			fmt.Fprintln(cfg.Out, line)
		}
		fmt.Fprintf(cfg.Log, "%s: done in %s\n", sc.name, time.Since(start).Round(time.Second))
		rep.Scenarios = append(rep.Scenarios, res)
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("scenarios failed: %s", strings.Join(failed, ", "))
	}
	return rep, nil
}

func runScenario(ctx context.Context, cfg Config, dir string, sc scenario) (*Result, error) {
	e := &env{cfg: cfg, dir: dir, scenario: sc.name}
	if sc.broker {
		b, err := startBroker(ctx, cfg.Pipectl, e.logPath("broker"))
		if err != nil {
			return nil, err
		}
		defer b.close()
		e.broker = b
		if sc.seed {
			start := time.Now()
			if e.input, err = b.seed(ctx, cfg.Records); err != nil {
				return nil, err
			}
			e.logf("seeded %d records (%d MB) into %s in %s", e.input.Records, e.input.Bytes>>20, e.input.Topic, time.Since(start).Round(time.Millisecond))
			// One untimed read of the input first: whichever side ran
			// first after the seeding was a third slower or more than in
			// its later runs (the broker's first read of fresh data, its
			// garbage collection after the seeding), and pipectl runs
			// first.
			if err := b.each(ctx, e.input.Topic, e.input.Records, func(*kgo.Record) {}); err != nil {
				return nil, fmt.Errorf("reading the input once before the runs: %w", err)
			}
		}
	}
	return sc.run(ctx, e)
}
