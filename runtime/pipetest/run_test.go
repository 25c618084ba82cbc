package pipetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/lang/testfile"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib"
)

const config = `
fleet {
  name = "shop"
}
variable "env" {
  type    = string
  default = "dev"
}

topic "orders" {
  name = "shop.${var.env}.orders"
}

predicate "external" {
  expr = "!value.email.endsWith('@corp.example')"
}

transform "drop_small" {
  filter = "value.amount >= 10"
}

transform "mask_pii" {
  when    = predicate.external
  set     = { "value.email" = "sha256(value.email)" }
  drop    = ["value.card"]
  headers = { env = "'${var.env}'" }
}

transform "nested" {
  set = { "value.email.domain" = "'x'" }
}

source "generator" "orders" {
  topic      = topic.orders.name
  value      = "{'id': seq, 'email': 'u@example.com', 'amount': seq % 100, 'card': '4111'}"
  transforms = [transform.drop_small, transform.mask_pii]
}

sink "file" "out" {
  topics     = [topic.orders.name]
  path       = "out.jsonl"
  transforms = [transform.drop_small]
  errors {
    tolerance         = "all"
    dead_letter_topic = "dlq"
  }
}

sink "file" "strict" {
  topics = [topic.orders.name]
  path   = "strict.jsonl"
  transforms = [transform.nested]
}
`

func registry(t *testing.T) *connector.Registry {
	t.Helper()
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

// runTests writes the configuration and one test file and runs them.
func runTests(t *testing.T, test string, filter ...string) *Result {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tests", "t.pipetest.hcl"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	suite, diags := testfile.Load(dir)
	if diags.HasErrors() {
		t.Fatalf("test file: %v", diags)
	}
	return Run(Args{Dir: dir, Suite: suite, Plugins: registry(t), Filter: filter,
		LookupEnv: func(string) (string, bool) { return "", false }})
}

func summaries(r *RunResult) []string {
	var out []string
	for _, f := range r.Failures {
		out = append(out, f.Diag.Summary)
	}
	for _, d := range r.Diags {
		out = append(out, d.Summary)
	}
	return out
}

func TestPass(t *testing.T) {
	res := runTests(t, `
run "masks" {
  pipeline = source.generator.orders
  variables {
    env = "ci"
  }
  record {
    key   = "1"
    value = { id = 1, email = "a@example.com", amount = 50, card = "4111" }
  }
  record {
    value = { id = 2, email = "b@corp.example", amount = 50, card = "4111" }
  }
  record {
    value = { id = 3, email = "c@example.com", amount = 5 }
  }
  expect {
    records = [
      { topic = "shop.ci.orders", key = "1", value = { id = 1, amount = 50, email = "08168cd80dfd534ab0f10af10f1303fe00af2d43ab5c1432360d137f8197e17a" }, headers = { env = "ci" } },
      { value = { id = 2, amount = 50, email = "b@corp.example", card = "4111" }, headers = {} },
    ]
    filtered = 1
  }
  assert {
    condition     = "!has(value.card) || value.email.endsWith('@corp.example')"
    error_message = "the card of an external customer got through"
  }
}

run "sink_dead_letters" {
  pipeline = sink.file.out
  record {
    value = { amount = 20 }
  }
  record {
    value_raw = "{not json"
  }
  record {
    value_raw = "{\"amount\": 1}"
  }
  expect {
    records      = [{ value = { amount = 20 }, topic = "shop.dev.orders" }]
    filtered     = 1
    dead_letters = [{ stage = "converter", class = "converters.Error", message = "value" }]
  }
}

run "chain" {
  transforms = [transform.mask_pii]
  record {
    value = { email = "x@corp.example", card = "1" }
  }
  expect {
    records = [{ value = { email = "x@corp.example", card = "1" }, headers = {} }]
  }
}
`)
	if res.Passed != 3 || res.Failed != 0 {
		for _, f := range res.Files {
			for _, r := range f.Runs {
				for _, fl := range r.Failures {
					t.Logf("%s: %s: %s\nwant %s\ngot %s", r.Name, fl.Diag.Summary, fl.Diag.Detail, fl.Want, fl.Got)
				}
				t.Logf("%s: %v", r.Name, r.Diags)
			}
		}
		t.Fatalf("passed %d failed %d; want 3 0", res.Passed, res.Failed)
	}
	r := res.Files[0].Runs[1]
	if r.Outputs != 1 || r.Filtered != 1 || r.DeadLettered != 1 {
		t.Errorf("counts = %d %d %d", r.Outputs, r.Filtered, r.DeadLettered)
	}
}

func TestFail(t *testing.T) {
	res := runTests(t, `
run "wrong_value" {
  pipeline = source.generator.orders
  record {
    value = { email = "a@corp.example", amount = 50, card = "4111" }
  }
  expect {
    records  = [{ value = { email = "a@corp.example", amount = 51 } }]
    filtered = 2
  }
  assert {
    condition     = "!has(value.card)"
    error_message = "card kept"
  }
}

run "unexpected_failure" {
  pipeline = sink.file.out
  record {
    value_raw = "{"
  }
  expect {}
}

run "wrong_dead_letter" {
  pipeline = sink.file.out
  record {
    value_raw = "{"
  }
  expect {
    dead_letters = [{ stage = "transform" }]
  }
}

run "task_fails" {
  pipeline = sink.file.strict
  record {
    value = { email = "a" }
  }
  record {
    value = { email = { domain = "b" } }
  }
  expect {
    dead_letters = [{ stage = "transform", class = "engine.PathError" }]
  }
}

run "unknown_pipeline" {
  pipeline = sink.file.ot
  expect {}
}

run "unknown_variable" {
  pipeline = sink.file.out
  variables {
    nope = 1
  }
  expect {}
}
`)
	if res.Passed != 0 || res.Failed != 6 {
		t.Fatalf("passed %d failed %d; want 0 6", res.Passed, res.Failed)
	}
	got := map[string][]string{}
	for _, r := range res.Files[0].Runs {
		got[r.Name+" "+r.Status.String()] = summaries(r)
	}
	want := map[string][]string{
		"wrong_value fail":        {"Wrong number of filtered records", "Wrong output records", "Test assertion failed"},
		"unexpected_failure fail": {"Record failed"},
		"wrong_dead_letter fail":  {"Wrong dead-lettered records"},
		"task_fails fail":         {"Task failed"},
		"unknown_pipeline error":  {"Unknown pipeline"},
		"unknown_variable error":  {"Value for undeclared variable"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("failures (-want +got):\n%s", d)
	}
	f := res.Files[0].Runs[0].Failures[1]
	wantDiff := `[
  {
    "value": {
      "amount": 51,
      "email": "a@corp.example"
    }
  }
]
`
	if f.Want != wantDiff || !strings.Contains(f.Got, `"amount": 50`) || !strings.Contains(f.Got, `"card": "4111"`) {
		t.Errorf("want:\n%s\ngot:\n%s", f.Want, f.Got)
	}
	if d := res.Files[0].Runs[0].Failures[2].Diag; !strings.Contains(d.Detail, "card kept") || d.Subject.Start.Line != 12 {
		t.Errorf("assertion failure = %s at %v", d.Detail, d.Subject)
	}
	if d := res.Files[0].Runs[4].Diags[0]; !strings.Contains(d.Detail, `Did you mean "sink.file.out"?`) {
		t.Errorf("unknown pipeline detail = %s", d.Detail)
	}
}

func TestFilter(t *testing.T) {
	test := `
run "a" {
  transforms = [transform.drop_small]
  record {
    value = { amount = 1 }
  }
  expect {
    filtered = 1
  }
}

run "b" {
  transforms = [transform.drop_small]
  record {
    value = { amount = 1 }
  }
  expect {
    filtered = 0
  }
}
`
	for _, c := range []struct {
		filter         []string
		passed, failed int
		unmatched      []string // the filter values a diagnostic names
	}{
		{nil, 1, 1, nil},
		{[]string{"a"}, 1, 0, nil},
		{[]string{"tests/t.pipetest.hcl"}, 1, 1, nil},
		{[]string{"t.pipetest.hcl"}, 1, 1, nil},
		{[]string{"other.pipetest.hcl"}, 0, 0, []string{"other.pipetest.hcl"}},
		{[]string{"a", "c"}, 1, 0, []string{"c"}},
	} {
		res := runTests(t, test, c.filter...)
		if res.Passed != c.passed || res.Failed != c.failed {
			t.Errorf("filter %v: passed %d failed %d; want %d %d", c.filter, res.Passed, res.Failed, c.passed, c.failed)
		}
		var unmatched []string
		for _, d := range res.Diags {
			if d.Severity != hcl.DiagError || d.Summary != "No test matches the filter" {
				t.Errorf("filter %v: diagnostic %v", c.filter, d)
			}
			for _, f := range c.filter {
				if strings.Contains(d.Detail, fmt.Sprintf("%q", f)) {
					unmatched = append(unmatched, f)
				}
			}
		}
		if d := cmp.Diff(c.unmatched, unmatched); d != "" {
			t.Errorf("filter %v: unmatched (-want +got):\n%s", c.filter, d)
		}
	}
}

// TestNullIsNotEmpty: a null key is not an empty one.
func TestNullIsNotEmpty(t *testing.T) {
	res := runTests(t, `
run "null_key" {
  pipeline = sink.file.out
  record {
    key_raw   = ""
    value_raw = "{\"amount\": 10}"
  }
  expect {
    records = [{ key_raw = null }]
  }
}

run "empty_key" {
  pipeline = sink.file.out
  record {
    value_raw = "{\"amount\": 10}"
  }
  expect {
    records = [{ key_raw = "" }]
  }
}
`)
	if res.Passed != 0 || res.Failed != 2 {
		t.Errorf("passed %d failed %d; want 0 2", res.Passed, res.Failed)
	}
}

// TestAssertOverNoRecords: an assertion that no record reached fails,
// unless the run expects no output (records = []).
func TestAssertOverNoRecords(t *testing.T) {
	res := runTests(t, `
run "all_filtered" {
  transforms = [transform.drop_small]
  record {
    value = { amount = 1 }
  }
  assert {
    condition     = "value.amount > 100"
    error_message = "small amounts pass"
  }
}

run "none_expected" {
  transforms = [transform.drop_small]
  record {
    value = { amount = 1 }
  }
  expect {
    records = []
  }
  assert {
    condition     = "value.amount > 100"
    error_message = "small amounts pass"
  }
}
`)
	if res.Passed != 1 || res.Failed != 1 {
		t.Fatalf("passed %d failed %d; want 1 1", res.Passed, res.Failed)
	}
	runs := res.Files[0].Runs
	if runs[0].Status != Fail || len(runs[0].Failures) != 1 {
		t.Fatalf("all_filtered: %v %v", runs[0].Status, runs[0].Failures)
	}
	d := runs[0].Failures[0].Diag
	if d.Summary != "Assertion checked no records" || d.Subject == nil || d.Subject.Start.Line != 8 ||
		!strings.Contains(d.Detail, "1 filtered") || !strings.Contains(d.Detail, "records = []") {
		t.Errorf("all_filtered: %s: %s at %v", d.Summary, d.Detail, d.Subject)
	}
	if runs[1].Status != Pass {
		t.Errorf("none_expected: %v %v", runs[1].Status, runs[1].Failures)
	}
}
