package kafka_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/kafka"
)

// TestHeartbeats checks that a mirror with heartbeats writes them to the
// origin's heartbeats topic and mirrors that topic beside the others, so
// that its copy's timestamps show the replication latency.
func TestHeartbeats(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 1})
	fleet := newCluster(t, nil)
	s := openMirror(t, src, fleet, map[string]any{"topics": []string{"orders"}, "topic_prefix": "backup.",
		"heartbeats": true, "heartbeat_interval": "100ms"}, nil)
	if diff := cmp.Diff([]kafka.TopicRequest{{Name: "backup.heartbeats", Partitions: 1}, {Name: "backup.orders", Partitions: 1}},
		s.(kafka.TopicsNeeder).TopicsNeeded()); diff != "" {
		t.Errorf("TopicsNeeded (-want +got):\n%s", diff)
	}
	var beats []connector.Record
	deadline := time.Now().Add(15 * time.Second)
	for len(beats) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d heartbeats mirrored in 15s", len(beats))
		}
		recs, err := s.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.SourcePartition["topic"] == kafka.HeartbeatsTopic {
				beats = append(beats, r)
			}
		}
	}
	for _, r := range beats {
		var hb kafka.Heartbeat
		if err := json.Unmarshal(r.Value.([]byte), &hb); err != nil {
			t.Fatalf("heartbeat %q: %v", r.Value, err)
		}
		if r.Topic != "backup.heartbeats" || hb.Pipeline != "source.kafka.policy" || !strings.Contains(string(r.Key.([]byte)), "source.kafka.policy") {
			t.Errorf("heartbeat to %s: key %s, value %+v", r.Topic, r.Key, hb)
		}
		if age := time.Since(hb.Time); age < 0 || age > 15*time.Second || !r.Timestamp.Equal(hb.Time.Truncate(time.Millisecond)) {
			t.Errorf("heartbeat of %v (record timestamp %v): want a recent one, stamped with its time", hb.Time, r.Timestamp)
		}
	}
}
