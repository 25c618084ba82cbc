package views

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
)

func i64(v int64) *int64 { return &v }

// testSchemas are hand-made so that the goldens do not move when a built-in
// plugin's wording does; the end-to-end scripts show the real ones.
func testSchemas() []SchemaDoc {
	src := &configschema.Schema{
		Kind:        configschema.Source,
		Type:        "demo",
		Description: "Produces demonstration records at a steady rate; every attribute kind appears once. Not for production.",
		Attributes: []configschema.Attribute{
			{Name: "topic", Type: configschema.String, Required: true, Description: "Topic the records are written to."},
			{Name: "value", Type: configschema.Expression, Required: true, ExprVars: []configschema.ExprVar{{Name: "seq", Type: "int", Description: "Sequence number of the record, from 0."}}, Description: "CEL expression for the record value."},
			{Name: "password", Type: configschema.String, Sensitive: true, Description: "Password of the demo account."},
			{Name: "seed", Type: configschema.Int, Default: int64(0), Min: i64(0), ForcesReplacement: true, Description: "Seed of the random functions; changing it restarts the sequence."},
			{Name: "mode", Type: configschema.String, Default: "fast", Enum: []string{"fast", "slow"}, Description: "How the demo runs."},
			{Name: "tags", Type: configschema.ListOfString, Default: []string{"a", "b"}, Description: "Tags."},
			{Name: "labels", Type: configschema.MapOfString, Default: map[string]string{"z": "1", "a": "2"}, Description: "Labels."},
			{Name: "match", Type: configschema.String, Regexp: true, NonEmpty: true, Description: "Names to match."},
			{Name: "every", Type: configschema.Duration, Default: "1s", MinDuration: "10ms", Description: "How often."},
			{Name: "ca_file", Type: configschema.String, Path: true, PathMustExist: true, Description: "CA file."},
		},
		ConflictsWith: [][]string{{"match", "seed"}},
		RequiredWith:  []configschema.Requirement{{Attribute: "password", Requires: []string{"match"}}},
		Blocks: []configschema.Block{{
			Name:        "auth",
			Description: "Authentication.",
			Attributes:  []configschema.Attribute{{Name: "user", Type: configschema.String, Required: true, Description: "User name."}},
		}},
	}
	conv := &configschema.Schema{
		Kind:        configschema.Converter,
		Type:        "text",
		Description: "UTF-8 text ⇄ string.",
		Attributes:  []configschema.Attribute{},
	}
	return []SchemaDoc{
		{Schema: src, CommonAttributes: lang.CommonAttributes(configschema.Source), CommonBlocks: lang.CommonBlocks(configschema.Source),
			CommonExactlyOneOf: [][]string{{"x", "y"}}},
		{Schema: conv},
	}
}

func TestSchemaHuman(t *testing.T) {
	v, stdout, _ := testView()
	NewSchema(false, v).List(testSchemas())
	golden(t, "schema_list.txt", stdout.String())

	v, stdout, _ = testView()
	NewSchema(false, v).Show(testSchemas()[0])
	golden(t, "schema_show.txt", stdout.String())
	for _, l := range strings.Split(stdout.String(), "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("line longer than 80 columns: %q", l)
		}
	}
}

func TestSchemaJSON(t *testing.T) {
	v, stdout, _ := testView()
	NewSchema(true, v).Show(testSchemas()[0])
	golden(t, "schema_show.json", stdout.String())

	var doc struct {
		FormatVersion    string                   `json:"format_version"`
		Kind             string                   `json:"kind"`
		Type             string                   `json:"type"`
		Attributes       []configschema.Attribute `json:"attributes"`
		CommonAttributes []map[string]any         `json:"common_attributes"`
		CommonBlocks     []map[string]any         `json:"common_blocks"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != "1.0" || doc.Kind != "source" || doc.Type != "demo" || len(doc.Attributes) != 10 {
		t.Errorf("unexpected document head: %+v", doc)
	}
	if len(doc.CommonAttributes) == 0 || len(doc.CommonBlocks) == 0 {
		t.Error("a source's JSON schema lacks common_attributes or common_blocks")
	}

	v, stdout, _ = testView()
	NewSchema(true, v).List(testSchemas())
	var list struct {
		Schemas []map[string]any `json:"schemas"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Schemas) != 2 {
		t.Fatalf("listed %d schemas; want 2", len(list.Schemas))
	}
	if _, ok := list.Schemas[1]["common_attributes"]; ok {
		t.Error("a converter has common_attributes")
	}
}

func TestGraph(t *testing.T) {
	g := lang.Graph{
		Nodes: []lang.GraphNode{
			{Address: "sink.file.out", Kind: "sink"},
			{Address: `source.kafka.mirror["eu"]`, Kind: "source"},
			{Address: "topic.orders", Kind: "topic"},
			{Address: "transform.mask", Kind: "transform"},
			{Address: "var.env", Kind: "variable"},
			{Address: "fleet", Kind: "fleet"},
			{Address: "odd", Kind: "unknown-kind"},
		},
		Edges: []lang.GraphEdge{
			{From: "sink.file.out", To: "topic.orders"},
			{From: `source.kafka.mirror["eu"]`, To: "transform.mask"},
			{From: `source.kafka.mirror["eu"]`, To: "topic.orders"},
			{From: "topic.orders", To: "var.env"},
			{From: "sink.file.out", To: "topic.orders"},
		},
	}
	v, stdout, _ := testView()
	v.Graph(g)
	golden(t, "graph.dot", stdout.String())

	// The same graph in another order prints the same.
	rev := lang.Graph{Nodes: append([]lang.GraphNode(nil), g.Nodes...), Edges: append([]lang.GraphEdge(nil), g.Edges...)}
	for i, j := 0, len(rev.Nodes)-1; i < j; i, j = i+1, j-1 {
		rev.Nodes[i], rev.Nodes[j] = rev.Nodes[j], rev.Nodes[i]
	}
	for i, j := 0, len(rev.Edges)-1; i < j; i, j = i+1, j-1 {
		rev.Edges[i], rev.Edges[j] = rev.Edges[j], rev.Edges[i]
	}
	v2, stdout2, _ := testView()
	v2.Graph(rev)
	if diff := cmp.Diff(stdout.String(), stdout2.String()); diff != "" {
		t.Errorf("output depends on input order:\n%s", diff)
	}
}

func TestVersion(t *testing.T) {
	info := VersionInfo{
		Version:   "v0.1.0-dev",
		GoVersion: "go1.26.8",
		Platform:  "linux_amd64",
		Modules:   []ModuleVersion{{"github.com/hashicorp/hcl/v2", "v2.25.0"}},
	}
	v, stdout, _ := testView()
	NewVersion(false, v).Show(info)
	want := "pipectl v0.1.0-dev\non linux_amd64, built with go1.26.8\n+ github.com/hashicorp/hcl/v2 v2.25.0\n"
	if diff := cmp.Diff(want, stdout.String()); diff != "" {
		t.Errorf("human (-want +got):\n%s", diff)
	}
	v, stdout, _ = testView()
	NewVersion(true, v).Show(info)
	golden(t, "version.json", stdout.String())
}

func TestFmtView(t *testing.T) {
	v, stdout, _ := testView()
	f := NewFmt(v, true)
	f.Changed("a.hcl")
	f.Diff("--- old/a.hcl\n+++ new/a.hcl\n")
	NewFmt(v, false).Changed("hidden.hcl")
	if got, want := stdout.String(), "a.hcl\n--- old/a.hcl\n+++ new/a.hcl\n"; got != want {
		t.Errorf("stdout = %q; want %q", got, want)
	}
}

func TestCrash(t *testing.T) {
	v, stdout, stderr := testView()
	v.Crash("boom", "/tmp/pipectl-crash-1.log", nil)
	if stdout.Len() != 0 {
		t.Errorf("crash notice on stdout: %q", stdout)
	}
	want := "pipectl: internal error: boom\npipectl: a crash report with the stack trace was written to /tmp/pipectl-crash-1.log; please attach it to a bug report.\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
