package harness

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/bench/baseline"
)

// stall is how long a run may go without progress before it fails.
const stall = 60 * time.Second

// side is one run of pipectl or of its baseline: how long it took from its
// start until the output was complete, and the CPU time its process used.
type side struct {
	elapsed, cpu time.Duration
	faults       int64 // minor page faults
	// first is how long the first output took: the run's fixed cost
	// (start, group join), before records flow.
	first time.Duration
	// digest summarizes the output (Config.Verify, first run only).
	digest digest
	// peakRSS is the largest VmRSS of the process seen while it ran, in
	// bytes (sampled every 100 ms).
	peakRSS int64
}

// sampleRSS samples the VmRSS of pid every 100 ms until stop is called,
// which returns the largest seen.
func sampleRSS(pid int) (stop func() int64) {
	var peak int64
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := vmRSS(pid); err == nil {
				peak = max(peak, n)
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(quit); <-done; return peak }
}

// throughput describes a throughput scenario.
type throughput struct {
	// records is how many records a run moves: the rate's numerator.
	records int64
	// bytes, when set, is how many bytes of keys and values a run passes
	// through: the report then gives MB/s too.
	bytes int64
	// output prepares a run's output (a topic, a file) for one side.
	output func(ctx context.Context, e *env, name string) (*output, error)
	// pipeline is the HCL of pipectl's pipeline, writing to target.
	pipeline func(e *env, target string) string
	// baseline names the baseline program and its arguments.
	baseline func(e *env, target, group string) []string
	// feed, when set, sends a run its input once its process started
	// (the syslog_tcp scenario's sender); it returns when it sent
	// everything or ctx ends.
	feed func(ctx context.Context, e *env) error
}

// startFeed runs t.feed, if any, until the run returns (stop).
func (e *env) startFeed(ctx context.Context, t throughput) (stop func()) {
	if t.feed == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := t.feed(ctx, e); err != nil && ctx.Err() == nil {
			e.logf("feeding the input: %v", err)
		}
	}()
	return func() { cancel(); <-done }
}

// output is where a run writes.
type output struct {
	target string // topic or file name
	// done is waitFor's: how far the run is, and whether it is done.
	done func() (int64, bool, error)
	// verify, when set, checks the output after the process stopped.
	verify func() error
	// records reads the output's records back, for Config.Verify.
	records func(ctx context.Context) ([]string, error)
	// cleanup removes the output.
	cleanup func()
}

// runThroughput runs pipectl and the baseline alternately, cfg.Runs times
// each, and reports records/s.
func runThroughput(ctx context.Context, e *env, t throughput) (*Result, error) {
	var pRate, bRate, ratio, pSec, bSec, pCPU, bCPU, pFirst, bFirst, pFaults, bFaults, steady, cpuRatio, pRSS, bRSS []float64
	for i := range e.cfg.Runs {
		p, err := e.pipectlRun(ctx, i, t)
		if err != nil {
			return nil, fmt.Errorf("pipectl run %d: %w", i+1, err)
		}
		b, err := e.baselineRun(ctx, i, t)
		if err != nil {
			return nil, fmt.Errorf("baseline run %d: %w", i+1, err)
		}
		if e.cfg.Verify && i == 0 {
			if err := p.digest.compare(b.digest); err != nil {
				return nil, fmt.Errorf("pipectl and the baseline wrote different records: %w", err)
			}
			e.logf("verified: pipectl and the baseline wrote the same %d records", p.digest.n)
		}
		pr, br := rate(t.records, p.elapsed), rate(t.records, b.elapsed)
		e.logf("run %d: pipectl %.0f rec/s (%s, first output after %s, %.2f CPU s, %d page faults, peak RSS %.1f MiB), baseline %.0f rec/s (%s, first output after %s, %.2f CPU s, %d page faults, peak RSS %.1f MiB)", i+1,
			pr, p.elapsed.Round(time.Millisecond), p.first.Round(time.Millisecond), p.cpu.Seconds(), p.faults, float64(p.peakRSS)/(1<<20),
			br, b.elapsed.Round(time.Millisecond), b.first.Round(time.Millisecond), b.cpu.Seconds(), b.faults, float64(b.peakRSS)/(1<<20))
		pRate, bRate, ratio = append(pRate, pr), append(bRate, br), append(ratio, pr/br)
		pSec, bSec = append(pSec, p.elapsed.Seconds()), append(bSec, b.elapsed.Seconds())
		pCPU, bCPU = append(pCPU, p.cpu.Seconds()), append(bCPU, b.cpu.Seconds())
		pFirst, bFirst = append(pFirst, p.first.Seconds()), append(bFirst, b.first.Seconds())
		pFaults, bFaults = append(pFaults, float64(p.faults)), append(bFaults, float64(b.faults))
		pRSS, bRSS = append(pRSS, float64(p.peakRSS)/(1<<20)), append(bRSS, float64(b.peakRSS)/(1<<20))
		// Without the fixed cost before the first output, and CPU per
		// record (baseline over pipectl: above 1, pipectl uses less).
		if p.elapsed > p.first && b.elapsed > b.first {
			steady = append(steady, (b.elapsed-b.first).Seconds()/(p.elapsed-p.first).Seconds())
		}
		if p.cpu > 0 {
			cpuRatio = append(cpuRatio, b.cpu.Seconds()/p.cpu.Seconds())
		}
	}
	res := &Result{Unit: "rec/s", Records: t.records, Metrics: []Metric{
		NewMetric("pipectl", pRate...),
		NewMetric("baseline", bRate...),
		NewMetric("ratio", ratio...),
	}}
	if t.bytes > 0 {
		// MB (10^6 bytes) of keys and values a second.
		mbps := func(secs []float64) []float64 {
			out := make([]float64, len(secs))
			for i, s := range secs {
				out[i] = float64(t.bytes) / 1e6 / s
			}
			return out
		}
		res.Metrics = append(res.Metrics, NewMetric("pipectl_mb_per_s", mbps(pSec)...), NewMetric("baseline_mb_per_s", mbps(bSec)...))
	}
	res.Metrics = append(res.Metrics, []Metric{
		detail(NewMetric("pipectl_seconds", pSec...)),
		detail(NewMetric("baseline_seconds", bSec...)),
		detail(NewMetric("pipectl_cpu_seconds", pCPU...)),
		detail(NewMetric("baseline_cpu_seconds", bCPU...)),
		detail(NewMetric("pipectl_first_output_seconds", pFirst...)),
		detail(NewMetric("baseline_first_output_seconds", bFirst...)),
		detail(NewMetric("pipectl_page_faults", pFaults...)),
		detail(NewMetric("baseline_page_faults", bFaults...)),
		detail(NewMetric("pipectl_peak_rss_mib", pRSS...)),
		detail(NewMetric("baseline_peak_rss_mib", bRSS...)),
	}...)
	for _, m := range []Metric{NewMetric("steady_ratio", steady...), NewMetric("cpu_ratio", cpuRatio...)} {
		if len(m.Runs) > 0 {
			res.Metrics = append(res.Metrics, detail(m))
		}
	}
	met := res.Metric("ratio").Median >= targetRatio(e.scenario)
	res.Met = &met
	return res, nil
}

func detail(m Metric) Metric {
	m.Detail = true
	return m
}

func rate(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() }

// targetRatio is the ratio each throughput scenario must reach.
func targetRatio(scenario string) float64 {
	switch scenario {
	case "transform":
		return 1.2
	case "mirror", "syslog_tcp", "http_source":
		return 0.9
	case "avro_transform":
		return 1.0
	}
	return 0.8
}

// fleetName is the fleet of run i of a scenario: each run starts from
// nothing (new state, new consumer groups).
func (e *env) fleetName(i int) string {
	return "bench-" + strings.ReplaceAll(e.scenario, "_", "-") + "-" + strconv.Itoa(i)
}

// pipectlRun applies the pipeline to a new fleet, starts `pipectl worker`
// for it and measures from the worker's start until the output is
// complete: like the baseline, from a process's start to the end, with
// the consumer group join inside. (How long an apply takes to reach a
// running worker is the startup scenario's apply_seconds.)
func (e *env) pipectlRun(ctx context.Context, i int, t throughput) (side, error) {
	fleet := e.fleetName(i)
	out, err := t.output(ctx, e, "pipectl."+strconv.Itoa(i))
	if err != nil {
		return side{}, err
	}
	defer out.cleanup()
	ctl, err := e.fleetBroker().controlOf(ctx, fleet)
	if err != nil {
		return side{}, err
	}
	defer ctl.Close()
	fc, err := loadConfig(e.dir, fleet, t.pipeline(e, out.target))
	if err != nil {
		return side{}, err
	}
	if err := apply(ctx, ctl, fc); err != nil {
		return side{}, err
	}
	w, err := e.launchWorker(ctx, fleet)
	if err != nil {
		return side{}, err
	}
	if e.cfg.Perf != "" {
		stop, err := e.perfRecord(w.pid(), fmt.Sprintf("%s.%d", e.scenario, i))
		if err != nil {
			w.kill()
			return side{}, err
		}
		defer stop()
	}
	defer e.startFeed(ctx, t)()
	rss := sampleRSS(w.pid())
	end, first, err := waitProgress(ctx, stall, out.done, func() error { return w.healthy(ctx) })
	peak := rss()
	if err != nil {
		w.kill()
		return side{}, fmt.Errorf("%w%s", err, w.stderrTail())
	}
	cpu, err := w.stop(30 * time.Second)
	s := side{elapsed: end.Sub(w.started), cpu: cpu, faults: w.faults(), first: first.Sub(w.started), peakRSS: peak}
	if err == nil {
		err = e.check(ctx, i, out, &s)
	}
	return s, err
}

// baselineRun starts the baseline process and measures from its start
// until the output is complete.
func (e *env) baselineRun(ctx context.Context, i int, t throughput) (side, error) {
	out, err := t.output(ctx, e, "baseline."+strconv.Itoa(i))
	if err != nil {
		return side{}, err
	}
	defer out.cleanup()
	group := e.fleetName(i) + ".baseline"
	argv := append(append([]string{}, e.cfg.Baseline...), t.baseline(e, out.target, group)...)
	p, err := startProc("baseline", argv, e.cfg.BaselineEnv, e.logPath("baseline-"+strconv.Itoa(i)))
	if err != nil {
		return side{}, err
	}
	defer e.startFeed(ctx, t)()
	rss := sampleRSS(p.pid())
	end, first, err := waitProgress(ctx, stall, out.done, func() error {
		if exited, err := p.exited(); exited && err != nil {
			return fmt.Errorf("baseline exited: %v%s", err, p.stderrTail())
		}
		return nil
	})
	peak := rss()
	if err != nil {
		p.kill()
		return side{}, err
	}
	cpu, err := p.stop(30 * time.Second)
	s := side{elapsed: end.Sub(p.started), cpu: cpu, faults: p.faults(), first: first.Sub(p.started), peakRSS: peak}
	if err == nil {
		err = e.check(ctx, i, out, &s)
	}
	return s, err
}

// check verifies a run's output after its process stopped and, with
// Config.Verify, takes the first run's digest.
func (e *env) check(ctx context.Context, i int, out *output, s *side) error {
	if out.verify != nil {
		if err := out.verify(); err != nil {
			return err
		}
	}
	if !e.cfg.Verify || i > 0 || out.records == nil {
		return nil
	}
	recs, err := out.records(ctx)
	if err != nil {
		return fmt.Errorf("reading the output back: %w", err)
	}
	s.digest, err = digestOf(recs)
	return err
}

// topicOutput is the output of the kafka scenarios: a new 6-partition
// topic, done when it holds want records, deleted afterwards.
func topicOutput(want func(e *env) int64) func(ctx context.Context, e *env, name string) (*output, error) {
	return func(ctx context.Context, e *env, name string) (*output, error) {
		topic, b := "bench."+e.scenario+"."+name, e.fleetBroker()
		if err := b.createTopic(ctx, topic, inputPartitions); err != nil {
			return nil, err
		}
		n := want(e)
		done := func() (int64, bool, error) {
			got, err := b.count(ctx, topic)
			if got > n {
				return got, false, fmt.Errorf("%s holds %d records, more than the %d expected", topic, got, n)
			}
			return got, got == n, err
		}
		cleanup := func() {
			if err := b.deleteTopics(context.WithoutCancel(ctx), topic); err != nil {
				e.logf("deleting %s: %v", topic, err)
			}
		}
		records := func(ctx context.Context) ([]string, error) { return b.readAll(ctx, topic, n) }
		return &output{target: topic, done: done, cleanup: cleanup, records: records}, nil
	}
}

// fileOutput is the output of the file_sink scenario: a file that must
// end up holding every value and a newline after each. The clock stops
// when all but the last write buffer is in the file: both sides write a
// full buffer out at once but the last one only at the next flush, at most
// a second later, which would otherwise round every run up to the flush
// cadence. verify checks, after the stop, that the file is complete.
func fileOutput(ctx context.Context, e *env, name string) (*output, error) {
	path := filepath.Join(e.dir, "file_sink."+name+".jsonl")
	want := e.input.Bytes + e.input.Records // a newline after each value
	size := func() (int64, error) {
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
	enough := want - baseline.FileBuffer
	if want < 2*baseline.FileBuffer {
		enough = want // a tiny run: wait for the flush
	}
	done := func() (int64, bool, error) {
		n, err := size()
		if err == nil && n > want {
			err = fmt.Errorf("%s holds %d bytes, more than the %d expected", path, n, want)
		}
		return n, n >= enough, err
	}
	verify := func() error {
		// The stopped process wrote its last buffer; make sure.
		n, err := size()
		if err == nil && n != want {
			err = fmt.Errorf("%s holds %d bytes after the stop, want %d", path, n, want)
		}
		return err
	}
	records := func(context.Context) ([]string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
	}
	return &output{target: path, done: done, verify: verify, cleanup: func() { os.Remove(path) }, records: records}, nil
}

// sinkKafka is the pipeline of the kafka → kafka scenarios: a kafka sink
// reading the input topic of the fleet's cluster and writing to target on
// the same broker.
func sinkKafka(e *env, target, converters, transform string) string {
	var sb strings.Builder
	if transform != "" {
		sb.WriteString(transform + "\n")
	}
	fmt.Fprintf(&sb, "sink \"kafka\" \"bench\" {\n  topics  = [%q]\n  brokers = [%q]\n  topic   = %q\n%s", e.input.Topic, e.broker.addr, target, converters)
	if transform != "" {
		sb.WriteString("  transforms = [transform.bench]\n")
	}
	sb.WriteString("}\n")
	return sb.String()
}

func baselineArgs(name string, e *env, target, group string) []string {
	return []string{"-name", name, "-brokers", e.broker.addr, "-input", e.input.Topic, "-group", group, "-output", target,
		"-records", strconv.FormatInt(e.cfg.Records, 10)}
}

// transformHCL is the transform of the transform scenario (issue 7).
const transformHCL = `transform "bench" {
  filter = "value.amount >= 10"
  set    = { "value.email" = "sha256(value.email)" }
}
`

func runTransform(ctx context.Context, e *env) (*Result, error) {
	return runThroughput(ctx, e, throughput{
		records: e.input.Records,
		output:  topicOutput(func(e *env) int64 { return e.input.Kept }),
		pipeline: func(e *env, target string) string {
			return sinkKafka(e, target, "  key_converter   = \"string\"\n  value_converter = \"json\"\n", transformHCL)
		},
		baseline: func(e *env, target, group string) []string { return baselineArgs("transform", e, target, group) },
	})
}

func runPassthrough(ctx context.Context, e *env) (*Result, error) {
	return runThroughput(ctx, e, throughput{
		records: e.input.Records,
		output:  topicOutput(func(e *env) int64 { return e.input.Records }),
		pipeline: func(e *env, target string) string {
			return sinkKafka(e, target, "  key_converter   = \"bytes\"\n  value_converter = \"bytes\"\n", "")
		},
		baseline: func(e *env, target, group string) []string { return baselineArgs("passthrough", e, target, group) },
	})
}

func runGenerator(ctx context.Context, e *env) (*Result, error) {
	return runThroughput(ctx, e, throughput{
		records: e.cfg.Records,
		output:  topicOutput(func(e *env) int64 { return e.cfg.Records }),
		pipeline: func(e *env, target string) string {
			return fmt.Sprintf("source \"generator\" \"bench\" {\n  topic = %q\n  rate  = 0\n  count = %d\n  value = %q\n}\n",
				target, e.cfg.Records, baseline.GeneratorExpr)
		},
		baseline: func(e *env, target, group string) []string {
			return []string{"-name", "generator", "-brokers", e.broker.addr, "-output", target, "-records", strconv.FormatInt(e.cfg.Records, 10)}
		},
	})
}

func runFileSink(ctx context.Context, e *env) (*Result, error) {
	return runThroughput(ctx, e, throughput{
		records: e.input.Records,
		output:  fileOutput,
		pipeline: func(e *env, target string) string {
			return fmt.Sprintf("sink \"file\" \"bench\" {\n  topics = [%q]\n  path   = %q\n}\n", e.input.Topic, target)
		},
		baseline: func(e *env, target, group string) []string {
			return []string{"-name", "file_sink", "-brokers", e.broker.addr, "-input", e.input.Topic, "-group", group, "-path", target}
		},
	})
}

// perfRecord starts `perf record` on pid; stop ends it (SIGINT, so that it
// writes its file).
func (e *env) perfRecord(pid int, name string) (stop func(), err error) {
	if err := os.MkdirAll(e.cfg.Perf, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(e.cfg.Perf, name+".perf.data")
	argv := []string{"perf", "record", "-F", "499", "-g", "-o", path, "-p", strconv.Itoa(pid)}
	p, err := startProc("perf", argv, nil, e.logPath("perf-"+name))
	if err != nil {
		return nil, err
	}
	time.Sleep(200 * time.Millisecond) // perf attaches
	return func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.kill()
		}
		e.logf("perf profile of the worker: perf report -i %s", path)
	}, nil
}
