package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testConfig = `
fleet {
  name = "x"
}

transform "big" {
  filter = "value.amount >= 10"
}

sink "file" "out" {
  topics     = ["t"]
  path       = "out.jsonl"
  transforms = [transform.big]
}
`

const testRuns = `
run "passes" {
  pipeline = sink.file.out
  record {
    value = { amount = 10 }
  }
  record {
    value = { amount = 1 }
  }
  expect {
    records  = [{ value = { amount = 10 } }]
    filtered = 1
  }
}

run "fails" {
  pipeline = sink.file.out
  record {
    value = { amount = 10 }
  }
  expect {
    records = [{ value = { amount = 11 } }]
  }
}

run "errors" {
  pipeline = sink.file.nope
  expect {}
}
`

func writeTestDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range map[string]string{"main.hcl": testConfig, "tests/a.pipetest.hcl": testRuns} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestTestJUnitXML reads the report back as a CI system would.
func TestTestJUnitXML(t *testing.T) {
	dir := writeTestDir(t)
	report := filepath.Join(t.TempDir(), "report.xml")
	code, stdout, _ := runCLI(t, "test", "-junit-xml", report, dir)
	if code != exitError || !strings.Contains(stdout, "Failure! 1 passed, 2 failed.") {
		t.Fatalf("exit %d, stdout:\n%s", code, stdout)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	type problem struct {
		Message string `xml:"message,attr"`
		Body    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *problem `xml:"failure"`
		Error     *problem `xml:"error"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name  string     `xml:"name,attr"`
			Tests int        `xml:"tests,attr"`
			Cases []testcase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the report is not XML: %v\n%s", err, b)
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 1 || len(doc.Suites) != 1 {
		t.Fatalf("report = %+v", doc)
	}
	s := doc.Suites[0]
	if s.Name != "tests/a.pipetest.hcl" || s.Tests != 3 || len(s.Cases) != 3 {
		t.Fatalf("suite = %+v", s)
	}
	var got []string
	for _, c := range s.Cases {
		line := c.Classname + " " + c.Name
		if c.Failure != nil {
			line += " failure: " + c.Failure.Message
		}
		if c.Error != nil {
			line += " error: " + c.Error.Message
		}
		got = append(got, line)
	}
	want := []string{
		"tests/a.pipetest.hcl passes",
		"tests/a.pipetest.hcl fails failure: Wrong output records",
		"tests/a.pipetest.hcl errors error: Unknown pipeline",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("test cases (-want +got):\n%s", d)
	}
	if body := s.Cases[1].Failure.Body; !strings.Contains(body, `-      "amount": 11`) || !strings.Contains(body, `+      "amount": 10`) {
		t.Errorf("the failure has no record diff:\n%s", body)
	}
}

func TestTestJSON(t *testing.T) {
	dir := writeTestDir(t)
	code, stdout, stderr := runCLI(t, "test", "-json", dir)
	if code != exitError || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var doc struct {
		FormatVersion  string `json:"format_version"`
		Status         string `json:"status"`
		Passed, Failed int
		Files          []struct {
			Name string
			Runs []struct {
				Name, Status string
				Outputs      int
				Filtered     int
				Failures     []struct {
					Summary   string
					Want, Got json.RawMessage
				}
				Diagnostics []struct{ Summary string }
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, stdout)
	}
	if doc.FormatVersion != "1.0" || doc.Status != "fail" || doc.Passed != 1 || doc.Failed != 2 || len(doc.Files) != 1 {
		t.Fatalf("document = %+v", doc)
	}
	runs := doc.Files[0].Runs
	if runs[0].Status != "pass" || runs[0].Outputs != 1 || runs[0].Filtered != 1 {
		t.Errorf("run passes = %+v", runs[0])
	}
	if runs[1].Status != "fail" || len(runs[1].Failures) != 1 {
		t.Fatalf("run fails = %+v", runs[1])
	}
	var want, got bytes.Buffer
	_ = json.Compact(&want, runs[1].Failures[0].Want)
	_ = json.Compact(&got, runs[1].Failures[0].Got)
	if want.String() != `[{"value":{"amount":11}}]` || got.String() != `[{"value":{"amount":10}}]` {
		t.Errorf("want %s, got %s", want.String(), got.String())
	}
	if runs[2].Status != "error" || runs[2].Diagnostics[0].Summary != "Unknown pipeline" {
		t.Errorf("run errors = %+v", runs[2])
	}
}
