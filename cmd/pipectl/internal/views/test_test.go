package views

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/pipectl/pipectl/runtime/pipetest"
)

const goldenTestFile = `run "masks" {
  pipeline = source.generator.orders
  expect {
    records = [{ value = { id = 1 } }]
  }
}
`

// testResult is a suite with a passing, a failing and an erroring run, and
// a test file with an error.
func testResult(t *testing.T) (*pipetest.Result, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(goldenTestFile), "cfg/tests/a.pipetest.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rng := func(line, col, endCol, byteOff int) *hcl.Range {
		return &hcl.Range{Filename: "cfg/tests/a.pipetest.hcl",
			Start: hcl.Pos{Line: line, Column: col, Byte: byteOff}, End: hcl.Pos{Line: line, Column: endCol, Byte: byteOff + endCol - col}}
	}
	res := &pipetest.Result{
		Passed: 1, Failed: 2,
		Sources: map[string]*hcl.File{"cfg/tests/a.pipetest.hcl": f},
		Files: []*pipetest.FileResult{{Name: "cfg/tests/a.pipetest.hcl", Runs: []*pipetest.RunResult{
			{Name: "passes", Status: pipetest.Pass, Outputs: 2, Filtered: 1},
			{Name: "masks", Status: pipetest.Fail, Outputs: 1, Failures: []*pipetest.Failure{
				{
					Diag: &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Wrong output records",
						Detail: "The output records differ from the expected ones.", Subject: rng(4, 16, 39, 73)},
					Want: "[\n  {\n    \"value\": {\n      \"id\": 1\n    }\n  }\n]\n",
					Got:  "[\n  {\n    \"value\": {\n      \"id\": 2\n    }\n  }\n]\n",
				},
				{
					Diag: &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Test assertion failed",
						Detail: "No id.", Subject: rng(2, 14, 37, 27)},
					Got: "{\n  \"value\": {\n    \"id\": 2\n  }\n}\n",
				},
			}},
			{Name: "broken", Status: pipetest.Error, Diags: hcl.Diagnostics{
				{Severity: hcl.DiagError, Summary: "Unknown pipeline", Detail: "The configuration has no pipeline sink.file.ot.", Subject: rng(2, 14, 37, 27)},
			}},
		}}},
	}
	fileDiags := hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "No run blocks", Detail: "The test file cfg/empty.pipetest.hcl has no run blocks."}}
	return res, fileDiags
}

func TestTestViewGolden(t *testing.T) {
	res, diags := testResult(t)

	v, stdout, stderr := testView()
	NewTest(false, v).Results("cfg", res, diags)
	golden(t, "test_result.txt", stdout.String()+"--- stderr ---\n"+stderr.String())

	v, stdout, stderr = testView()
	NewTest(true, v).Results("cfg", res, diags)
	if stderr.Len() > 0 {
		t.Errorf("-json wrote to stderr: %s", stderr)
	}
	golden(t, "test_result.json", stdout.String())

	golden(t, "test_result.xml", string(JUnitXML("cfg", res, diags)))
}

func TestTestViewSuccess(t *testing.T) {
	res := &pipetest.Result{Passed: 1, Files: []*pipetest.FileResult{{Name: "d/x.pipetest.hcl",
		Runs: []*pipetest.RunResult{{Name: "a", Status: pipetest.Pass}}}}}
	v, stdout, stderr := testView()
	NewTest(false, v).Results("d", res, nil)
	want := "x.pipetest.hcl... in progress\n  run \"a\"... pass\nx.pipetest.hcl... pass\n\nSuccess! 1 passed, 0 failed.\n"
	if stdout.String() != want || stderr.Len() > 0 {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

// TestJUnitXMLControlCharacters: a record's bytes in a diff keep the
// report well-formed XML.
func TestJUnitXMLControlCharacters(t *testing.T) {
	res := &pipetest.Result{Failed: 1, Files: []*pipetest.FileResult{{Name: "d/x.pipetest.hcl",
		Runs: []*pipetest.RunResult{{Name: "a", Status: pipetest.Fail, Failures: []*pipetest.Failure{{
			Diag: &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Wrong output records", Detail: "Bad \x1b[31mbytes\x00."},
			Want: "\"a\"\n", Got: "\"\x01\x02\"\n",
		}}}}}}}
	b := JUnitXML("d", res, nil)
	var doc struct {
		Suites []struct {
			Cases []struct {
				Failure struct {
					Body string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the report is not XML: %v\n%s", err, b)
	}
	if body := doc.Suites[0].Cases[0].Failure.Body; !strings.Contains(body, "Bad \uFFFD[31mbytes\uFFFD.") {
		t.Errorf("failure body = %q", body)
	}
}
