package kafka_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/kafka"
)

// TestSourceMirrorsTheFleetsCluster checks that a kafka source without
// brokers mirrors topics of the fleet's own cluster (TaskContext.Cluster),
// that a topic it writes (one that starts with the prefix) is never
// mirrored again, although the regular expression matches it, and that
// records keep their headers as they are.
func TestSourceMirrorsTheFleetsCluster(t *testing.T) {
	fleet := newCluster(t, map[string]int32{"orders": 3, "other": 1, "backup.orders": 3})
	sourceRecords(t, fleet)
	s := kafka.Source().NewSource()
	tc := &connector.TaskContext{Pipeline: "source.kafka.same", Tasks: 1,
		Config:  map[string]any{"topics_regex": ".*orders", "topic_prefix": "backup.", "start_from": "earliest"},
		Cluster: &connector.Cluster{Brokers: fleet.addrs}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if diff := cmp.Diff([]kafka.TopicRequest{{Name: "backup.orders", Partitions: 3}}, s.(kafka.TopicsNeeder).TopicsNeeded()); diff != "" {
		t.Errorf("TopicsNeeded (-want +got):\n%s", diff)
	}
	got := pollN(t, s, 6)
	for _, r := range got {
		if r.Topic != "backup.orders" || r.SourcePartition["topic"] != "orders" {
			t.Errorf("mirrored %v to %s; want orders to backup.orders only", r.SourcePartition, r.Topic)
		}
		if len(r.Headers) != 2 {
			t.Errorf("headers %v; want the record's own two (no provenance header within one cluster)", r.Headers)
		}
	}
}

// TestFleetClusterErrors checks what a kafka connector without brokers
// refuses: a listed topic that would be mirrored into itself (the schema's
// Check, which validate runs too), and a task that runs without the fleet's
// cluster.
func TestFleetClusterErrors(t *testing.T) {
	fleet := newCluster(t, map[string]int32{"a": 1})
	err := kafka.Source().NewSource().Open(context.Background(), &connector.TaskContext{Tasks: 1,
		Config:  map[string]any{"topics": []string{"a"}, "topic": "a"},
		Cluster: &connector.Cluster{Brokers: fleet.addrs}})
	if err == nil || !strings.Contains(err.Error(), `topic "a" is one of topics too`) {
		t.Errorf("a topic mirrored into itself: %v", err)
	}
	err = kafka.Sink().NewSink().Open(context.Background(), &connector.TaskContext{Tasks: 1, Config: map[string]any{"topic_prefix": "raw."}})
	if err == nil || !strings.Contains(err.Error(), "no brokers") {
		t.Errorf("a sink without brokers or a fleet cluster: %v", err)
	}
}

// TestSinkWritesToTheFleetsCluster checks that a kafka sink without
// brokers writes to the fleet's own cluster with the fleet's SASL login
// (a topic-to-topic copy).
func TestSinkWritesToTheFleetsCluster(t *testing.T) {
	fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("PLAIN", "fleet", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	admin, err := kgo.NewClient(kgo.SeedBrokers(fake.ListenAddrs()...), kgo.SASL(plain.Auth{User: "fleet", Pass: "secret"}.AsMechanism()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	if _, err := kadm.NewClient(admin).CreateTopic(context.Background(), 1, 1, nil, "raw.clicks"); err != nil {
		t.Fatal(err)
	}
	s := kafka.Sink().NewSink()
	tc := &connector.TaskContext{Pipeline: "sink.kafka.copy", Tasks: 1, Config: map[string]any{"topic_prefix": "raw.", "acks": "all"},
		Cluster: &connector.Cluster{Brokers: fake.ListenAddrs(), SASL: &connector.ClusterSASL{Mechanism: "PLAIN", Username: "fleet", Password: "secret"}}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Write(context.Background(), []connector.Record{{Topic: "clicks", Key: "k", Value: []byte("v"), Encoded: true, Timestamp: ms(1)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(fake.ListenAddrs()...), kgo.SASL(plain.Auth{User: "fleet", Pass: "secret"}.AsMechanism()),
		kgo.ConsumeTopics("raw.clicks"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for len(got) < 1 {
		fs := cl.PollFetches(ctxFor(t))
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Key)+"="+string(r.Value)) })
	}
	if !slices.Equal(got, []string{"k=v"}) {
		t.Errorf("raw.clicks holds %v", got)
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestClusterSASLRedacted checks that the fleet's SASL password never
// prints, logs (text and JSON handlers) or marshals.
func TestClusterSASLRedacted(t *testing.T) {
	c := connector.Cluster{Brokers: []string{"b:9092"}, SASL: &connector.ClusterSASL{Mechanism: "PLAIN", Username: "u", Password: "hunter2"}}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cluster", "cluster", c, "sasl", c.SASL)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cluster", "cluster", c, "sasl", *c.SASL)
	marshalled, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmtV(c.SASL), fmtV(*c.SASL), logged.String(), string(marshalled)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the password shows: %s", s)
		}
	}
	if !strings.Contains(logged.String(), `"username":"u"`) {
		t.Errorf("the log lost the user name: %s", logged.String())
	}
}

func fmtV(v any) string {
	return fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
}
