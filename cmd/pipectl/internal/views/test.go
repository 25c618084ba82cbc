package views

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/linediff"
	"github.com/pipectl/pipectl/runtime/pipetest"
)

// Test shows the result of `pipectl test`.
type Test interface {
	// Results shows the outcome of every run, the problems of the test
	// files (diags) and the summary. dir is the configuration directory:
	// file names are shown relative to it.
	Results(dir string, res *pipetest.Result, diags hcl.Diagnostics)
}

// NewTest returns the JSON form of the view when json is set, else the
// human form.
func NewTest(json bool, v *View) Test {
	if json {
		return &testJSON{v}
	}
	return &testHuman{v}
}

// testFileName is a test file's name relative to the configuration
// directory, as terraform test shows tests/x.tftest.hcl.
func testFileName(dir, name string) string {
	if rel, err := filepath.Rel(dir, name); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return name
}

type testHuman struct{ *View }

func (v *testHuman) Results(dir string, res *pipetest.Result, diags hcl.Diagnostics) {
	if len(diags) > 0 {
		v.Diagnostics(diags, res.Sources)
	}
	for _, f := range res.Files {
		name := testFileName(dir, f.Name)
		v.out(name + "... in progress\n")
		for _, r := range f.Runs {
			v.out(fmt.Sprintf("  run %q... %s\n", r.Name, v.status(r.Status)))
			if len(r.Diags) > 0 {
				v.Diagnostics(r.Diags, res.Sources)
			}
			for _, fl := range r.Failures {
				v.Diagnostics(hcl.Diagnostics{fl.Diag}, res.Sources)
				v.err(failureRecords(fl))
				v.err("\n")
			}
		}
		v.out(name + "... " + v.status(f.Status()) + "\n")
	}
	if len(res.Files) == 0 && !diags.HasErrors() {
		v.out(fmt.Sprintf("No tests: %s has no *.pipetest.hcl files (beside the configuration or in tests/), or -filter kept none.\n", dir))
	}
	summary := fmt.Sprintf("%d passed, %d failed.", res.Passed, res.Failed)
	if res.Failed > 0 || diags.HasErrors() {
		v.out("\n" + paint(v.streams.StdoutColor, "Failure!", ansiBold, ansiRed) + " " + summary + "\n")
		return
	}
	v.out("\n" + paint(v.streams.StdoutColor, "Success!", ansiBold, ansiGreen) + " " + summary + "\n")
}

func (v *testHuman) status(s pipetest.Status) string {
	switch s {
	case pipetest.Pass:
		return paint(v.streams.StdoutColor, "pass", ansiGreen)
	case pipetest.Fail, pipetest.Error:
		return paint(v.streams.StdoutColor, s.String(), ansiRed)
	}
	return s.String()
}

// failureRecords is the diff of a failure's records (want and got), or the
// record an assertion failed on (got alone).
func failureRecords(fl *pipetest.Failure) string {
	switch {
	case fl.Want != "":
		return "\n" + indent(linediff.Unified("want", "got", fl.Want, fl.Got), "  ")
	case fl.Got != "":
		return "\n  The output record:\n" + indent(fl.Got, "    ")
	}
	return ""
}

func indent(s, prefix string) string {
	var sb strings.Builder
	for _, l := range linediff.Lines(s) {
		sb.WriteString(prefix + l)
	}
	return sb.String()
}

type testJSON struct{ *View }

// testOutput is the document `pipectl test -json` prints.
type testOutput struct {
	FormatVersion string           `json:"format_version"`
	Status        string           `json:"status"`
	Passed        int              `json:"passed"`
	Failed        int              `json:"failed"`
	Files         []testFileJSON   `json:"files"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

type testFileJSON struct {
	Name   string        `json:"name"`
	Status string        `json:"status"`
	Runs   []testRunJSON `json:"runs"`
}

type testRunJSON struct {
	Name         string            `json:"name"`
	Status       string            `json:"status"`
	Outputs      int               `json:"outputs"`
	Filtered     int               `json:"filtered"`
	DeadLettered int               `json:"dead_lettered"`
	Failures     []testFailureJSON `json:"failures"`
	Diagnostics  []jsonDiagnostic  `json:"diagnostics"`
}

type testFailureJSON struct {
	jsonDiagnostic
	Want json.RawMessage `json:"want,omitempty"`
	Got  json.RawMessage `json:"got,omitempty"`
}

func rawJSON(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return nil
	}
	return json.RawMessage(strings.TrimSpace(s))
}

func (v *testJSON) Results(dir string, res *pipetest.Result, diags hcl.Diagnostics) {
	out := testOutput{FormatVersion: jsonFormatVersion, Status: "pass", Passed: res.Passed, Failed: res.Failed,
		Files: []testFileJSON{}, Diagnostics: newJSONDiagnostics(diags, res.Sources)}
	if res.Failed > 0 || diags.HasErrors() {
		out.Status = "fail"
	}
	for _, f := range res.Files {
		fj := testFileJSON{Name: testFileName(dir, f.Name), Status: f.Status().String(), Runs: []testRunJSON{}}
		for _, r := range f.Runs {
			rj := testRunJSON{Name: r.Name, Status: r.Status.String(), Outputs: r.Outputs, Filtered: r.Filtered,
				DeadLettered: r.DeadLettered, Failures: []testFailureJSON{}, Diagnostics: newJSONDiagnostics(r.Diags, res.Sources)}
			for _, fl := range r.Failures {
				rj.Failures = append(rj.Failures, testFailureJSON{
					jsonDiagnostic: newJSONDiagnostics(hcl.Diagnostics{fl.Diag}, res.Sources)[0],
					Want:           rawJSON(fl.Want), Got: rawJSON(fl.Got),
				})
			}
			fj.Runs = append(fj.Runs, rj)
		}
		out.Files = append(out.Files, fj)
	}
	v.json(out)
}

// JUnit XML, the report CI systems read (GitLab CI test reports; GitHub
// Actions through a reporting action): one testsuite per test file, one
// testcase per run.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",cdata"`
}

// xmlText replaces what XML 1.0 cannot hold (control characters other
// than tab, newline and carriage return, say the bytes of a record) with
// U+FFFD: encoding/xml escapes attributes so, but writes CDATA as it is.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
			return r
		}
		return '\uFFFD'
	}, s)
}

// JUnitXML renders the result as a JUnit XML report: a run that failed
// has a failure element, one that could not run an error element, each
// with every diagnostic and record diff as text. diags (problems of the
// test files) become an error testcase of their file.
func JUnitXML(dir string, res *pipetest.Result, diags hcl.Diagnostics) []byte {
	doc := junitSuites{Name: "pipectl test"}
	for _, f := range res.Files {
		name := testFileName(dir, f.Name)
		s := junitSuite{Name: name}
		for _, r := range f.Runs {
			c := junitCase{Name: r.Name, Classname: name}
			switch r.Status {
			case pipetest.Fail:
				var body strings.Builder
				for _, fl := range r.Failures {
					body.WriteString(formatDiagnostics(hcl.Diagnostics{fl.Diag}, res.Sources, false))
					body.WriteString(failureRecords(fl))
					body.WriteString("\n")
				}
				c.Failure = &junitProblem{Message: r.Failures[0].Diag.Summary, Type: "pipectl.test.failure", Body: xmlText(body.String())}
				s.Failures++
			case pipetest.Error:
				c.Error = &junitProblem{Message: r.Diags.Errs()[0].(*hcl.Diagnostic).Summary, Type: "pipectl.test.error",
					Body: xmlText(formatDiagnostics(r.Diags, res.Sources, false))}
				s.Errors++
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		doc.Suites = append(doc.Suites, s)
	}
	byFile := map[string]hcl.Diagnostics{}
	var order []string
	for _, d := range diags.Errs() {
		hd := d.(*hcl.Diagnostic)
		file := "pipectl test"
		if hd.Subject != nil {
			file = testFileName(dir, hd.Subject.Filename)
		}
		if _, ok := byFile[file]; !ok {
			order = append(order, file)
		}
		byFile[file] = append(byFile[file], hd)
	}
	for _, file := range order {
		ds := byFile[file]
		doc.Suites = append(doc.Suites, junitSuite{Name: file, Tests: 1, Errors: 1, Cases: []junitCase{{
			Name: "load", Classname: file,
			Error: &junitProblem{Message: ds[0].Summary, Type: "pipectl.test.error", Body: xmlText(formatDiagnostics(ds, res.Sources, false))},
		}}})
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		// Plain data; failing to encode it is a bug.
		panic(fmt.Sprintf("encode JUnit XML: %v", err))
	}
	return append(append([]byte(xml.Header), b...), '\n')
}
