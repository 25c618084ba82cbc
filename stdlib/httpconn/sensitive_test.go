package httpconn_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/stdlib"
	"github.com/pipectl/pipectl/stdlib/httpconn"
)

// TestSensitiveHeaders loads a sink "http" with sensitive_headers from
// HCL: the loaded value is a secret (no print of it shows the key), the
// state form is sealed, and opened and coerced as the worker does it is
// the map again.
func TestSensitiveHeaders(t *testing.T) {
	dir := t.TempDir()
	hcl := fmt.Sprintf(`
fleet {
  name = "f"
}
sink "http" "out" {
  topics            = ["t"]
  url               = "'%s/in'"
  headers           = { "X-Source" = "pipectl" }
  sensitive_headers = { "X-Api-Key" = "k3y-s3cret" }
}
`, "http://127.0.0.1:9")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: reg, LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p := cfg.Pipelines[0]
	sec, ok := p.Config["sensitive_headers"].(lang.Secret)
	if !ok {
		t.Fatalf("sensitive_headers loaded as %T, want a lang.Secret", p.Config["sensitive_headers"])
	}
	b, _ := json.Marshal(p.Config)
	if out := fmt.Sprintf("%v %+v %s", p.Config, p.Config, b); strings.Contains(out, "k3y-s3cret") {
		t.Fatalf("the loaded config prints the header's value: %s", out)
	}
	key := make([]byte, 32)
	rand.Read(key)
	keys, err := control.NewKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.Seal("sink.http.out.sensitive_headers", sec)
	if err != nil {
		t.Fatal(err)
	}
	if sb, _ := json.Marshal(sealed); strings.Contains(string(sb), "k3y") {
		t.Fatalf("the state form shows the value: %s", sb)
	}
	clear, err := keys.Open("sink.http.out.sensitive_headers", sealed, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The worker coerces the opened value against the schema
	// (TestSinkSensitiveHeaders sends what that gives).
	coerced, errs := httpconn.SinkSchema.Coerce(map[string]any{"url": "'x'", "sensitive_headers": clear})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if h, _ := coerced["sensitive_headers"].(map[string]string); h["X-Api-Key"] != "k3y-s3cret" {
		t.Fatalf("opened and coerced: %#v", coerced["sensitive_headers"])
	}
}
