package worker

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib"
)

func testPlugins(t testing.TB) pluginConfigs {
	t.Helper()
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	return pluginConfigs{reg}
}

// TestPluginConfig lists a plugin's own attributes in Connect's
// ConfigKeyInfo shape (KIP-769).
func TestPluginConfig(t *testing.T) {
	pc := testPlugins(t)
	defs, err := pc.PluginConfig("sink.file")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.Name)
	}
	if diff := cmp.Diff([]string{"path", "format"}, names); diff != "" {
		t.Errorf("sink.file's attributes (-want +got):\n%s", diff)
	}
	path, format := defs[0], defs[1]
	if path.Type != "STRING" || !path.Required || path.Importance != "HIGH" || path.DefaultValue != nil || path.Group != "sink.file" || path.Order != 1 {
		t.Errorf("path: %+v", path)
	}
	if format.DefaultValue == nil || *format.DefaultValue != "value" || format.Required || !strings.Contains(format.Documentation, "envelope: key, value") {
		t.Errorf("format: %+v", format)
	}
	kafka, err := pc.PluginConfig("sink.kafka")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range kafka {
		if d.Name == "sasl_password" && d.Type != "PASSWORD" {
			t.Errorf("sasl_password is %s, want PASSWORD", d.Type)
		}
	}
	if _, err := pc.PluginConfig("sink.nope"); err == nil || !strings.Contains(err.Error(), "No plugin sink.nope") {
		t.Errorf("an unknown plugin: %v", err)
	}
}

// TestValidateConfig validates pipectl configurations of a sink with the
// plugin's schema and the language's attributes, in Connect's ConfigInfos
// shape: every error is on the attribute it is about, Connect's own keys
// (as GET .../config shows them) are understood, secrets are masked.
func TestValidateConfig(t *testing.T) {
	pc := testPlugins(t)
	errorsOf := func(infos api.ConfigInfos) map[string][]string {
		out := map[string][]string{}
		for _, c := range infos.Configs {
			if len(c.Value.Errors) > 0 {
				out[c.Value.Name] = c.Value.Errors
			}
		}
		return out
	}
	valueOf := func(infos api.ConfigInfos, name string) string {
		for _, c := range infos.Configs {
			if c.Value.Name == name && c.Value.Value != nil {
				return *c.Value.Value
			}
		}
		return "(none)"
	}

	good, err := pc.ValidateConfig("sink.file", map[string]any{
		"connector.class": "sink.file", "name": "sink.file.out",
		"path": "out.jsonl", "topics": "a,b", "tasks.max": "2",
		"errors":               map[string]any{"tolerance": "all", "dead_letter_topic": "dlq"},
		"errors.retry.timeout": "300000",
	})
	if err != nil {
		t.Fatal(err)
	}
	if good.ErrorCount != 0 || good.Name != "sink.file" {
		t.Errorf("a good configuration: %s with %d errors %v", good.Name, good.ErrorCount, errorsOf(good))
	}
	if diff := cmp.Diff([]string{"Common", "Error Handling", "Restart", "sink.file"}, good.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	for name, want := range map[string]string{"topics": "a,b", "tasks": "2", "errors.tolerance": "all",
		"errors.retry_timeout": "5m0s", "format": "value", "start_from": "earliest"} {
		if got := valueOf(good, name); got != want {
			t.Errorf("value of %s: %q, want %q", name, got, want)
		}
	}

	bad, err := pc.ValidateConfig("sink.file", map[string]any{
		"format": "xml", "tasks": 0, "topics_regex": "(", "colour": "blue", "state": "asleep",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := errorsOf(bad)
	for _, name := range []string{"path", "format", "tasks", "topics_regex", "colour", "state"} {
		if len(got[name]) == 0 {
			t.Errorf("no error on %s: %v", name, got)
		}
	}
	if bad.ErrorCount < 6 {
		t.Errorf("error_count %d, want at least 6: %v", bad.ErrorCount, got)
	}
	if v := valueOf(bad, "colour"); v != "(none)" {
		t.Errorf("the value of an unknown key is shown: %q", v)
	}

	secret, err := pc.ValidateConfig("sink.kafka", map[string]any{
		"topics": []any{"a"}, "brokers": []any{"b:9092"}, "topic": "'x'", "sasl_mechanism": "PLAIN",
		"sasl_username": "u", "sasl_password": "hunter2", "tasks": "many",
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := valueOf(secret, "sasl_password"); v != api.SensitiveValue {
		t.Errorf("sasl_password's value: %q", v)
	}
	for _, c := range secret.Configs {
		for _, e := range c.Value.Errors {
			if strings.Contains(e, "hunter2") {
				t.Errorf("an error quotes the secret: %s", e)
			}
		}
	}
	if len(errorsOf(secret)["tasks"]) == 0 {
		t.Errorf("tasks = \"many\" has no error: %v", errorsOf(secret))
	}
}

// FuzzValidateConfig feeds request bodies to the validation: it never
// panics, and error_count counts the errors it lists.
func FuzzValidateConfig(f *testing.F) {
	for _, s := range []string{
		`{"path":"x","topics":"a,b"}`,
		`{"errors":{"tolerance":"all"},"errors.retry.timeout":"5","tasks.max":"x"}`,
		`{"restart":{"max_attempts":-1},"topics_regex":"(","state":3}`,
		`{"errors":"all","restart.backoff":[1],"key.converter":"converter.nope"}`,
	} {
		f.Add(s)
	}
	pc := testPlugins(f)
	f.Fuzz(func(t *testing.T, body string) {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var cfg map[string]any
		if dec.Decode(&cfg) != nil || cfg == nil {
			return
		}
		for _, plugin := range []string{"sink.file", "source.kafka"} {
			infos, err := pc.ValidateConfig(plugin, cfg)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, c := range infos.Configs {
				n += len(c.Value.Errors)
			}
			if n != infos.ErrorCount {
				t.Fatalf("error_count %d, but %d errors listed", infos.ErrorCount, n)
			}
		}
	})
}
