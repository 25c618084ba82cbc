package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metric is one measured quantity of a scenario: its value in every run
// and their median.
type Metric struct {
	Name   string    `json:"name"`
	Median float64   `json:"median"`
	Runs   []float64 `json:"runs"`
	// Detail metrics are written to the JSON only, not to the line.
	Detail bool `json:"detail,omitempty"`
}

// NewMetric returns the metric of the given runs, with their median.
func NewMetric(name string, runs ...float64) Metric {
	return Metric{Name: name, Median: Median(runs), Runs: runs}
}

// GoBenchmark is one result line of `go test -bench`.
type GoBenchmark struct {
	Package string `json:"package"`
	Name    string `json:"name"` // without the -GOMAXPROCS suffix
	N       int64  `json:"n"`
	// Values maps each unit (ns/op, B/op, allocs/op and custom ones) to
	// its value.
	Values map[string]float64 `json:"values"`
}

// Result is what one scenario measured.
type Result struct {
	Name string `json:"name"`
	// Unit is the unit of the line's values, e.g. "rec/s", "s", "MiB".
	Unit    string   `json:"unit,omitempty"`
	Metrics []Metric `json:"metrics,omitempty"`
	// Records is how many records each run moved, for throughput.
	Records int64 `json:"records,omitempty"`
	// Target is the target, in words; Met whether the medians
	// meet it (nil when there is no target to check).
	Target     string        `json:"target,omitempty"`
	Met        *bool         `json:"met,omitempty"`
	Skipped    string        `json:"skipped,omitempty"`
	Benchmarks []GoBenchmark `json:"benchmarks,omitempty"`
	Notes      []string      `json:"notes,omitempty"`
	MeasuredAt time.Time     `json:"measured_at"`
}

// Metric returns the named metric, or nil.
func (r *Result) Metric(name string) *Metric {
	for i := range r.Metrics {
		if r.Metrics[i].Name == name {
			return &r.Metrics[i]
		}
	}
	return nil
}

// Lines returns the report lines of r: one line "NAME key=value ..." with
// the medians of its non-detail metrics, then unit, target and met; for Go
// benchmarks one line per benchmark; for a skipped scenario `NAME
// skipped="why"`.
func (r *Result) Lines() []string {
	if r.Skipped != "" {
		return []string{r.Name + " skipped=" + strconv.Quote(r.Skipped)}
	}
	var out []string
	if len(r.Metrics) > 0 || len(r.Benchmarks) == 0 {
		var sb strings.Builder
		sb.WriteString(r.Name)
		for _, m := range r.Metrics {
			if !m.Detail {
				fmt.Fprintf(&sb, " %s=%s", m.Name, FormatValue(m.Name, m.Median))
			}
		}
		if r.Unit != "" {
			sb.WriteString(" unit=" + r.Unit)
		}
		if r.Target != "" {
			sb.WriteString(" target=" + strconv.Quote(r.Target))
		}
		if r.Met != nil {
			sb.WriteString(" met=" + strconv.FormatBool(*r.Met))
		}
		out = append(out, sb.String())
	}
	for _, b := range r.Benchmarks {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s %s.%s", r.Name, shortPackage(b.Package), b.Name)
		units := make([]string, 0, len(b.Values))
		for u := range b.Values {
			units = append(units, u)
		}
		slices.SortFunc(units, compareUnits)
		for _, u := range units {
			fmt.Fprintf(&sb, " %s=%s", u, strconv.FormatFloat(b.Values[u], 'f', -1, 64))
		}
		out = append(out, sb.String())
	}
	return out
}

// compareUnits orders ns/op, B/op, allocs/op first, then the others by
// name.
func compareUnits(a, b string) int {
	rank := func(u string) int {
		switch u {
		case "ns/op":
			return 0
		case "B/op":
			return 1
		case "allocs/op":
			return 2
		}
		return 3
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

func shortPackage(p string) string {
	return strings.TrimPrefix(p, "github.com/pipectl/pipectl/")
}

// FormatValue formats a median for a line: ratios with two decimals, large
// values as integers, small ones with three significant decimals.
func FormatValue(name string, v float64) string {
	switch {
	case name == "ratio" || strings.HasSuffix(name, "_ratio"):
		return strconv.FormatFloat(v, 'f', 2, 64)
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// Median returns the median of xs (the mean of the middle two for an even
// count); NaN for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Machine describes where a report was measured.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model,omitempty"`
	MemoryMiB  int64  `json:"memory_mib,omitempty"`
	Kernel     string `json:"kernel,omitempty"`
	GoVersion  string `json:"go_version"`
	Broker     string `json:"broker"`
	FranzGo    string `json:"franz_go,omitempty"`
	Commit     string `json:"commit,omitempty"`
	Runs       int    `json:"runs"`
	RecordSize int    `json:"record_bytes,omitempty"`
}

// Report is the content of bench/results.json.
type Report struct {
	Machine   Machine   `json:"machine"`
	Scenarios []*Result `json:"scenarios"`
}

// Merge replaces the scenarios of r that fresh measured again, adds the
// new ones, keeps the others, and takes fresh's machine: `make bench
// BENCH=name` updates one scenario of the figures of record.
func (r *Report) Merge(fresh *Report) {
	r.Machine = fresh.Machine
	for _, f := range fresh.Scenarios {
		i := slices.IndexFunc(r.Scenarios, func(s *Result) bool { return s.Name == f.Name })
		if i >= 0 {
			r.Scenarios[i] = f
		} else {
			r.Scenarios = append(r.Scenarios, f)
		}
	}
	slices.SortStableFunc(r.Scenarios, func(a, b *Result) int { return scenarioOrder(a.Name) - scenarioOrder(b.Name) })
}

// ReadReport reads a report file; a missing file is an empty report.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Report{}, nil
	}
	if err != nil {
		return nil, err
	}
	r := new(Report)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Marshal returns r as indented JSON with a final newline.
func (r *Report) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteReport merges fresh into the report at path and writes it back.
func WriteReport(path string, fresh *Report) error {
	r, err := ReadReport(path)
	if err != nil {
		return err
	}
	r.Merge(fresh)
	b, err := r.Marshal()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
