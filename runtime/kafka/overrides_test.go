package kafka_test

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

// TestClientOverridesCoverLang maps every property lang accepts, with a
// value of its kind, and refuses one it does not.
func TestClientOverridesCoverLang(t *testing.T) {
	for _, p := range lang.ClientProperties {
		v := map[string]string{"int": "1024", "ms": "250", "bool": "false"}[p.Kind]
		if p.Kind == "enum" {
			v = p.Enum[0]
		}
		opts, err := kafka.ClientOverrides(map[string]string{p.Name: v})
		if err != nil {
			t.Errorf("%s = %q: %v", p.Name, v, err)
		}
		if len(opts) > 1 {
			t.Errorf("%s: %d options; want at most 1", p.Name, len(opts))
		}
	}
	if _, err := kafka.ClientOverrides(map[string]string{"group.id": "x"}); err == nil {
		t.Error("group.id was mapped")
	}
	if _, err := kafka.ClientOverrides(map[string]string{"linger.ms": "soon"}); err == nil || !strings.Contains(err.Error(), "linger.ms") {
		t.Errorf("linger.ms = soon: %v; want an error naming the property", err)
	}
}

// TestClientOverridesCompression produces through a client with
// compression.type = zstd and reads the batch's codec back.
func TestClientOverridesCompression(t *testing.T) {
	_, cfg := kafkatest.Start(t)
	opts, err := kafka.ClientOverrides(map[string]string{"compression.type": "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, cfg, opts...)
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "z", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(testCtx(t), &kgo.Record{Topic: "z", Value: []byte(strings.Repeat("compress me ", 100))}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, cfg, kgo.ConsumeTopics("z"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := c.PollFetches(testCtx(t))
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	if r := fs.Records(); len(r) != 1 || r[0].Attrs.CompressionType() != 4 {
		t.Fatalf("records %d, codec %d; want 1 zstd (4)", len(r), r[0].Attrs.CompressionType())
	}
}
