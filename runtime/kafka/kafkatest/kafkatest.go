package kafkatest

import (
	"testing"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// Start starts an in-memory embedded broker on a free port of 127.0.0.1,
// closed when the test ends, and returns it with a Config that reaches it.
// Topics must be created (kafka.EnsureTopics): the broker does not create
// them on use.
func Start(t testing.TB) (*kafka.Broker, kafka.Config) {
	t.Helper()
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("kafkatest: start broker: %v", err)
	}
	t.Cleanup(b.Close)
	return b, kafka.Config{Brokers: []string{b.Addr()}}
}
