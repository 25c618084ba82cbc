package planfile_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/planner/planfile"
	"github.com/pipectl/pipectl/runtime/control"
)

func sample() *planfile.File {
	res := &control.Resource{Address: "sink.kafka.out", Kind: control.KindPipeline, Pipeline: &control.PipelineSpec{
		Kind: "sink", Type: "kafka", Tasks: 2,
		Config: map[string]any{"acks": "all", "sasl_password": map[string]any{"$secret": map[string]any{"ciphertext": "c2VhbGVk", "hmac": "ab12"}}},
		Topics: []string{"a<b>&c"},
	}}
	return &planfile.File{
		PipectlVersion: "v1.2.3",
		Created:        time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC),
		Kafka:          planfile.Kafka{Brokers: []string{"k1:9092"}, SASL: &planfile.SASL{Mechanism: "PLAIN", Username: "u", Password: &control.Secret{Ref: "env:KAFKA_PASSWORD"}}},
		Plan: &plan.Plan{Fleet: "shop", Serial: 41, ConfigHash: "sha256:abcd", Refreshed: true, Changes: []*plan.Change{{
			Address: "sink.kafka.out", Kind: "sink", Type: "kafka", Name: "out", Action: plan.Update, After: res, Before: res,
			Attrs:   []plan.Attr{{Path: "tasks", Before: &plan.Value{V: float64(1)}, After: &plan.Value{V: float64(2)}}, {Path: "sasl_password", Before: &plan.Value{Sensitive: true, Digest: "ab12"}, After: &plan.Value{Sensitive: true, Digest: "ab12"}}},
			Offsets: plan.OffsetsKept,
		}}},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.plan")
	if err := planfile.Write(path, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := planfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample(), got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.Plan.Changes[0].Action != plan.Update {
		t.Errorf("the action did not survive: %v", got.Plan.Changes[0].Action)
	}
}

func TestRefusals(t *testing.T) {
	good, err := planfile.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(good, []byte(`"format": "pipectl-plan"`)) || !bytes.Contains(good, []byte(`"checksum": "sha256:`)) {
		t.Fatalf("unexpected encoding:\n%s", good)
	}
	tests := []struct {
		name, from, to, want string
	}{
		{"tampered", `"tasks": 2`, `"tasks": 3`, "checksum does not match"},
		{"newer version", `"format_version": 1`, `"format_version": 2`, "format version 2"},
		{"other format", `"format": "pipectl-plan"`, `"format": "tfplan"`, "not a pipectl plan file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Replace(good, []byte(tt.from), []byte(tt.to), 1)
			if bytes.Equal(b, good) {
				t.Fatalf("%q is not in the file", tt.from)
			}
			_, err := planfile.Unmarshal(b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Unmarshal = %v, want an error with %q", err, tt.want)
			}
		})
	}
	if _, err := planfile.Unmarshal([]byte("not json")); !errors.Is(err, planfile.ErrNotPlanFile) {
		t.Errorf("garbage: %v", err)
	}
	// Reindenting the file does not break its checksum.
	var flat bytes.Buffer
	flat.Write(bytes.ReplaceAll(bytes.ReplaceAll(good, []byte("\n"), nil), []byte("  "), nil))
	if _, err := planfile.Unmarshal(flat.Bytes()); err != nil {
		t.Errorf("a reindented file: %v", err)
	}
}
