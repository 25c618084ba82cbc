package kafka_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/kafka"
)

// openOnFleet opens task of tasks of a kafka source whose fleet cluster
// (the target) is fleet, as a worker does.
func openOnFleet(t *testing.T, config map[string]any, task, tasks int, fleet *cluster) connector.Source {
	t.Helper()
	s := kafka.Source().NewSource()
	tc := &connector.TaskContext{Pipeline: "source.kafka.refresh", Task: task, Tasks: tasks, Config: config,
		Cluster: &connector.Cluster{Brokers: fleet.addrs}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forward produces recs to the fleet cluster as the worker does: each to
// its Topic and Partition, which must exist. A new client each time, so
// that its metadata is fresh.
func forward(t *testing.T, fleet *cluster, recs []connector.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(fleet.addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, r := range recs {
		key, _ := r.Key.([]byte)
		value, _ := r.Value.([]byte)
		kr := &kgo.Record{Topic: r.Topic, Partition: r.Partition, Key: key, Value: value, Timestamp: r.Timestamp}
		if err := cl.ProduceSync(context.Background(), kr).FirstErr(); err != nil {
			t.Fatalf("producing to %s/%d: %v", r.Topic, r.Partition, err)
		}
	}
}

// pollUntil polls the tasks in turn until done says their records (by
// task) are enough, failing after 15s.
func pollUntil(t *testing.T, done func(got [][]connector.Record) bool, tasks ...connector.Source) [][]connector.Record {
	t.Helper()
	got := make([][]connector.Record, len(tasks))
	deadline := time.Now().Add(15 * time.Second)
	for !done(got) {
		if time.Now().After(deadline) {
			t.Fatalf("polled %d records by task; not enough", lens(got))
		}
		for i, s := range tasks {
			recs, err := s.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got[i] = append(got[i], recs...)
		}
	}
	return got
}

func lens(got [][]connector.Record) []int {
	n := make([]int, len(got))
	for i := range got {
		n[i] = len(got[i])
	}
	return n
}

func total(n int) func([][]connector.Record) bool {
	return func(got [][]connector.Record) bool { return sum(lens(got)) >= n }
}

func sum(n []int) int {
	s := 0
	for _, x := range n {
		s += x
	}
	return s
}

// partitionsOf returns the partition count of topic on c, 0 when it does
// not exist.
func partitionsOf(t *testing.T, c *cluster, topic string) int {
	t.Helper()
	details, err := kadm.NewClient(c.cl).ListTopics(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := details[topic]
	if !ok || d.Err != nil {
		return 0
	}
	return len(d.Partitions)
}

// dynamicConfigs returns the configs set on topic itself.
func dynamicConfigs(t *testing.T, c *cluster, topic string) map[string]string {
	t.Helper()
	rcs, err := kadm.NewClient(c.cl).DescribeTopicConfigs(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, cfg := range rc.Configs {
		if cfg.Source == kmsg.ConfigSourceDynamicTopicConfig {
			out[cfg.Key] = cfg.MaybeValue()
		}
	}
	return out
}

func setConfigs(t *testing.T, c *cluster, topic string, kv ...string) {
	t.Helper()
	var alter []kadm.AlterConfig
	for i := 0; i < len(kv); i += 2 {
		alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: kv[i], Value: kadm.StringPtr(kv[i+1])})
	}
	resp, err := kadm.NewClient(c.cl).AlterTopicConfigs(context.Background(), alter, topic)
	if err == nil {
		for _, r := range resp {
			if r.Err != nil {
				err = r.Err
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// placed is where a record of a source partition went.
type placed struct {
	Source    string
	Partition int32
	Target    string
	TargetP   int32
	Offset    int64
}

func placedOf(recs []connector.Record) []placed {
	var out []placed
	for _, r := range recs {
		out = append(out, placed{r.SourcePartition["topic"].(string), int32(r.SourcePartition["partition"].(int64)), r.Topic, r.Partition, r.SourceOffset["offset"].(int64)})
	}
	slices.SortFunc(out, func(a, b placed) int {
		if a.Source != b.Source {
			return cmpString(a.Source, b.Source)
		}
		return int(a.Partition - b.Partition)
	})
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestSourcePicksUpNewTopics checks that a topic created on the source
// cluster while the mirror runs, that topics_regex matches, is mirrored
// without a new Open: its target is created with its partition count and
// its configs before its first record is handed on, and its records keep
// their partition on the target.
func TestSourcePicksUpNewTopics(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 1})
	fleet := newCluster(t, map[string]int32{"backup.orders": 1}) // as the worker creates it from TopicsNeeded
	s := openOnFleet(t, map[string]any{"brokers": src.addrs, "topics_regex": "orders|events.*", "topic_prefix": "backup.",
		"refresh_interval": "200ms", "sync_topic_configs": true}, 0, 1, fleet)
	if recs, err := s.Poll(context.Background()); err != nil || len(recs) > 0 {
		t.Fatalf("first Poll: %d records, %v", len(recs), err)
	}

	src.createTopic(t, "events.eu", 3)
	setConfigs(t, src, "events.eu", "retention.ms", "3600000")
	src.createTopic(t, "unrelated", 1)
	var recs []*kgo.Record
	for p := range int32(3) {
		recs = append(recs, &kgo.Record{Topic: "events.eu", Partition: p, Key: []byte(fmt.Sprint(p)), Value: []byte("v"), Timestamp: ms(int64(p))})
	}
	recs = append(recs, &kgo.Record{Topic: "unrelated", Partition: 0, Value: []byte("no")})
	src.produce(t, recs...)

	got := pollUntil(t, func(got [][]connector.Record) bool {
		if len(got[0]) > 0 && partitionsOf(t, fleet, "backup.events.eu") < 3 {
			t.Fatalf("a record of events.eu was handed on before backup.events.eu had 3 partitions: %+v", got[0][0])
		}
		return len(got[0]) >= 3
	}, s)[0]
	want := []placed{{"events.eu", 0, "backup.events.eu", 0, 1}, {"events.eu", 1, "backup.events.eu", 1, 1}, {"events.eu", 2, "backup.events.eu", 2, 1}}
	if diff := cmp.Diff(want, placedOf(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := partitionsOf(t, fleet, "backup.unrelated"); n != 0 {
		t.Errorf("unrelated, which the regex does not match, has a target of %d partitions", n)
	}
	if diff := cmp.Diff(map[string]string{"retention.ms": "3600000"}, dynamicConfigs(t, fleet, "backup.events.eu")); diff != "" {
		t.Errorf("configs of backup.events.eu (-want +got):\n%s", diff)
	}

	forward(t, fleet, got)
	var onTarget []string
	for _, r := range fleet.consume(t, "backup.events.eu", 3) {
		onTarget = append(onTarget, fmt.Sprintf("%d:%s", r.Partition, r.Key))
	}
	if diff := cmp.Diff([]string{"0:0", "1:1", "2:2"}, onTarget); diff != "" {
		t.Errorf("backup.events.eu (-want +got):\n%s", diff)
	}
}

// TestSourceGrowsWithTheSource checks that partitions added to a mirrored
// topic are mirrored by the task taskOf gives them, into the same
// partition of a target that grew first.
func TestSourceGrowsWithTheSource(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 2})
	fleet := newCluster(t, map[string]int32{"copy.orders": 2})
	config := map[string]any{"brokers": src.addrs, "topics": []string{"orders"}, "topic_prefix": "copy.", "refresh_interval": "200ms", "sync_topic_configs": true}
	tasks := []connector.Source{openOnFleet(t, config, 0, 2, fleet), openOnFleet(t, config, 1, 2, fleet)}
	produce := func(partitions ...int32) {
		// A new client: src.cl would not know the new partitions yet.
		cl, err := kgo.NewClient(kgo.SeedBrokers(src.addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for _, p := range partitions {
			r := &kgo.Record{Topic: "orders", Partition: p, Key: []byte(fmt.Sprint(p)), Value: []byte("v"), Timestamp: ms(int64(p))}
			if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(0, 1)
	first := pollUntil(t, total(2), tasks...)

	if _, err := kadm.NewClient(src.cl).UpdatePartitions(context.Background(), 4, "orders"); err != nil {
		t.Fatal(err)
	}
	produce(2, 3)
	got := pollUntil(t, total(2), tasks...)
	for i := range got {
		got[i] = append(first[i], got[i]...)
	}
	if n := partitionsOf(t, fleet, "copy.orders"); n != 4 {
		t.Fatalf("copy.orders has %d partitions, want 4", n)
	}
	for task, rs := range got {
		for _, r := range rs {
			p := r.Partition
			if want := kafka.TaskOf("orders", p, 2); want != task {
				t.Errorf("orders/%d was read by task %d, want %d", p, task, want)
			}
		}
	}
	all := slices.Concat(got...)
	want := []placed{{"orders", 0, "copy.orders", 0, 1}, {"orders", 1, "copy.orders", 1, 1}, {"orders", 2, "copy.orders", 2, 1}, {"orders", 3, "copy.orders", 3, 1}}
	if diff := cmp.Diff(want, placedOf(all)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	forward(t, fleet, all)
	var onTarget []string
	for _, r := range fleet.consume(t, "copy.orders", 4) {
		onTarget = append(onTarget, fmt.Sprintf("%d:%s", r.Partition, r.Key))
	}
	if diff := cmp.Diff([]string{"0:0", "1:1", "2:2", "3:3"}, onTarget); diff != "" {
		t.Errorf("copy.orders (-want +got):\n%s", diff)
	}
}

// TestSourceCopiesTopicConfigs checks that the configs set on a source
// topic are copied to its target, again when they change, except those
// topic_configs_exclude names (by default MirrorMaker 2's, which has
// min.insync.replicas), and none with sync_topic_configs = false.
func TestSourceCopiesTopicConfigs(t *testing.T) {
	for _, tc := range []struct {
		name       string
		config     map[string]any
		first, end map[string]string
	}{
		{"default exclude", map[string]any{},
			map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}, map[string]string{"retention.ms": "2000", "cleanup.policy": "compact"}},
		{"own exclude", map[string]any{"topic_configs_exclude": []string{"retention\\..*"}},
			map[string]string{"min.insync.replicas": "1", "cleanup.policy": "compact"}, map[string]string{"min.insync.replicas": "1", "cleanup.policy": "delete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newCluster(t, map[string]int32{"orders": 1})
			setConfigs(t, src, "orders", "retention.ms", "1000", "min.insync.replicas", "1", "cleanup.policy", "compact")
			fleet := newCluster(t, map[string]int32{"copy.orders": 1})
			config := map[string]any{"brokers": src.addrs, "topics": []string{"orders"}, "topic_prefix": "copy.", "refresh_interval": "200ms", "sync_topic_configs": true}
			maps.Copy(config, tc.config)
			s := openOnFleet(t, config, 0, 1, fleet)

			// The first refresh runs at the first Poll.
			if _, err := s.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.first, dynamicConfigs(t, fleet, "copy.orders")); diff != "" {
				t.Errorf("after the first refresh (-want +got):\n%s", diff)
			}

			setConfigs(t, src, "orders", "retention.ms", "2000", "cleanup.policy", tc.end["cleanup.policy"])
			deadline := time.Now().Add(15 * time.Second)
			for {
				got := dynamicConfigs(t, fleet, "copy.orders")
				if cmp.Equal(tc.end, got) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("copy.orders configs (-want +got):\n%s", cmp.Diff(tc.end, got))
				}
				if _, err := s.Poll(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		})
	}

	t.Run("off", func(t *testing.T) {
		src := newCluster(t, map[string]int32{"orders": 1})
		setConfigs(t, src, "orders", "retention.ms", "1000")
		fleet := newCluster(t, map[string]int32{"copy.orders": 1})
		s := openOnFleet(t, map[string]any{"brokers": src.addrs, "topics_regex": "orders|more", "topic_prefix": "copy.",
			"refresh_interval": "200ms", "sync_topic_configs": false}, 0, 1, fleet)
		src.createTopic(t, "more", 1)
		setConfigs(t, src, "more", "retention.ms", "1000")
		src.produce(t, &kgo.Record{Topic: "more", Partition: 0, Value: []byte("v")})
		pollUntil(t, total(1), s)
		for _, topic := range []string{"copy.orders", "copy.more"} {
			if got := dynamicConfigs(t, fleet, topic); len(got) > 0 {
				t.Errorf("sync_topic_configs = false, yet %s has %v", topic, got)
			}
		}
	})
}

// TestSourceRemovesConfigs: configs no longer set on the source topic are
// deleted from its target: one set on the target before the mirror's task
// started (it does not know what it copied then), and one removed from
// the source while it runs. An excluded config set on the target stays.
func TestSourceRemovesConfigs(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 1})
	setConfigs(t, src, "orders", "retention.ms", "1000", "cleanup.policy", "compact")
	fleet := newCluster(t, map[string]int32{"copy.orders": 1})
	setConfigs(t, fleet, "copy.orders", "segment.ms", "60000", "min.insync.replicas", "1")
	s := openOnFleet(t, map[string]any{"brokers": src.addrs, "topics": []string{"orders"}, "topic_prefix": "copy.",
		"refresh_interval": "200ms", "sync_topic_configs": true}, 0, 1, fleet)
	until := func(what string, want map[string]string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := dynamicConfigs(t, fleet, "copy.orders")
			if cmp.Equal(want, got) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: copy.orders configs (-want +got):\n%s", what, cmp.Diff(want, got))
			}
			if _, err := s.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	until("the first refresh", map[string]string{"retention.ms": "1000", "cleanup.policy": "compact", "min.insync.replicas": "1"})

	resp, err := kadm.NewClient(src.cl).AlterTopicConfigs(context.Background(),
		[]kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "retention.ms"}}, "orders")
	if err == nil {
		err = resp[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	until("retention.ms removed at the source", map[string]string{"cleanup.policy": "compact", "min.insync.replicas": "1"})
}

// TestSourceAssignmentStable checks that a topic added at run time leaves
// every partition with the task it had, and that its own partitions are
// spread over the tasks. "a" sorts before the others: a round-robin over
// the sorted partitions would move them all.
func TestSourceAssignmentStable(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 3, "other": 1})
	fleet := newCluster(t, map[string]int32{"m.orders": 3, "m.other": 1})
	config := map[string]any{"brokers": src.addrs, "topics_regex": "orders|other|a", "topic_prefix": "m.", "refresh_interval": "200ms"}
	var tasks []connector.Source
	for i := range 3 {
		tasks = append(tasks, openOnFleet(t, config, i, 3, fleet))
	}
	everyPartition := func(counts map[string]int32) {
		var recs []*kgo.Record
		for topic, n := range counts {
			for p := range n {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte("v")})
			}
		}
		src.produce(t, recs...)
	}
	owners := func(got [][]connector.Record) map[string]int {
		m := map[string]int{}
		for task, rs := range got {
			for _, r := range rs {
				k := fmt.Sprintf("%s/%d", r.SourcePartition["topic"], r.SourcePartition["partition"])
				if prev, ok := m[k]; ok && prev != task {
					t.Errorf("%s read by tasks %d and %d", k, prev, task)
				}
				m[k] = task
			}
		}
		return m
	}

	everyPartition(map[string]int32{"orders": 3, "other": 1})
	before := owners(pollUntil(t, total(4), tasks...))

	src.createTopic(t, "a", 3)
	everyPartition(map[string]int32{"orders": 3, "other": 1, "a": 3})
	after := owners(pollUntil(t, total(7), tasks...))

	for k, task := range before {
		if after[k] != task {
			t.Errorf("%s moved from task %d to task %d", k, task, after[k])
		}
	}
	// Tasks opened again (a restart, an apply) find every partition where
	// the running tasks had it.
	var reopened []connector.Source
	for i := range 3 {
		reopened = append(reopened, openOnFleet(t, config, i, 3, fleet))
	}
	if diff := cmp.Diff(after, owners(pollUntil(t, total(11), reopened...))); diff != "" {
		t.Errorf("owners after a new Open (-running +reopened):\n%s", diff)
	}
	var ofA []int
	for p := range 3 {
		task, ok := after[fmt.Sprintf("a/%d", p)]
		if !ok {
			t.Fatalf("a/%d was not mirrored", p)
		}
		ofA = append(ofA, task)
	}
	slices.Sort(ofA)
	if !slices.Equal(ofA, []int{0, 1, 2}) {
		t.Errorf("the 3 partitions of a went to tasks %v, want one each", ofA)
	}
}

// TestTaskOfBalanced checks that taskOf deals a topic's partitions as
// evenly as they can be, whatever the topic, and depends on nothing else.
func TestTaskOfBalanced(t *testing.T) {
	for _, topic := range []string{"orders", "other", "a", "events.eu", ""} {
		for tasks := 1; tasks <= 5; tasks++ {
			for n := int32(1); n <= 12; n++ {
				per := make([]int, tasks)
				for p := range n {
					task := kafka.TaskOf(topic, p, tasks)
					if task < 0 || task >= tasks {
						t.Fatalf("TaskOf(%q, %d, %d) = %d", topic, p, tasks, task)
					}
					per[task]++
				}
				if slices.Max(per)-slices.Min(per) > 1 {
					t.Errorf("%q with %d partitions over %d tasks: %v per task", topic, n, tasks, per)
				}
			}
		}
	}
}

// TestRefreshIntervalPositive checks that refresh_interval must be a
// positive duration, on a cluster where the same source with 1s opens.
func TestRefreshIntervalPositive(t *testing.T) {
	src := newCluster(t, map[string]int32{"a": 1})
	for d, ok := range map[string]bool{"1s": true, "0s": false, "-1s": false, "soon": false} {
		s := kafka.Source().NewSource()
		err := s.Open(context.Background(), &connector.TaskContext{Tasks: 1,
			Config: map[string]any{"brokers": src.addrs, "topics": []string{"a"}, "refresh_interval": d}})
		if err == nil {
			s.Close()
		}
		if (err == nil) != ok {
			t.Errorf("refresh_interval %q: Open: %v", d, err)
		}
	}
}
