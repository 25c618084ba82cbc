package testfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

const valid = `
variables {
  env = "test"
}

run "masks_email" {
  pipeline = source.generator.orders

  variables {
    env = "ci"
  }

  record {
    key       = "1"
    value     = { id = 1, email = "a@example.com", amount = 12.5, tags = ["x"] }
    headers   = { trace = "t1", a = "b" }
    topic     = "shop.orders"
    timestamp = "2026-01-02T03:04:05Z"
  }
  record {
    value_raw = "{bad"
    partition = 2
    offset    = 7
  }

  expect {
    records = [
      { key = "1", value = { id = 1 }, headers = {} },
      { value_raw = jsonencode({ a = 1 }), topic = "t" },
    ]
    filtered     = 1
    dead_letters = [{ stage = "converter", class = "converters.Error", message = "invalid" }]
  }

  assert {
    condition     = "value.id > 0"
    error_message = "no id"
  }
}

run "chain" {
  transforms = [transform.a, transform.b]
  record {
    value = null
  }
  expect {
    records = []
  }
}

run "instance" {
  pipeline = sink.kafka.m["eu"]
  assert {
    condition     = "true"
    error_message = "never"
  }
}
`

func TestParseValid(t *testing.T) {
	f, diags := Parse([]byte(valid), "orders.pipetest.hcl")
	if diags.HasErrors() {
		t.Fatalf("diagnostics: %v", diags)
	}
	if len(f.Runs) != 3 {
		t.Fatalf("got %d runs, want 3", len(f.Runs))
	}
	r := f.Runs[0]
	if r.Name != "masks_email" || r.Pipeline != "source.generator.orders" {
		t.Errorf("run = %q %q", r.Name, r.Pipeline)
	}
	var vars []string
	for _, v := range r.Variables {
		vars = append(vars, v.Name+"="+v.Value.AsString()+" from "+v.From)
	}
	wantVars := []string{"env=test from the variables block of orders.pipetest.hcl", `env=ci from the variables block of run "masks_email"`}
	if d := cmp.Diff(wantVars, vars); d != "" {
		t.Errorf("variables (-want +got):\n%s", d)
	}
	rec := r.Records[0]
	wantValue := map[string]any{"id": int64(1), "email": "a@example.com", "amount": 12.5, "tags": []any{"x"}}
	if d := cmp.Diff(Field{Set: true, Value: wantValue}, rec.Value); d != "" {
		t.Errorf("value (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Header{{"a", "b"}, {"trace", "t1"}}, rec.Headers); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
	if !rec.Timestamp.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || rec.Topic != "shop.orders" {
		t.Errorf("timestamp %v topic %q", rec.Timestamp, rec.Topic)
	}
	rec2 := r.Records[1]
	if !rec2.Value.IsRaw || string(rec2.Value.Raw) != "{bad" || *rec2.Partition != 2 || *rec2.Offset != 7 || rec2.Key.Set {
		t.Errorf("raw record = %+v", rec2)
	}
	e := r.Expect
	if !e.HasRecords || len(e.Records) != 2 || *e.Filtered != 1 || len(e.DeadLetters) != 1 {
		t.Fatalf("expect = %+v", e)
	}
	if string(e.Records[1].Value.Raw) != `{"a":1}` || *e.Records[1].Topic != "t" || e.Records[1].HasHeaders || !e.Records[0].HasHeaders {
		t.Errorf("want records = %+v %+v", e.Records[0], e.Records[1])
	}
	if d := e.DeadLetters[0]; d.Stage != "converter" || d.Class != "converters.Error" || d.Message != "invalid" {
		t.Errorf("dead letter = %+v", d)
	}
	if len(r.Asserts) != 1 || r.Asserts[0].Condition.Source != "value.id > 0" || r.Asserts[0].ErrorMessage != "no id" {
		t.Errorf("asserts = %+v", r.Asserts)
	}
	if d := cmp.Diff([]string{"a", "b"}, f.Runs[1].Transforms); d != "" {
		t.Errorf("transforms (-want +got):\n%s", d)
	}
	if v := f.Runs[1].Records[0].Value; !v.Set || v.Value != nil {
		t.Errorf("null value = %+v", v)
	}
	if !f.Runs[1].Expect.HasRecords || len(f.Runs[1].Expect.Records) != 0 {
		t.Errorf("empty records = %+v", f.Runs[1].Expect)
	}
	if f.Runs[2].Pipeline != `sink.kafka.m["eu"]` {
		t.Errorf("instance address = %q", f.Runs[2].Pipeline)
	}
}

// TestParseInvalid: each case's diagnostics, as file:line,column: summary.
func TestParseInvalid(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"syntax", "run \"x\" {\n  pipeline = \n}\n", []string{"t.pipetest.hcl:2,14: Invalid expression"}},
		{"no target", "run \"x\" {\n  assert {\n    condition = \"true\"\n    error_message = \"m\"\n  }\n}\n",
			[]string{"t.pipetest.hcl:1,1: Missing test target"}},
		{"both targets", "run \"x\" {\n  pipeline = source.a.b\n  transforms = [transform.t]\n}\n",
			[]string{"t.pipetest.hcl:3,3: Conflicting test targets"}},
		{"bad pipeline", "run \"x\" {\n  pipeline = topic.orders\n}\n", []string{"t.pipetest.hcl:2,14: Invalid pipeline reference"}},
		{"bad transform", "run \"x\" {\n  transforms = [predicate.p]\n}\n", []string{"t.pipetest.hcl:2,17: Invalid transform reference"}},
		{"duplicate run", "run \"x\" {\n  pipeline = source.a.b\n  expect {}\n}\nrun \"x\" {\n  pipeline = source.a.b\n}\n",
			[]string{"t.pipetest.hcl:5,5: Duplicate run block"}},
		{"unknown block", "run \"x\" {\n  pipeline = source.a.b\n  expect {}\n  recrod {}\n}\n",
			[]string{"t.pipetest.hcl:4,3: Unsupported block type"}},
		{"key and raw", "run \"x\" {\n  pipeline = source.a.b\n  expect {}\n  record {\n    key = \"a\"\n    key_raw = \"b\"\n  }\n}\n",
			[]string{"t.pipetest.hcl:6,15: Conflicting attributes"}},
		{"bad timestamp", "run \"x\" {\n  pipeline = source.a.b\n  expect {}\n  record {\n    timestamp = \"yesterday\"\n  }\n}\n",
			[]string{"t.pipetest.hcl:5,17: Invalid timestamp"}},
		{"bad header", "run \"x\" {\n  pipeline = source.a.b\n  expect {}\n  record {\n    headers = { a = 1 }\n  }\n}\n",
			[]string{"t.pipetest.hcl:5,15: Invalid headers"}},
		{"unknown want field", "run \"x\" {\n  pipeline = source.a.b\n  expect {\n    records = [{ key = \"1\", vlaue = 1 }]\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,29: Unsupported attribute"}},
		{"null filtered", "run \"x\" {\n  pipeline = source.a.b\n  expect {\n    filtered = null\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,16: Invalid filtered"}},
		{"null want topic", "run \"x\" {\n  pipeline = source.a.b\n  expect {\n    records = [{ value = 1, topic = null }]\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,37: Invalid topic"}},
		{"null want timestamp", "run \"x\" {\n  pipeline = source.a.b\n  expect {\n    records = [{ timestamp = null }]\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,30: Invalid timestamp"}},
		{"null want headers", "run \"x\" {\n  pipeline = source.a.b\n  expect {\n    records = [{ headers = null }]\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,28: Invalid headers"}},
		{"empty want record", "run \"x\" {\n  pipeline = source.a.b\n  expect {\n    records = [{}]\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,16: Empty expected record"}},
		{"partition out of range", "run \"x\" {\n  pipeline = source.a.b\n  expect {}\n  record {\n    partition = 4294967296\n  }\n}\n",
			[]string{"t.pipetest.hcl:5,17: Invalid partition"}},
		{"bad stage", "run \"x\" {\n  pipeline = source.a.b\n  expect {\n    dead_letters = [{ stage = \"transfrom\" }]\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,31: Invalid stage"}},
		{"negative filtered", "run \"x\" {\n  pipeline = source.a.b\n  expect {\n    filtered = -1\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,16: Invalid filtered"}},
		{"bad CEL", "run \"x\" {\n  pipeline = source.a.b\n  assert {\n    condition     = \"value.a ++ 1\"\n    error_message = \"m\"\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,31: Invalid CEL expression"}},
		{"CEL not bool", "run \"x\" {\n  pipeline = source.a.b\n  assert {\n    condition     = \"'a'\"\n    error_message = \"m\"\n  }\n}\n",
			[]string{"t.pipetest.hcl:4,22: Invalid CEL expression"}},
		{"missing error_message", "run \"x\" {\n  pipeline = source.a.b\n  assert {\n    condition = \"true\"\n  }\n}\n",
			[]string{"t.pipetest.hcl:3,10: Missing required argument"}},
		{"reference in value", "run \"x\" {\n  pipeline = source.a.b\n  expect {}\n  record {\n    value = var.x\n  }\n}\n",
			[]string{"t.pipetest.hcl:5,13: Variables not allowed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, diags := Parse([]byte(c.src), "t.pipetest.hcl")
			if f != nil {
				t.Errorf("Parse returned a file despite errors")
			}
			if d := cmp.Diff(c.want, errorsOf(diags)); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s\nall: %v", d, diags)
			}
		})
	}
}

func errorsOf(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags.Errs() {
		hd := d.(*hcl.Diagnostic)
		if hd.Subject == nil {
			out = append(out, "?: "+hd.Summary)
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d,%d: %s", hd.Subject.Filename, hd.Subject.Start.Line, hd.Subject.Start.Column, hd.Summary))
	}
	return out
}

func TestWarnings(t *testing.T) {
	_, diags := Parse([]byte("run \"x\" {\n  pipeline = source.a.b\n}\n"), "t.pipetest.hcl")
	if diags.HasErrors() || len(diags) != 1 || diags[0].Summary != "Run without expectations" {
		t.Errorf("diagnostics = %v", diags)
	}
	_, diags = Parse([]byte("run \"x\" {\n  pipeline = source.a.b\n  expect {}\n}\n"), "t.pipetest.hcl")
	if diags.HasErrors() || len(diags) != 1 || diags[0].Summary != "Run without expectations" {
		t.Errorf("empty expect: diagnostics = %v", diags)
	}
	_, diags = Parse([]byte("# nothing\n"), "t.pipetest.hcl")
	if diags.HasErrors() || len(diags) != 1 || diags[0].Summary != "No run blocks" {
		t.Errorf("diagnostics = %v", diags)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := "run \"r\" {\n  pipeline = source.a.b\n  expect {}\n}\n"
	write("main.hcl", "fleet { name = \"x\" }\n")
	write("b.pipetest.hcl", run)
	write("tests/a.pipetest.hcl", run)
	write("tests/notes.hcl", "not a test file")
	s, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var names []string
	for _, f := range s.Files {
		names = append(names, strings.TrimPrefix(f.Name, dir+string(filepath.Separator)))
	}
	if d := cmp.Diff([]string{"b.pipetest.hcl", filepath.Join("tests", "a.pipetest.hcl")}, names); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	if len(s.Sources) != 2 {
		t.Errorf("sources = %d", len(s.Sources))
	}
}

func TestLoadMissingDir(t *testing.T) {
	s, diags := Load(filepath.Join(t.TempDir(), "nope"))
	if !diags.HasErrors() || diags[0].Summary != "Cannot read configuration directory" || len(s.Files) != 0 {
		t.Errorf("diagnostics = %v", diags)
	}
	if strings.Count(diags[0].Detail, "nope") != 1 {
		t.Errorf("detail = %s", diags[0].Detail)
	}
}
