package kafka_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// TestBrokerClusterID checks that every embedded broker has a cluster id of
// its own, so that a worker or dev that logs the id it joined tells two
// embedded brokers apart, and that a data directory keeps it across a
// restart.
func TestBrokerClusterID(t *testing.T) {
	id := func(b *kafka.Broker) string {
		t.Helper()
		m, err := kadm.NewClient(newClient(t, kafka.Config{Brokers: []string{b.Addr()}})).BrokerMetadata(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		return m.Cluster
	}
	dir := t.TempDir()
	a, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	first, other := id(a), id(b)
	if len(first) != 22 || first == other {
		t.Errorf("cluster ids %q and %q: want two distinct 22-character ids", first, other)
	}
	a.Close()
	again, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := id(again); got != first {
		t.Errorf("after a restart on its data directory the cluster id is %q; want %q", got, first)
	}
}
