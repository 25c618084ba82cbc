package harness

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{10, 1, 1000}, 10},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.in...)
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if diff := cmp.Diff(in, tt.in); diff != "" {
			t.Errorf("Median changed its input (-before +after):\n%s", diff)
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		name string
		v    float64
		want string
	}{
		{"ratio", 1.2345, "1.23"},
		{"ratio", 0.8, "0.80"},
		{"growth_ratio", 1, "1.00"},
		{"pipectl", 167702.4, "167702"},
		{"baseline", 1000, "1000"},
		{"idle", 29.44, "29.4"},
		{"pipectl", 0.0304, "0.030"},
	}
	for _, tt := range tests {
		if got := FormatValue(tt.name, tt.v); got != tt.want {
			t.Errorf("FormatValue(%q, %v) = %q, want %q", tt.name, tt.v, got, tt.want)
		}
	}
}

func TestLines(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name string
		r    Result
		want []string
	}{{
		name: "throughput",
		r: Result{Name: "transform", Unit: "rec/s", Target: "ratio >= 1.2", Met: &no, Metrics: []Metric{
			NewMetric("pipectl", 100000, 120000, 110000),
			NewMetric("baseline", 90000, 95000, 100000),
			NewMetric("ratio", 1.11, 1.26, 1.10),
			detail(NewMetric("pipectl_seconds", 10, 8.3, 9.1)),
		}},
		want: []string{`transform pipectl=110000 baseline=95000 ratio=1.11 unit=rec/s target="ratio >= 1.2" met=false`},
	}, {
		name: "own unit",
		r: Result{Name: "rss", Unit: "MiB", Target: "idle < 50 MiB", Met: &yes, Metrics: []Metric{
			NewMetric("idle", 29.4, 29.6, 29.5), NewMetric("per_pipeline", 0.226, 0.23, 0.22),
		}},
		want: []string{`rss idle=29.5 per_pipeline=0.226 unit=MiB target="idle < 50 MiB" met=true`},
	}, {
		name: "skipped",
		r:    Result{Name: "plan", Skipped: "planner not present", Target: "1,000 in < 1 s"},
		want: []string{`plan skipped="planner not present"`},
	}, {
		name: "go benchmarks",
		r: Result{Name: "cel", Benchmarks: []GoBenchmark{{
			Package: "github.com/pipectl/pipectl/lang/expr", Name: "BenchmarkTransformProgram/sha256", N: 100,
			Values: map[string]float64{"allocs/op": 12, "ns/op": 642.6, "B/op": 360, "MB/s": 1.5},
		}}},
		want: []string{`cel lang/expr.BenchmarkTransformProgram/sha256 ns/op=642.6 B/op=360 allocs/op=12 MB/s=1.5`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.r.Lines()); diff != "" {
				t.Errorf("Lines() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/pipectl/pipectl/lang/expr
cpu: Intel(R) Xeon(R)
BenchmarkTransformProgram/filter-2         	 2751843	       435.2 ns/op	     256 B/op	       8 allocs/op
BenchmarkTransformProgram/filter-2         	 2751843	       445.2 ns/op	     256 B/op	       8 allocs/op
BenchmarkTransformProgram/filter-2         	 2751843	       425.2 ns/op	     256 B/op	       8 allocs/op
PASS
ok  	github.com/pipectl/pipectl/lang/expr	5.123s
pkg: github.com/pipectl/pipectl/runtime/engine
BenchmarkSinkBatch/passthrough-2   	     465	   2546995 ns/op	       254.7 ns/record	 2262831 B/op	   30009 allocs/op
--- BENCH: BenchmarkOther-2
PASS
`
	want := []GoBenchmark{{
		Package: "github.com/pipectl/pipectl/lang/expr", Name: "BenchmarkTransformProgram/filter", N: 2751843,
		Values: map[string]float64{"ns/op": 435.2, "B/op": 256, "allocs/op": 8},
	}, {
		Package: "github.com/pipectl/pipectl/runtime/engine", Name: "BenchmarkSinkBatch/passthrough", N: 465,
		Values: map[string]float64{"ns/op": 2546995, "ns/record": 254.7, "B/op": 2262831, "allocs/op": 30009},
	}}
	if diff := cmp.Diff(want, ParseGoBench(out)); diff != "" {
		t.Errorf("ParseGoBench (-want +got):\n%s", diff)
	}
}

func TestReportJSONAndMerge(t *testing.T) {
	at := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	yes := true
	old := &Report{Machine: Machine{CPUs: 2, GoVersion: "go1.26.7"}, Scenarios: []*Result{
		{Name: "transform", Unit: "rec/s", Metrics: []Metric{NewMetric("ratio", 0.5)}, MeasuredAt: at},
		{Name: "rss", Unit: "MiB", Metrics: []Metric{NewMetric("idle", 30)}, MeasuredAt: at},
	}}
	path := filepath.Join(t.TempDir(), "results.json")
	if err := WriteReport(path, old); err != nil {
		t.Fatal(err)
	}
	fresh := &Report{Machine: Machine{CPUs: 2, GoVersion: "go1.26.8"}, Scenarios: []*Result{
		{Name: "cel", Benchmarks: []GoBenchmark{{Package: "p", Name: "BenchmarkX", N: 1, Values: map[string]float64{"ns/op": 1}}}, MeasuredAt: at},
		{Name: "transform", Unit: "rec/s", Metrics: []Metric{NewMetric("ratio", 1.3, 1.2, 1.25)}, Met: &yes, MeasuredAt: at},
	}}
	if err := WriteReport(path, fresh); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("results.json is not JSON: %v\n%s", err, b)
	}
	want := Report{Machine: fresh.Machine, Scenarios: []*Result{
		fresh.Scenarios[1], // transform, measured again
		old.Scenarios[1],   // rss, kept
		fresh.Scenarios[0], // cel, added, in scenario order
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged report (-want +got):\n%s", diff)
	}
	if got.Scenarios[0].Metrics[0].Median != 1.25 {
		t.Errorf("median of the ratio runs = %v, want 1.25", got.Scenarios[0].Metrics[0].Median)
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tpipectl\nVmPeak:\t  812345 kB\nVmRSS:\t   30124 kB\nRssAnon:\t   20000 kB\n"
	got, err := parseVmRSS(status)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(30124 * 1024); got != want {
		t.Errorf("parseVmRSS = %d, want %d", got, want)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tmany kB\n"} {
		if _, err := parseVmRSS(bad); err == nil {
			t.Errorf("parseVmRSS(%q): no error", bad)
		}
	}
}

func TestDigest(t *testing.T) {
	a, err := digestOf([]string{"k1\x00{\"b\":1,\"a\":57.0}", "k2\x00{\"a\":2}", "not json"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := digestOf([]string{"not json", "k2\x00{ \"a\": 2 }", "k1\x00{\"a\":57,\"b\":1.0}"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.compare(b); err != nil {
		t.Errorf("the same records in another order and form differ: %v", err)
	}
	c, err := digestOf([]string{"k1\x00{\"b\":1,\"a\":57.5}", "k2\x00{\"a\":2}", "not json"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.compare(c); err == nil {
		t.Error("records with another amount compare equal")
	}
	d, _ := digestOf([]string{"k2\x00{\"a\":2}"})
	if err := a.compare(d); err == nil {
		t.Error("3 records compare equal to 1")
	}
}

func TestSizeOf(t *testing.T) {
	for name, want := range map[string]string{
		"BenchmarkPlan/pipelines=1000": "1000",
		"BenchmarkPlan/5000":           "5000",
		"BenchmarkPlan/n=1":            "1",
	} {
		m := sizeOf.FindStringSubmatch(name)
		if m == nil || m[1] != want {
			t.Errorf("sizeOf(%q) = %v, want %s", name, m, want)
		}
	}
}
