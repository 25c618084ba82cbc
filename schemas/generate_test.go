package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib"
)

// repoRoot is the repository root seen from this package's directory, where
// `go test` runs.
const repoRoot = ".."

// TestGeneratedFilesUpToDate fails when a committed generated file differs
// from what Generate produces now, is missing, or belongs to a plugin that no
// longer exists. With PIPECTL_UPDATE=1 it rewrites them instead.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := filepath.Glob(filepath.Join(repoRoot, PluginsDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, p := range onDisk {
		rel := filepath.ToSlash(strings.TrimPrefix(p, repoRoot+string(filepath.Separator)))
		if _, ok := files[rel]; !ok {
			orphans = append(orphans, rel)
		}
	}

	if os.Getenv("PIPECTL_UPDATE") == "1" {
		for _, rel := range slices.Sorted(maps.Keys(files)) {
			path := filepath.Join(repoRoot, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			old, err := os.ReadFile(path)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, withHandWritten(old, files[rel]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, rel := range orphans {
			if err := os.Remove(filepath.Join(repoRoot, filepath.FromSlash(rel))); err != nil {
				t.Fatal(err)
			}
			t.Logf("removed %s", rel)
		}
		t.Logf("wrote %d generated files", len(files))
		return
	}

	var stale []string
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		got, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			stale = append(stale, rel+" (missing)")
		case err != nil:
			t.Fatal(err)
		case !bytes.Equal(got, withHandWritten(got, files[rel])):
			stale = append(stale, rel+" (out of date)")
		}
	}
	for _, rel := range orphans {
		stale = append(stale, rel+" (no longer generated)")
	}
	if len(stale) > 0 {
		t.Errorf("generated files are stale; run `make generate` and commit the result:\n\t%s", strings.Join(stale, "\n\t"))
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs of Generate differ (-first +second):\n%s", diff)
	}
	for path, data := range a {
		if !bytes.HasSuffix(data, []byte("\n")) || bytes.HasSuffix(data, []byte("\n\n")) {
			t.Errorf("%s does not end in exactly one newline", path)
		}
	}
}

// TestPluginSchemasAreValid checks every generated plugin schema: one file
// per registered plugin, valid JSON, the draft and $id it claims, every
// required name declared, common attributes exactly on sources and sinks.
func TestPluginSchemasAreValid(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range reg.Schemas() {
		want = append(want, PluginSchemaPath(s))
	}
	var got []string
	for path := range files {
		if strings.HasPrefix(path, PluginsDir+"/") {
			got = append(got, path)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("plugin schema files (-registered +generated):\n%s", diff)
	}

	for _, s := range reg.Schemas() {
		path := PluginSchemaPath(s)
		var doc map[string]any
		if err := json.Unmarshal(files[path], &doc); err != nil {
			t.Errorf("%s: not JSON: %v", path, err)
			continue
		}
		if doc["$schema"] != draft || doc["$id"] != BaseURL+path || doc["type"] != "object" || doc["additionalProperties"] != false {
			t.Errorf("%s: wrong $schema, $id, type or additionalProperties: %v %v %v %v",
				path, doc["$schema"], doc["$id"], doc["type"], doc["additionalProperties"])
		}
		checkObject(t, path, doc)
		props, _ := doc["properties"].(map[string]any)
		for _, a := range s.Attributes {
			if _, ok := props[a.Name]; !ok {
				t.Errorf("%s: plugin attribute %q missing", path, a.Name)
			}
		}
		if !hasCommon(s.Kind) {
			if _, ok := props["tasks"]; ok {
				t.Errorf("%s: a %s has the common attribute \"tasks\"", path, s.Kind)
			}
			continue
		}
		for _, a := range lang.CommonAttributes(s.Kind) {
			if _, ok := props[a.Name]; !ok {
				t.Errorf("%s: common attribute %q missing", path, a.Name)
			}
		}
		for _, b := range lang.CommonBlocks(s.Kind) {
			if _, ok := props[b.Name]; !ok {
				t.Errorf("%s: common block %q missing", path, b.Name)
			}
		}
	}
}

// checkObject checks an object schema and its nested block schemas: every
// property has a type and a description, every required name is a property.
func checkObject(t *testing.T, where string, obj map[string]any) {
	t.Helper()
	props, ok := obj["properties"].(map[string]any)
	if !ok {
		t.Errorf("%s: no properties object", where)
		return
	}
	required, ok := obj["required"].([]any)
	if !ok {
		t.Errorf("%s: no required array", where)
	}
	for _, r := range required {
		name, _ := r.(string)
		if _, ok := props[name]; !ok {
			t.Errorf("%s: required %q is not a property", where, r)
		}
	}
	for name, p := range props {
		p, ok := p.(map[string]any)
		if !ok || p["type"] == nil || p["description"] == "" || p["description"] == nil {
			t.Errorf("%s.%s: property without type or description: %v", where, name, p)
			continue
		}
		if p["type"] == "object" && p["x-pipectl-block"] == true {
			checkObject(t, where+"."+name, p)
		}
	}
}

func TestDurationPattern(t *testing.T) {
	re := regexp.MustCompile(DurationPattern)
	for _, s := range []string{
		"0", "-0", "+0", "30s", "5m", "1h30m", "1.5h", ".5s", "1.s", "500ms", "10us", "10µs", "10μs", "1ns",
		"1h2m3s4ms", "-1s", "", "s", "1", "1d", "1 s", "1S", "1h 2m", "..5s", "1.2.3s", "0s", "00", "1w",
	} {
		_, err := time.ParseDuration(s)
		if want := err == nil && !strings.HasPrefix(s, "-"); re.MatchString(s) != want {
			t.Errorf("pattern matches %q = %v, want %v (time.ParseDuration accepts it, without a minus sign)", s, !want, want)
		}
	}
}

func i64(v int64) *int64 { return &v }

func TestAttributeSchema(t *testing.T) {
	tests := []struct {
		attr configschema.Attribute
		want map[string]any
	}{{
		attr: configschema.Attribute{Name: "n", Type: configschema.Int, Default: int64(1), Min: i64(1), Description: "d"},
		want: map[string]any{"type": "integer", "minimum": int64(1), "default": int64(1), "description": "d", "x-pipectl-type": "int"},
	}, {
		attr: configschema.Attribute{Name: "p", Type: configschema.String, Sensitive: true, ForcesReplacement: true, Enum: []string{"a", "b"}},
		want: map[string]any{"type": "string", "enum": []string{"a", "b"}, "writeOnly": true, "x-pipectl-forces-replacement": true, "description": "", "x-pipectl-type": "string"},
	}, {
		attr: configschema.Attribute{Name: "d", Type: configschema.Duration, Default: "1s"},
		want: map[string]any{"type": "string", "pattern": DurationPattern, "default": "1s", "description": "", "x-pipectl-type": "duration"},
	}, {
		attr: configschema.Attribute{Name: "e", Type: configschema.Expression, ExprVars: []configschema.ExprVar{{Name: "seq", Type: "int", Description: "n"}}},
		want: map[string]any{"type": "string", "description": "", "x-pipectl-type": "expression",
			"x-pipectl-expression-variables": []map[string]any{{"name": "seq", "type": "int", "description": "n"}}},
	}, {
		attr: configschema.Attribute{Name: "l", Type: configschema.ListOfReference},
		want: map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "", "x-pipectl-type": "list(reference)"},
	}, {
		attr: configschema.Attribute{Name: "m", Type: configschema.MapOfString, Default: map[string]string{"k": "v"}},
		want: map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "default": map[string]string{"k": "v"}, "description": "", "x-pipectl-type": "map(string)"},
	}, {
		attr: configschema.Attribute{Name: "x", Type: configschema.Number},
		want: map[string]any{"type": "number", "description": "", "x-pipectl-type": "number"},
	}, {
		attr: configschema.Attribute{Name: "t", Type: configschema.Int, Max: i64(1024)},
		want: map[string]any{"type": "integer", "maximum": int64(1024), "description": "", "x-pipectl-type": "int"},
	}, {
		attr: configschema.Attribute{Name: "every", Type: configschema.Duration, MinDuration: "10ms"},
		want: map[string]any{"type": "string", "pattern": DurationPattern, "x-pipectl-minimum-duration": "10ms", "description": "", "x-pipectl-type": "duration"},
	}, {
		attr: configschema.Attribute{Name: "re", Type: configschema.String, Regexp: true, NonEmpty: true},
		want: map[string]any{"type": "string", "x-pipectl-regexp": "RE2", "minLength": 1, "description": "", "x-pipectl-type": "string"},
	}, {
		attr: configschema.Attribute{Name: "paths", Type: configschema.ListOfString, NonEmpty: true, Path: true, Glob: true, PathMustExist: true},
		want: map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1, "x-pipectl-path": true, "x-pipectl-glob": true,
			"x-pipectl-path-must-exist": true, "description": "", "x-pipectl-type": "list(string)"},
	}, {
		attr: configschema.Attribute{Name: "m", Type: configschema.MapOfString, NonEmpty: true},
		want: map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "minProperties": 1, "description": "", "x-pipectl-type": "map(string)"},
	}, {
		attr: configschema.Attribute{Name: "b", Type: configschema.Bool, Default: false},
		want: map[string]any{"type": "boolean", "default": false, "description": "", "x-pipectl-type": "bool"},
	}}
	for _, tt := range tests {
		t.Run(tt.attr.Name, func(t *testing.T) {
			got, err := attributeSchema(tt.attr)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := attributeSchema(configschema.Attribute{Name: "t", Type: "tuple"}); err == nil {
		t.Error("an unknown type was mapped without an error")
	}
}

func TestPluginSchemaRejectsRedeclaredCommonAttribute(t *testing.T) {
	for _, name := range []string{"tasks", "errors"} {
		s := &configschema.Schema{Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: name, Type: configschema.Int},
		}}
		if _, err := PluginSchema(s); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("sink attribute %q: got error %v, want one naming it", name, err)
		}
	}
	// A converter takes no common attributes, so the same name is its own.
	s := &configschema.Schema{Kind: configschema.Converter, Type: "x", Attributes: []configschema.Attribute{
		{Name: "tasks", Type: configschema.Int},
	}}
	if _, err := PluginSchema(s); err != nil {
		t.Errorf("converter attribute \"tasks\": %v", err)
	}
}

// TestSchemasAcceptAndReject runs documents through the generated schemas,
// so that a mapping mistake (a wrong type, a lost required, a missing common
// block) shows up as a document accepted or rejected wrongly.
func TestSchemasAcceptAndReject(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		path  string
		doc   string
		valid bool
	}{
		{"generator minimal", "schemas/plugins/source.generator.schema.json", `{"topic": "t", "value": "seq"}`, true},
		{"generator full", "schemas/plugins/source.generator.schema.json",
			`{"topic": "t", "value": "seq", "rate": 2.5, "tasks": 2, "transforms": ["transform.a"], "errors": {"tolerance": "all", "dead_letter_topic": "dlq", "retry_timeout": "1m30s"}}`, true},
		{"generator missing value", "schemas/plugins/source.generator.schema.json", `{"topic": "t"}`, false},
		{"generator unknown attribute", "schemas/plugins/source.generator.schema.json", `{"topic": "t", "value": "1", "valu": "1"}`, false},
		{"generator tasks below minimum", "schemas/plugins/source.generator.schema.json", `{"topic": "t", "value": "1", "tasks": 0}`, false},
		{"generator count not integer", "schemas/plugins/source.generator.schema.json", `{"topic": "t", "value": "1", "count": 1.5}`, false},
		{"generator bad tolerance", "schemas/plugins/source.generator.schema.json", `{"topic": "t", "value": "1", "errors": {"tolerance": "some"}}`, false},
		{"generator bad duration", "schemas/plugins/source.generator.schema.json", `{"topic": "t", "value": "1", "errors": {"retry_timeout": "1 day"}}`, false},
		{"file sink topics", "schemas/plugins/sink.file.schema.json", `{"path": "out.jsonl", "topics": ["a"], "start_from": "latest"}`, true},
		{"file sink topics not a list", "schemas/plugins/sink.file.schema.json", `{"path": "out.jsonl", "topics": "a"}`, false},
		{"file sink topics and regex", "schemas/plugins/sink.file.schema.json", `{"path": "out.jsonl", "topics": ["a"], "topics_regex": "a"}`, false},
		{"file sink without topics", "schemas/plugins/sink.file.schema.json", `{"path": "out.jsonl"}`, false},
		{"file sink empty topics", "schemas/plugins/sink.file.schema.json", `{"path": "out.jsonl", "topics": []}`, false},
		{"file sink negative duration", "schemas/plugins/sink.file.schema.json", `{"path": "out.jsonl", "topics": ["a"], "errors": {"retry_timeout": "-1s"}}`, false},
		{"generator too many tasks", "schemas/plugins/source.generator.schema.json", `{"topic": "t", "value": "1", "tasks": 1025}`, false},
		{"kafka source regex", "schemas/plugins/source.kafka.schema.json", `{"brokers": ["b:1"], "topics_regex": "a.*", "topic_prefix": "x."}`, true},
		{"kafka source topic and prefix", "schemas/plugins/source.kafka.schema.json", `{"brokers": ["b:1"], "topics": ["a"], "topic": "t", "topic_prefix": "x."}`, false},
		{"kafka source neither topics nor regex", "schemas/plugins/source.kafka.schema.json", `{"brokers": ["b:1"]}`, false},
		{"kafka sink sasl", "schemas/plugins/sink.kafka.schema.json", `{"brokers": ["b:1"], "topics": ["a"], "sasl_mechanism": "PLAIN", "sasl_username": "u", "sasl_password": "p"}`, true},
		{"kafka sink user without mechanism", "schemas/plugins/sink.kafka.schema.json", `{"brokers": ["b:1"], "topics": ["a"], "sasl_username": "u"}`, false},
		{"sources take no sink attributes", "schemas/plugins/source.generator.schema.json", `{"topic": "t", "value": "1", "topics": ["a"]}`, false},
		{"converters take no common attributes", "schemas/plugins/converter.json.schema.json", `{"tasks": 1}`, false},
		{"json converter", "schemas/plugins/converter.json.schema.json", `{"on_invalid": "string"}`, true},
		{"record schema", RecordSchemaPath, `{"type": "struct", "name": "o", "version": 2, "doc": "d", "parameters": {"k": "v"}, "fields": [
			{"name": "id", "schema": {"type": "int64", "default": 0}},
			{"name": "amount", "schema": {"type": "bytes", "logical": "decimal", "precision": 10, "scale": 2, "optional": true}},
			{"name": "tags", "schema": {"type": "map", "keys": {"type": "string"}, "values": {"type": "array", "items": {"type": "string", "logical": "uuid"}}}}]}`, true},
		{"record schema without type", RecordSchemaPath, `{"optional": true}`, false},
		{"record schema unknown type", RecordSchemaPath, `{"type": "int"}`, false},
		{"record schema unknown attribute", RecordSchemaPath, `{"type": "int64", "nullable": true}`, false},
		{"record schema array without items", RecordSchemaPath, `{"type": "array"}`, false},
		{"record schema map without values", RecordSchemaPath, `{"type": "map", "keys": {"type": "string"}}`, false},
		{"record schema logical on the wrong type", RecordSchemaPath, `{"type": "int64", "logical": "date"}`, false},
		{"record schema items on a struct", RecordSchemaPath, `{"type": "struct", "items": {"type": "int8"}}`, false},
		{"record schema scale on an int", RecordSchemaPath, `{"type": "int64", "scale": 2}`, false},
		{"record schema precision too large", RecordSchemaPath, `{"type": "bytes", "logical": "decimal", "precision": 1001}`, false},
		{"record schema field without a name", RecordSchemaPath, `{"type": "struct", "fields": [{"schema": {"type": "int8"}}]}`, false},
		{"record schema nested error", RecordSchemaPath, `{"type": "struct", "fields": [{"name": "a", "schema": {"type": "array", "items": {"type": "float"}}}]}`, false},
		{"diagnostics empty", DiagnosticsPath, `{"format_version": "1.0", "valid": true, "error_count": 0, "warning_count": 0, "diagnostics": []}`, true},
		{"diagnostics full", DiagnosticsPath, `{"format_version": "1.0", "valid": false, "error_count": 1, "warning_count": 1, "diagnostics": [
			{"severity": "error", "summary": "Unknown transform", "detail": "Did you mean \"mask\"?",
			 "range": {"filename": "main.hcl", "start": {"line": 3, "column": 5, "byte": 40}, "end": {"line": 3, "column": 9, "byte": 44}},
			 "snippet": {"context": "source \"orders\"", "code": "  transforms = [mask]", "start_line": 3, "highlight_start_offset": 16, "highlight_end_offset": 20}},
			{"severity": "warning", "summary": "Deprecated", "detail": "", "snippet": {"context": null, "code": "", "start_line": 1, "highlight_start_offset": 0, "highlight_end_offset": 0}}]}`, true},
		{"diagnostics bad severity", DiagnosticsPath, `{"format_version": "1.0", "valid": true, "error_count": 0, "warning_count": 0, "diagnostics": [{"severity": "fatal", "summary": "x", "detail": ""}]}`, false},
		{"diagnostics line 0", DiagnosticsPath, `{"format_version": "1.0", "valid": true, "error_count": 0, "warning_count": 0, "diagnostics": [{"severity": "error", "summary": "x", "detail": "",
			"range": {"filename": "a.hcl", "start": {"line": 0, "column": 1, "byte": 0}, "end": {"line": 1, "column": 1, "byte": 0}}}]}`, false},
		{"diagnostics other version", DiagnosticsPath, `{"format_version": "2.0", "valid": true, "error_count": 0, "warning_count": 0, "diagnostics": []}`, false},
		{"diagnostics missing counts", DiagnosticsPath, `{"format_version": "1.0", "valid": true, "diagnostics": []}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var schema, doc any
			if err := json.Unmarshal(files[tt.path], &schema); err != nil {
				t.Fatalf("%s: %v", tt.path, err)
			}
			if err := json.Unmarshal([]byte(tt.doc), &doc); err != nil {
				t.Fatal(err)
			}
			problems := validate(schema.(map[string]any), schema, doc, "")
			if tt.valid && len(problems) > 0 {
				t.Errorf("rejected a valid document: %s", strings.Join(problems, "; "))
			}
			if !tt.valid && len(problems) == 0 {
				t.Error("accepted an invalid document")
			}
		})
	}
}
