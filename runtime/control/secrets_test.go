package control_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/stdlib"
)

func testKeys(t *testing.T, b byte) *control.Keys {
	k, err := control.NewKeys(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := testKeys(t, 1)
	s, err := k.Seal("sink.kafka.out.sasl_password", lang.Secret{Value: "hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	if bytes.Contains(b, []byte("hunter2")) || !bytes.Contains(b, []byte(`"$secret"`)) {
		t.Fatalf("stored form %s", b)
	}
	again, _ := k.Seal("sink.kafka.out.sasl_password", lang.Secret{Value: "hunter2"})
	if *again != *s {
		t.Error("sealing the same value twice gave different state: plans would show a change")
	}
	other, _ := k.Seal("sink.kafka.out.sasl_password", lang.Secret{Value: "hunter3"})
	if other.HMAC == s.HMAC || other.Ciphertext == s.Ciphertext {
		t.Error("different values sealed alike")
	}
	var decoded any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	back, ok := control.SecretOf(decoded)
	if !ok {
		t.Fatal("SecretOf did not recognize a stored secret")
	}
	v, err := k.Open("sink.kafka.out.sasl_password", back, nil)
	if err != nil || v != "hunter2" {
		t.Fatalf("Open = %v, %v", v, err)
	}
	if _, err := k.Open("sink.kafka.out.other", back, nil); err == nil {
		t.Error("a secret opened under another attribute's name")
	}
	if _, err := testKeys(t, 2).Open("sink.kafka.out.sasl_password", back, nil); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("wrong key: err = %v", err)
	}
	var none *control.Keys
	if _, err := none.Seal("x.y", lang.Secret{Value: "hunter2"}); !errors.Is(err, control.ErrNoStateKey) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("no key: err = %v", err)
	}
	ref, err := none.Seal("x.y", lang.Secret{Value: "hunter2", Ref: "env:PW"})
	if err != nil || ref.Ref != "env:PW" || ref.Ciphertext != "" {
		t.Fatalf("a reference needs no key: %+v, %v", ref, err)
	}
	v, err = none.Open("x.y", ref, func(k string) (string, bool) { return "from-env", k == "PW" })
	if err != nil || v != "from-env" {
		t.Errorf("env reference: %v, %v", v, err)
	}
	if _, err := none.Open("x.y", ref, func(string) (string, bool) { return "", false }); err == nil {
		t.Error("an unset env reference opened")
	}
}

func TestKeysFromEnv(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, tc := range []struct {
		val     string
		set     bool
		wantNil bool
		wantErr bool
	}{{"", false, true, false}, {good, true, false, false}, {"c2hvcnQ=", true, true, true}, {"not base64!", true, true, true}} {
		k, err := control.KeysFromEnv(func(string) (string, bool) { return tc.val, tc.set })
		if (err != nil) != tc.wantErr || (k == nil) != tc.wantNil {
			t.Errorf("KeysFromEnv(%q) = %v, %v", tc.val, k, err)
		}
	}
}

// TestResources turns the quickstart into state resources and checks that
// a sensitive value never appears in clear in them.
func TestResources(t *testing.T) {
	dir := t.TempDir()
	src := `
fleet { name = "s" }
variable "pw" {
  sensitive = true
  default   = "hunter2"
}
transform "t" {
  filter = "value.a > 1"
  set    = { "value.b" = "1" }
}
source "generator" "g" {
  topic      = "x"
  value      = "{'a': seq}"
  transforms = [transform.t]
}
sink "kafka" "k" {
  topics         = ["x"]
  brokers        = ["other:9092"]
  sasl_mechanism = "PLAIN"
  sasl_username  = "u"
  sasl_password  = var.pw
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
	if _, err := control.Resources(cfg, nil); !errors.Is(err, control.ErrNoStateKey) || !strings.Contains(err.Error(), "sink.kafka.k.sasl_password") {
		t.Fatalf("without a key: err = %v", err)
	}
	res, err := control.Resources(cfg, testKeys(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Address != "sink.kafka.k" || res[1].Address != "source.generator.g" {
		t.Fatalf("resources = %v", res)
	}
	b, _ := json.Marshal(res)
	if bytes.Contains(b, []byte("hunter2")) {
		t.Fatalf("a secret in clear in state: %s", b)
	}
	g := res[1].Pipeline
	if len(g.Transforms) != 1 || g.Transforms[0].Filter != "value.a > 1" || g.Transforms[0].Set[0].Path != "value.b" {
		t.Errorf("transforms = %+v", g.Transforms)
	}
	again, err := control.Resources(cfg, testKeys(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Hash() == res[1].Hash() || res[0].Hash() != again[0].Hash() {
		t.Error("hashes are not stable and distinct")
	}
}
