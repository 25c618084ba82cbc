package worker

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pipectl/pipectl/runtime/metrics"
)

// sourceLag is what a source task that reports its lag
// (connector.LagReporter) said at the last status interval: by source
// partition for the metrics, and in total for its status record.
type sourceLag struct {
	parts   []metrics.SourceLag
	records int64         // summed over the partitions
	latency time.Duration // the largest, to the millisecond
}

// measureSourceLag asks each local source task that reports its lag, once
// per status interval, and keeps the answers for the metrics and the
// status records.
func (s *supervisor) measureSourceLag() {
	s.mu.Lock()
	tasks := make([]*task, 0, len(s.tasks))
	for _, t := range s.tasks {
		tasks = append(tasks, t)
	}
	s.mu.Unlock()
	for _, t := range tasks {
		reported := t.counters.SourceLag()
		var sl *sourceLag
		if reported != nil {
			sl = &sourceLag{parts: make([]metrics.SourceLag, 0, len(reported))}
			for _, l := range reported {
				records := max(l.Records, 0)
				latency := max(l.Latency, 0)
				sl.parts = append(sl.parts, metrics.SourceLag{Pipeline: t.key.pipeline, Task: t.key.task,
					Partition: partitionLabel(l.Partition), Records: records, Latency: latency})
				sl.records += records
				sl.latency = max(sl.latency, latency.Round(time.Millisecond))
			}
		}
		s.mu.Lock()
		t.sourceLag = sl
		s.mu.Unlock()
	}
}

// sourceLags returns the lag by source partition of the local source
// tasks that report it, as last measured by measureSourceLag.
func (s *supervisor) sourceLags() []metrics.SourceLag {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []metrics.SourceLag
	for _, t := range s.tasks {
		if t.sourceLag != nil {
			out = append(out, t.sourceLag.parts...)
		}
	}
	return out
}

// partitionLabel renders a source partition compactly for a metric's
// partition label: "orders/0" for a Kafka topic and partition, k=v pairs
// in key order otherwise ("file=/var/log/app.log").
func partitionLabel(p map[string]any) string {
	if len(p) == 2 {
		topic, okT := p["topic"].(string)
		partition, okP := p["partition"]
		if okT && okP {
			return fmt.Sprintf("%s/%v", topic, partition)
		}
	}
	parts := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, p[k]))
	}
	return strings.Join(parts, ",")
}

// differs says whether the status must be written again for the lag:
// its totals changed, or it appeared or went.
func (l *sourceLag) differs(reported *sourceLag) bool {
	if l == nil || reported == nil {
		return (l == nil) != (reported == nil)
	}
	return l.records != reported.records || l.latency != reported.latency
}
