package engine

import (
	"context"
	"maps"
	"slices"
	"time"
)

// partitionWait bounds how long a batch waits for the producer to learn
// the partitions its records go to.
const partitionWait = 10 * time.Second

// awaitPartitions waits until the producer's metadata has partition
// want[topic]-1 of each topic. franz-go fails at once a record whose
// partition is set (manualPartition) when its metadata holds fewer
// partitions, and it holds the old count for up to MetadataMaxAge after a
// topic grew; a kafka source grows its target topics as its source
// cluster's topics grow, and then hands on records of the new partitions.
// A topic the producer has not loaded needs no wait: its first record
// loads it whole. After partitionWait the records go anyway, and fail as
// before if the partition does not exist.
func (s *sourceLoop) awaitPartitions(ctx context.Context, want map[string]int32) {
	if s.parts == nil {
		s.parts = map[string]int32{}
	}
	p := s.a.Producer
	deadline := time.Now().Add(partitionWait)
	for _, topic := range slices.Sorted(maps.Keys(want)) {
		n := want[topic]
		for {
			if leader, _, _ := p.PartitionLeader(topic, n-1); leader >= 0 {
				s.parts[topic] = max(s.parts[topic], n)
				break
			}
			if leader, _, _ := p.PartitionLeader(topic, 0); leader < 0 {
				break // not loaded: its first record loads it whole
			}
			if time.Now().After(deadline) {
				s.log.Warn("the fleet's cluster does not show the partition records go to", "topic", topic, "partition", n-1)
				break
			}
			p.ForceMetadataRefresh()
			t := time.NewTimer(100 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}
