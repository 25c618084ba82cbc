package lang_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/recordschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib"
)

var update = os.Getenv("PIPECTL_UPDATE") == "1"

func registry(t testing.TB) *connector.Registry {
	t.Helper()
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	for _, p := range []connector.Plugin{rulesPlugin, needyConverter} {
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// rulesPlugin is a source only lang's tests register: its schema has the
// rules no built-in needs (an at_least_one_of group, globs whose directory
// must exist), so that testdata/invalid covers every kind of rule.
var rulesPlugin = connector.Plugin{
	Schema: configschema.Schema{Kind: configschema.Source, Type: "rules", Attributes: []configschema.Attribute{
		{Name: "topic", Type: configschema.String},
		{Name: "topic_prefix", Type: configschema.String},
		{Name: "files", Type: configschema.ListOfString, Path: true, Glob: true, PathMustExist: true},
	}, AtLeastOneOf: [][]string{{"topic", "topic_prefix"}}},
	NewSource: func() connector.Source { return nil },
}

// needyConverter is a converter that cannot go without settings.
var needyConverter = connector.Plugin{
	Schema: configschema.Schema{Kind: configschema.Converter, Type: "needy", Attributes: []configschema.Attribute{
		{Name: "schema", Type: configschema.String, Required: true},
	}},
	NewConverter: func(map[string]any) (connector.Converter, error) { return nil, nil },
}

// loadArchive writes a txtar archive's files (all but want*) into a fresh
// directory and loads it. Files named env/NAME set environment values and
// vars/N hold -var arguments, one per line.
func loadArchive(t *testing.T, path string) (*txtar.Archive, *lang.Config, hcl.Diagnostics) {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := map[string]string{}
	var vars []lang.VarArg
	for _, f := range ar.Files {
		switch {
		case strings.HasPrefix(f.Name, "want"):
			continue
		case strings.HasPrefix(f.Name, "env/"):
			env[strings.TrimPrefix(f.Name, "env/")] = strings.TrimSuffix(string(f.Data), "\n")
			continue
		case f.Name == "vars":
			for _, line := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
				if strings.HasPrefix(line, "-var-file ") {
					vars = append(vars, lang.VarArg{File: filepath.Join(dir, strings.TrimPrefix(line, "-var-file "))})
				} else {
					vars = append(vars, lang.VarArg{Raw: strings.TrimPrefix(line, "-var ")})
				}
			}
			continue
		}
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := lang.Load(dir, lang.Options{
		Plugins:   registry(t),
		Vars:      vars,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if cfg == nil {
		t.Fatal("Load returned a nil Config")
	}
	for _, d := range diags {
		if d.Subject != nil {
			d.Subject.Filename = strings.TrimPrefix(d.Subject.Filename, dir+string(filepath.Separator))
		}
	}
	return ar, cfg, diags
}

func wantFile(ar *txtar.Archive, name string) (string, bool) {
	for _, f := range ar.Files {
		if f.Name == name {
			return string(f.Data), true
		}
	}
	return "", false
}

// TestInvalid loads every testdata/invalid case and compares its
// diagnostics with the case's want section: one line per diagnostic,
// FILE:LINE:COL: SEVERITY: SUMMARY, optionally followed by " | TEXT" where
// TEXT must occur in the detail.
func TestInvalid(t *testing.T) {
	cases, _ := filepath.Glob("testdata/invalid/*.txtar")
	if len(cases) < 40 {
		t.Fatalf("only %d invalid cases; the suite needs at least 40", len(cases))
	}
	for _, path := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, _, diags := loadArchive(t, path)
			want, ok := wantFile(ar, "want")
			if !ok {
				t.Fatal("case has no want section")
			}
			var wantLines, details []string
			for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
				head, detail, _ := strings.Cut(line, " | ")
				wantLines = append(wantLines, strings.TrimSpace(head))
				details = append(details, detail)
			}
			got := make([]string, len(diags))
			for i, d := range diags {
				got[i] = diagLine(d)
			}
			if diff := cmp.Diff(sorted(wantLines), sorted(got)); diff != "" {
				t.Fatalf("diagnostics differ (-want +got):\n%s\nall:\n%s", diff, dump(diags))
			}
			for i, detail := range details {
				if detail == "" {
					continue
				}
				found := false
				for _, d := range diags {
					if diagLine(d) == wantLines[i] && strings.Contains(d.Detail, detail) {
						found = true
					}
				}
				if !found {
					t.Errorf("no diagnostic %q has %q in its detail:\n%s", wantLines[i], detail, dump(diags))
				}
			}
			if !diags.HasErrors() && !strings.Contains(want, "warning:") {
				t.Error("an invalid case must produce an error or a warning")
			}
		})
	}
}

func diagLine(d *hcl.Diagnostic) string {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	where := "-"
	if d.Subject != nil {
		where = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	return fmt.Sprintf("%s: %s: %s", where, sev, d.Summary)
}

func dump(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "  %s | %s\n", diagLine(d), d.Detail)
	}
	return b.String()
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

// TestValid loads every testdata/valid case, requires no diagnostics and
// compares a summary of the resolved configuration with want.json
// (refreshed with PIPECTL_UPDATE=1).
func TestValid(t *testing.T) {
	cases, _ := filepath.Glob("testdata/valid/*.txtar")
	if len(cases) == 0 {
		t.Fatal("no valid cases")
	}
	for _, path := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, cfg, diags := loadArchive(t, path)
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", dump(diags))
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(summarize(cfg)); err != nil {
				t.Fatal(err)
			}
			got := bytes.ReplaceAll(buf.Bytes(), []byte(cfg.Dir), []byte("$DIR"))
			if update {
				for i, f := range ar.Files {
					if f.Name == "want.json" {
						ar.Files = append(ar.Files[:i], ar.Files[i+1:]...)
						break
					}
				}
				ar.Files = append(ar.Files, txtar.File{Name: "want.json", Data: got})
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := wantFile(ar, "want.json")
			if !ok {
				t.Fatal("case has no want.json section; run with PIPECTL_UPDATE=1")
			}
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("resolved configuration differs (-want +got):\n%s", diff)
			}
		})
	}
}

// summary is the part of a Config the valid cases pin down.
type summary struct {
	Fleet      *fleetSummary       `json:"fleet"`
	Variables  map[string]string   `json:"variables,omitempty"`
	Topics     []topicSummary      `json:"topics,omitempty"`
	Pipelines  []pipelineSummary   `json:"pipelines,omitempty"`
	Transforms map[string][]string `json:"transforms,omitempty"`
	Predicates map[string]string   `json:"predicates,omitempty"`
	Converters map[string]any      `json:"converters,omitempty"`
	Graph      []string            `json:"graph,omitempty"`
}

type fleetSummary struct {
	Name    string
	Brokers []string
	SASL    *lang.SASL `json:",omitempty"`
	TLS     *lang.TLS  `json:",omitempty"`
}

type topicSummary struct {
	Address, Name     string
	Partitions        int32
	ReplicationFactor int16
	Config            map[string]string
	// KeySchema and ValueSchema describe the declared record schemas.
	KeySchema   string `json:",omitempty"`
	ValueSchema string `json:",omitempty"`
}

func describeSchema(s *recordschema.Schema) string {
	if s == nil {
		return ""
	}
	return s.String()
}

type errorsSummary struct {
	Tolerance, DeadLetterTopic, RetryTimeout, RetryBackoffMax string
}

type pipelineSummary struct {
	Address        string
	Tasks          int
	Paused         bool
	Stopped        bool `json:",omitempty"`
	Config         map[string]any
	Transforms     []string `json:",omitempty"`
	KeyConverter   string
	ValueConverter string
	Errors         errorsSummary
	Topics         []string `json:",omitempty"`
	TopicsRegex    string   `json:",omitempty"`
	StartFrom      string   `json:",omitempty"`
}

func converterName(c *lang.Converter) string {
	if c.Name != "" {
		return "converter." + c.Name
	}
	return c.Type
}

func summarize(cfg *lang.Config) summary {
	s := summary{Variables: map[string]string{}, Transforms: map[string][]string{},
		Predicates: map[string]string{}, Converters: map[string]any{}}
	if f := cfg.Fleet; f != nil {
		s.Fleet = &fleetSummary{f.Name, f.Brokers, f.SASL, f.TLS}
	}
	for _, v := range cfg.Variables {
		if v.Sensitive {
			s.Variables[v.Name] = lang.Redacted
			continue
		}
		b, err := ctyjson.Marshal(v.Value, v.Value.Type())
		if err != nil {
			b = []byte(err.Error())
		}
		s.Variables[v.Name] = string(b)
	}
	for _, t := range cfg.Topics {
		s.Topics = append(s.Topics, topicSummary{t.Address, t.Name, t.Partitions, t.ReplicationFactor, t.Config, describeSchema(t.KeySchema), describeSchema(t.ValueSchema)})
	}
	for _, p := range cfg.Pipelines {
		ps := pipelineSummary{Address: p.Address, Tasks: p.Tasks, Paused: p.State == lang.StatePaused, Stopped: p.State == lang.StateStopped, Config: p.Config,
			KeyConverter: converterName(p.KeyConverter), ValueConverter: converterName(p.ValueConverter),
			Errors: errorsSummary{p.Errors.Tolerance, p.Errors.DeadLetterTopic, p.Errors.RetryTimeout.String(), p.Errors.RetryBackoffMax.String()},
			Topics: p.Topics, TopicsRegex: p.TopicsRegex, StartFrom: p.StartFrom}
		for _, t := range p.Transforms {
			ps.Transforms = append(ps.Transforms, t.Name)
		}
		s.Pipelines = append(s.Pipelines, ps)
	}
	for _, t := range cfg.Transforms {
		var ops []string
		cond := func(name string, c *lang.Condition) {
			if c == nil {
				return
			}
			if c.Predicate != "" {
				ops = append(ops, name+" predicate."+c.Predicate)
			} else {
				ops = append(ops, name+" "+c.Expr.Source)
			}
		}
		cond("when", t.When)
		cond("unless", t.Unless)
		if t.Filter != nil {
			ops = append(ops, "filter "+t.Filter.Source)
		}
		for _, op := range t.Set {
			ops = append(ops, "set "+op.Path.String()+" = "+op.Expr.Source)
		}
		for _, op := range t.Rename {
			ops = append(ops, "rename "+op.From.String()+" -> "+op.To.String())
		}
		for _, p := range t.Drop {
			ops = append(ops, "drop "+p.String())
		}
		if t.Key != nil {
			ops = append(ops, "key "+t.Key.Source)
		}
		if t.Topic != nil {
			ops = append(ops, "topic "+t.Topic.Source)
		}
		for _, h := range t.Headers {
			ops = append(ops, "header "+h.Name+" = "+h.Expr.Source)
		}
		s.Transforms[t.Name] = ops
	}
	for _, p := range cfg.Predicates {
		s.Predicates[p.Name] = p.Expr.Source
	}
	for _, c := range cfg.Converters {
		s.Converters[c.Name] = map[string]any{"type": c.Type, "config": c.Config}
	}
	for _, e := range cfg.Graph.Edges {
		s.Graph = append(s.Graph, e.From+" -> "+e.To)
	}
	return s
}
