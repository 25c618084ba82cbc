package lang_test

import (
	"encoding/json"
	"fmt"
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
