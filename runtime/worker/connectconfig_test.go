package worker

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/stdlib"
)

// TestConnectConfig loads a configuration, stores it as apply does and
// checks the REST API's view of each pipeline: Kafka Connect's key names
// and string values where Connect has the setting, pipectl's own
// otherwise, secrets masked.
func TestConnectConfig(t *testing.T) {
	dir := t.TempDir()
	src := `
fleet {
  name = "shop"
}
variable "pw" {
  type      = string
  sensitive = true
  default   = "hunter2"
}
predicate "external" {
  expr = "!value.email.endsWith('@corp.example')"
}
transform "drop_small" {
  filter = "value.amount >= 10"
}
transform "mask" {
  unless = predicate.external
  set    = { "value.email" = "sha256(value.email)" }
  rename = { "value.old" = "value.new" }
  drop   = ["value.card", "value.cvv"]
}
converter "lenient" {
  type           = "json"
  schemas_enable = false
}
sink "kafka" "out" {
  topics          = ["orders", "returns"]
  brokers         = ["far:9092"]
  topic           = "all-orders"
  sasl_mechanism  = "PLAIN"
  sasl_username   = "far"
  sasl_password   = var.pw
  tasks           = 3
  state           = "stopped"
  transforms      = [transform.drop_small, transform.mask]
  value_converter = converter.lenient
  start_from      = "latest"
  errors {
    tolerance         = "all"
    dead_letter_topic = "orders.dlq"
    retry_timeout     = "5m"
  }
  restart {
    max_attempts = 2
  }
}
source "generator" "g" {
  topic = "orders"
  value = "{'id': seq}"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: reg})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	keys, err := control.NewKeys(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	res, err := control.Resources(cfg, keys)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, r := range res {
		if r.Kind == control.KindPipeline {
			got[r.Address] = connectConfig(r)
		}
	}
	sink := got["sink.kafka.out"]
	want := map[string]any{
		"connector.class":                     "sink.kafka",
		"name":                                "sink.kafka.out",
		"tasks.max":                           "3",
		"state":                               "stopped",
		"topics":                              "orders,returns",
		"consumer.override.auto.offset.reset": "latest",
		"commit_interval":                     "1s",
		"key.converter":                       "converter.string",
		"value.converter":                     "converter.json",
		"value.converter.schemas_enable":      false,
		"transforms":                          "drop_small,mask",
		"transforms.drop_small.type":          "transform",
		"transforms.drop_small.filter":        "value.amount >= 10",
		"transforms.mask.type":                "transform",
		"transforms.mask.predicate":           "external",
		"transforms.mask.negate":              "true",
		"transforms.mask.set.value.email":     "sha256(value.email)",
		"transforms.mask.rename.value.old":    "value.new",
		"transforms.mask.drop":                "value.card,value.cvv",
		"predicates":                          "external",
		"predicates.external.type":            "predicate",
		"predicates.external.expr":            "!value.email.endsWith('@corp.example')",
		"errors.tolerance":                    "all",
		"errors.deadletterqueue.topic.name":   "orders.dlq",
		"errors.retry.timeout":                "300000",
		"errors.retry.delay.max.ms":           "10000",
		"restart.max_attempts":                "2",
		"restart.backoff":                     "10s",
	}
	for k, v := range want {
		if diff := cmp.Diff(v, sink[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if sink["sasl_password"] != "(sensitive value)" {
		t.Errorf("sasl_password = %v, want it masked", sink["sasl_password"])
	}
	for _, k := range []string{"brokers", "topic", "sasl_mechanism", "sasl_username"} {
		if _, ok := sink[k]; !ok {
			t.Errorf("the plugin attribute %s is missing from %v", k, sink)
		}
	}
	for k, v := range sink {
		if s, ok := v.(string); ok && bytes.Contains([]byte(s), []byte("hunter2")) {
			t.Errorf("%s shows the secret", k)
		}
	}
	gen := got["source.generator.g"]
	for _, k := range []string{"topics", "topics.regex", "transforms", "predicates", "errors.deadletterqueue.topic.name", "consumer.override.auto.offset.reset"} {
		if v, ok := gen[k]; ok {
			t.Errorf("the source has %s = %v, want it absent", k, v)
		}
	}
	if gen["state"] != "running" || gen["errors.tolerance"] != "none" || gen["tasks.max"] != "1" {
		t.Errorf("source: state %v, errors.tolerance %v, tasks.max %v; want running, none, 1", gen["state"], gen["errors.tolerance"], gen["tasks.max"])
	}
}
