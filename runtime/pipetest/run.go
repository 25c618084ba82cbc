package pipetest

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/testfile"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/engine"
	"github.com/pipectl/pipectl/runtime/schemaregistry"
)

// Status is a run's (or a file's, or the suite's) result.
type Status int

// The statuses: an error is a run that could not run (its configuration
// or pipeline does not load); it counts as failed.
const (
	Pass Status = iota
	Fail
	Error
)

// String returns the status as the output shows it.
func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Error:
		return "error"
	default:
		return fmt.Sprintf("Status(%d)", int(s))
	}
}

// Args are the inputs of Run.
type Args struct {
	// Dir is the configuration directory.
	Dir string
	// Suite is its test files (testfile.Load).
	Suite *testfile.Suite
	// Plugins are the connectors and converters the pipelines use.
	Plugins *connector.Registry
	// Vars are the -var and -var-file arguments; a test file's variables
	// and then a run's override them.
	Vars []lang.VarArg
	// Filter, when not empty, keeps the test files (by path as found,
	// path relative to Dir, or base name) and the runs (by name) it
	// names.
	Filter []string
	// LookupEnv reads the environment (env(), PIPECTL_VAR_name); nil means
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Result is the outcome of a suite.
type Result struct {
	Files          []*FileResult
	Passed, Failed int
	// Sources are every parsed file (configuration and test files) by
	// the name diagnostics use, for snippets.
	Sources map[string]*hcl.File
	// Diags are the problems of the suite as a whole: a -filter value
	// that matched no test file and no run.
	Diags hcl.Diagnostics
}

// FileResult is the outcome of one test file.
type FileResult struct {
	Name string // as found, e.g. DIR/tests/orders.pipetest.hcl
	Runs []*RunResult
}

// Status is Fail when a run failed or errored.
func (f *FileResult) Status() Status {
	for _, r := range f.Runs {
		if r.Status == Fail || r.Status == Error {
			return Fail
		}
	}
	return Pass
}

// RunResult is the outcome of one run block.
type RunResult struct {
	Name   string
	Status Status
	// Failures are the expectations that did not hold, each a
	// diagnostic pointing at the expectation, with the records' want
	// and got when it concerns them.
	Failures []*Failure
	// Diags are the problems that kept the run from running (Status
	// Error): configuration or pipeline errors.
	Diags hcl.Diagnostics
	// What came out: output records, records filtered, records that
	// failed.
	Outputs, Filtered, DeadLettered int
}

// Failure is one expectation that did not hold.
type Failure struct {
	Diag *hcl.Diagnostic
	// Want and Got render the expected and actual records (JSON, one
	// field a line) when the failure is about them; empty otherwise.
	Want, Got string
}

// Run runs every run block of the suite that the filter keeps, in file
// order.
func Run(a Args) *Result {
	res := &Result{Sources: map[string]*hcl.File{}}
	for name, f := range a.Suite.Sources {
		res.Sources[name] = f
	}
	used := make([]bool, len(a.Filter))
	for _, f := range a.Suite.Files {
		fileKept := matches(a.Filter, used, fileNames(a.Dir, f.Name)...)
		fr := &FileResult{Name: f.Name}
		for _, r := range f.Runs {
			runKept := matches(a.Filter, used, r.Name)
			if len(a.Filter) > 0 && !fileKept && !runKept {
				continue
			}
			rr := runOne(a, r, res.Sources)
			fr.Runs = append(fr.Runs, rr)
			if rr.Status == Pass {
				res.Passed++
			} else {
				res.Failed++
			}
		}
		if len(fr.Runs) > 0 {
			res.Files = append(res.Files, fr)
		}
	}
	for i, f := range a.Filter {
		if !used[i] {
			res.Diags = append(res.Diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No test matches the filter",
				Detail: fmt.Sprintf("The -filter value %q names no test file (by its path, its path relative to %s, or its file name) and no run. Check the name, or remove the -filter.", f, a.Dir)})
		}
	}
	return res
}

func fileNames(dir, name string) []string {
	out := []string{name, filepath.Base(name)}
	if rel, err := filepath.Rel(dir, name); err == nil {
		out = append(out, rel)
	}
	return out
}

// matches reports whether a filter value names one of names (true for
// no filter), and marks in used every value that does.
func matches(filter []string, used []bool, names ...string) bool {
	if len(filter) == 0 {
		return true
	}
	ok := false
	for i, f := range filter {
		if slices.Contains(names, f) || slices.Contains(names, filepath.Clean(f)) {
			used[i], ok = true, true
		}
	}
	return ok
}

// runOne loads the configuration with the run's variables, compiles what
// it tests and runs its records.
func runOne(a Args, r *testfile.Run, sources map[string]*hcl.File) *RunResult {
	rr := &RunResult{Name: r.Name}
	vars := append(slices.Clone(a.Vars), r.Variables...)
	cfg, diags := lang.Load(a.Dir, lang.Options{Plugins: a.Plugins, Vars: vars, LookupEnv: a.LookupEnv})
	for name, f := range cfg.Files {
		sources[name] = f
	}
	if diags.HasErrors() {
		rr.Status, rr.Diags = Error, diags
		return rr
	}
	o, target, diag := compileTarget(a, cfg, r)
	if diag != nil {
		rr.Status, rr.Diags = Error, hcl.Diagnostics{diag}
		return rr
	}
	got := feed(o, target, r)
	rr.Outputs, rr.Filtered, rr.DeadLettered = len(got.outputs), got.filtered, len(got.failures)
	rr.Failures = check(r, target, got)
	if got.inputErr != nil {
		rr.Status, rr.Diags = Error, hcl.Diagnostics{got.inputErr}
		return rr
	}
	if len(rr.Failures) > 0 {
		rr.Status = Fail
	}
	return rr
}

// target is what a run tests.
type target struct {
	kind     configschema.Kind // Source, Sink, or "" for a chain
	address  string
	topic    string // a record's default topic
	tolerate bool   // errors.tolerance = "all" (always for a chain)
}

func compileTarget(a Args, cfg *lang.Config, r *testfile.Run) (*engine.Offline, *target, *hcl.Diagnostic) {
	t := &target{address: r.Pipeline}
	// Connectors do not run: a secret they would read from the
	// environment stands in with a placeholder when it is not set.
	lookup := a.LookupEnv
	keyBytes := make([]byte, 32)
	_, _ = rand.Read(keyBytes)
	keys, err := control.NewKeys(keyBytes)
	if err != nil {
		return nil, nil, errorf(&r.Target, "Cannot compile the pipeline", "The secrets of the test cannot be sealed: %s.", err)
	}
	placeholder := func(name string) (string, bool) {
		if lookup != nil {
			if v, ok := lookup(name); ok {
				return v, true
			}
		}
		return "pipectl-test-placeholder", true
	}
	if r.Pipeline == "" {
		var specs []control.TransformSpec
		var names []string
		for _, tr := range cfg.Transforms {
			names = append(names, "transform."+tr.Name)
		}
		for _, name := range r.Transforms {
			i := slices.IndexFunc(cfg.Transforms, func(tr *lang.Transform) bool { return tr.Name == name })
			if i < 0 {
				return nil, nil, errorf(&r.Target, "Unknown transform",
					"The configuration has no transform %q.%s", name, configschema.DidYouMean("transform."+name, names))
			}
			specs = append(specs, control.TransformSpecOf(cfg.Transforms[i]))
		}
		p, err := engine.CompileChain(strings.Join(r.Transforms, ","), specs)
		if err != nil {
			return nil, nil, errorf(&r.Target, "Cannot compile the transforms", "%s.", strings.TrimSuffix(err.Error(), "."))
		}
		t.tolerate = true
		return p.Offline(), t, nil
	}
	resources, err := control.Resources(cfg, keys)
	if err != nil {
		return nil, nil, errorf(&r.Target, "Cannot resolve the configuration", "%s.", strings.TrimSuffix(err.Error(), "."))
	}
	var spec *control.PipelineSpec
	var addrs []string
	for _, res := range resources {
		if res.Kind != control.KindPipeline {
			continue
		}
		addrs = append(addrs, res.Address)
		if res.Address == r.Pipeline {
			spec = res.Pipeline
		}
	}
	if spec == nil {
		return nil, nil, errorf(&r.Target, "Unknown pipeline",
			"The configuration has no pipeline %s; its pipelines are %s.%s", r.Pipeline, strings.Join(addrs, ", "), configschema.DidYouMean(r.Pipeline, addrs))
	}
	// An offline run has no fleet: its converters get a Schema Registry
	// of their own, in memory, empty at the start of every run.
	p, err := engine.Compile(r.Pipeline, spec, a.Plugins, keys, placeholder, engine.WithSchemaRegistry(schemaregistry.NewMemory()))
	if err != nil {
		return nil, nil, errorf(&r.Target, "Cannot compile the pipeline", "%s.", strings.TrimSuffix(err.Error(), "."))
	}
	t.kind = spec.Kind
	t.tolerate = p.TolerateAll()
	switch spec.Kind {
	case configschema.Source:
		t.topic, _ = spec.Config["topic"].(string)
	case configschema.Sink:
		if len(spec.Topics) > 0 {
			t.topic = spec.Topics[0]
		}
	}
	return p.Offline(), t, nil
}

func errorf(rng *hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: rng}
}
