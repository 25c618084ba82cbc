package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// celPackages hold the Go benchmarks of the record path that the cel
// scenario runs: CEL programs, converters and the transform engine.
var celPackages = []string{"./lang/expr", "./stdlib/converters", "./runtime/engine"}

// goBench runs `go test -run ^$ -bench pattern -benchmem` in the module
// and parses its results; with count > 1 each value is the median of the
// counts.
func (e *env) goBench(ctx context.Context, pattern string, count int, pkgs ...string) ([]GoBenchmark, error) {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", strconv.Itoa(count)}
	if e.cfg.GoBenchTime != "" {
		args = append(args, "-benchtime", e.cfg.GoBenchTime)
	}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = e.cfg.Src
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s%s", strings.Join(args, " "), err, out.String(), stderr.String())
	}
	if err := os.WriteFile(e.logPath("go-test"), out.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return ParseGoBench(out.String()), nil
}

// ParseGoBench parses the output of `go test -bench`: every result line
// of every package, the repeated lines of -count merged into their median.
func ParseGoBench(out string) []GoBenchmark {
	type key struct{ pkg, name string }
	var order []key
	runs := map[key]map[string][]float64{}
	ns := map[key]int64{}
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		k := key{pkg, trimProcs(f[0])}
		if _, ok := runs[k]; !ok {
			order = append(order, k)
			runs[k] = map[string][]float64{}
		}
		ns[k] = n
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			runs[k][f[i+1]] = append(runs[k][f[i+1]], v)
		}
	}
	out2 := make([]GoBenchmark, 0, len(order))
	for _, k := range order {
		b := GoBenchmark{Package: k.pkg, Name: k.name, N: ns[k], Values: map[string]float64{}}
		for unit, vs := range runs[k] {
			b.Values[unit] = Median(vs)
		}
		out2 = append(out2, b)
	}
	return out2
}

// procsSuffix is the -GOMAXPROCS suffix go test adds to a benchmark name.
var procsSuffix = regexp.MustCompile(`-\d+$`)

func trimProcs(name string) string { return procsSuffix.ReplaceAllString(name, "") }

// hasBenchmarks reports whether a _test.go file under dir declares a
// benchmark.
func hasBenchmarks(dir string) bool {
	re := regexp.MustCompile(`(?m)^func Benchmark\w*\(`)
	found := false
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || found || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && re.Match(b) {
			found = true
		}
		return nil
	})
	return found
}

// runCEL runs the record path's Go benchmarks once, and the planner's own
// when it has some.
func runCEL(ctx context.Context, e *env) (*Result, error) {
	pkgs := celPackages
	if hasBenchmarks(filepath.Join(e.cfg.Src, "planner")) {
		pkgs = append(slices.Clip(pkgs), "./planner/...")
	}
	bs, err := e.goBench(ctx, ".", 1, pkgs...)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, fmt.Errorf("no benchmark results in %v", celPackages)
	}
	return &Result{Benchmarks: bs}, nil
}

// planBenchmark is the Go benchmark of the plan scenario (in
// bench/planbench): sub-benchmarks named with the pipeline count,
// BenchmarkPlan/pipelines=N, each loading N pipelines and planning them
// against a state of the same size with 1 % of them changed. It reports
// load-ms/op and plan-ms/op besides ns/op (their sum).
const planBenchmark = "BenchmarkPlan"

// planPackage holds planBenchmark.
const planPackage = "./bench/planbench"

// planSizes are the pipeline counts of issue 7.
var planSizes = []int{1, 100, 1000, 5000}

// sizeOf finds the pipeline count in a sub-benchmark name
// ("BenchmarkPlan/pipelines=1000" → 1000).
var sizeOf = regexp.MustCompile(`/\D*(\d+)$`)

// runPlan runs BenchmarkPlan Runs times (-count) and reports, per size,
// the median time of a load and a plan, in ms.
func runPlan(ctx context.Context, e *env) (*Result, error) {
	if _, err := os.Stat(filepath.Join(e.cfg.Src, "planner")); err != nil {
		return &Result{Skipped: "planner not present"}, nil
	}
	bs, err := e.goBench(ctx, "^"+planBenchmark+"$", e.cfg.Runs, planPackage)
	if err != nil {
		return nil, err
	}
	res := &Result{Unit: "ms", Benchmarks: bs}
	total, plan := map[int]float64{}, map[int]float64{}
	for _, b := range bs {
		m := sizeOf.FindStringSubmatch(b.Name)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if v, ok := b.Values["ns/op"]; ok && slices.Contains(planSizes, n) {
			total[n] = v / 1e6
			plan[n] = b.Values["plan-ms/op"]
		}
	}
	for _, n := range planSizes {
		if v, ok := total[n]; ok {
			res.Metrics = append(res.Metrics, Metric{Name: "p" + strconv.Itoa(n), Median: v, Runs: []float64{v}})
		}
	}
	for _, n := range planSizes {
		if v, ok := plan[n]; ok {
			res.Metrics = append(res.Metrics, detail(Metric{Name: "plan_only_p" + strconv.Itoa(n), Median: v, Runs: []float64{v}}))
		}
	}
	t1k, ok1 := total[1000]
	t5k, ok5 := total[5000]
	if !ok1 || !ok5 {
		return nil, fmt.Errorf("%s reported no pipelines=1000 and pipelines=5000 results", planBenchmark)
	}
	// Per-pipeline cost at 5,000 over that at 1,000: 1 is linear.
	growth := (t5k / 5000) / (t1k / 1000)
	res.Metrics = append(res.Metrics, Metric{Name: "growth_ratio", Median: growth, Runs: []float64{growth}})
	met := t1k < 1000 && growth <= 1.5
	res.Met = &met
	// The per-benchmark lines would repeat the figures above.
	res.Benchmarks = nil
	res.Notes = append(res.Notes, fmt.Sprintf("go test -bench %s -count %d %s; pN is load + plan of N pipelines in ms (median), plan_only_pN the planner's part", planBenchmark, e.cfg.Runs, planPackage))
	return res, nil
}
