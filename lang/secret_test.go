package lang_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang"
)

func TestSecretNeverPrints(t *testing.T) {
	s := lang.Secret{Value: "hunter2", Ref: "env:PW"}
	b, err := json.Marshal(map[string]any{"password": s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), string(b),
		fmt.Sprintf("%v", map[string]any{"p": s}), fmt.Sprintf("%+v", struct{ P lang.Secret }{s}),
	}
	for _, out := range outputs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("a secret printed in clear: %s", out)
		}
		if !strings.Contains(out, lang.Redacted) {
			t.Errorf("output %q does not show %q", out, lang.Redacted)
		}
	}
}

// TestSecretRefs checks that a sensitive value that is exactly env() keeps
// a reference the worker can resolve, and that other sensitive values keep
// their clear value for encryption.
func TestSecretRefs(t *testing.T) {
	_, cfg, diags := loadArchive(t, filepath.Join("testdata", "valid", "converters_and_secrets.txtar"))
	if diags.HasErrors() {
		t.Fatal(dump(diags))
	}
	byAddr := map[string]*lang.Pipeline{}
	for _, p := range cfg.Pipelines {
		byAddr[p.Address] = p
	}
	got := map[string]lang.Secret{
		"fleet":           cfg.Fleet.SASL.Password,
		"source.kafka.in": byAddr["source.kafka.in"].Config["sasl_password"].(lang.Secret),
		"sink.kafka.out":  byAddr["sink.kafka.out"].Config["sasl_password"].(lang.Secret),
	}
	want := map[string]lang.Secret{
		"fleet":           {Value: "pw-from-env", Ref: "env:KAFKA_PASSWORD"},
		"source.kafka.in": {Value: "s3cret"},
		"sink.kafka.out":  {Value: "far-pw", Ref: "env:FAR_PASSWORD"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("secrets differ (-want +got):\n%s", diff)
	}
	for _, v := range cfg.Variables {
		if v.Name == "other_password" && !v.Sensitive {
			t.Error("a sensitive variable lost its flag")
		}
	}
}

// TestSecretProviderRef checks that secret() gives a sensitive value kept
// as a reference for the worker's config provider, through a variable's
// default and a local too, and that the reference reads back.
func TestSecretProviderRef(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`
fleet {
  name = "shop"
}
locals {
  dsn = secret("directory", "/var/run/secrets/pipectl", "db:dsn")
}
source "sql" "a" {
  dsn     = local.dsn
  dialect = "postgres" # the dsn is only known on the worker
  table   = "t"
  mode    = "bulk"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: registry(t), LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(dump(diags))
	}
	s, ok := cfg.Pipelines[0].Config["dsn"].(lang.Secret)
	if !ok {
		t.Fatalf("dsn is %T; want a lang.Secret", cfg.Pipelines[0].Config["dsn"])
	}
	name, path, key, ok := lang.ParseProviderRef(s.Ref)
	if !ok || name != "directory" || path != "/var/run/secrets/pipectl" || key != "db:dsn" {
		t.Fatalf("ref %q reads back as %q %q %q %v", s.Ref, name, path, key, ok)
	}
	if _, _, _, ok := lang.ParseProviderRef("provider:x:%zz:k"); ok {
		t.Error("a malformed reference was read")
	}
}
