package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/kafka"
)

// cluster is an in-process broker on a random port with the given topics
// (name → partitions) created. Its cluster id is kfake's "kfake" unless
// opts set one.
type cluster struct {
	addrs []string
	cl    *kgo.Client
}

func newCluster(t *testing.T, topics map[string]int32, opts ...kfake.Opt) *cluster {
	t.Helper()
	fake, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	c := &cluster{addrs: fake.ListenAddrs()}
	c.cl, err = kgo.NewClient(kgo.SeedBrokers(c.addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.cl.Close)
	for name, partitions := range topics {
		c.createTopic(t, name, partitions)
	}
	return c
}

func (c *cluster) createTopic(t *testing.T, name string, partitions int32) {
	t.Helper()
	resp, err := kadm.NewClient(c.cl).CreateTopic(context.Background(), partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

func (c *cluster) produce(t *testing.T, recs ...*kgo.Record) {
	t.Helper()
	if err := c.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// consume reads n records of topic from the start, sorted by partition
// then offset.
func (c *cluster) consume(t *testing.T, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records of %s", len(got), n, topic)
		}
		got = append(got, fs.Records()...)
	}
	slices.SortFunc(got, func(a, b *kgo.Record) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	return got
}

func ms(n int64) time.Time { return time.UnixMilli(1_790_000_000_000 + n) }

// sourceRecords produces 2 records to each partition of orders (3) and
// one to other (1).
func sourceRecords(t *testing.T, src *cluster) {
	t.Helper()
	var recs []*kgo.Record
	for p := range int32(3) {
		for i := range 2 {
			n := int64(p)*10 + int64(i)
			recs = append(recs, &kgo.Record{
				Topic: "orders", Partition: p, Timestamp: ms(n),
				Key: []byte(fmt.Sprintf("k%d", n)), Value: []byte(fmt.Sprintf(`{"n":%d}`, n)),
				Headers: []kgo.RecordHeader{{Key: "h", Value: []byte(fmt.Sprint(n))}, {Key: "bin", Value: []byte{0xff}}},
			})
		}
	}
	recs = append(recs, &kgo.Record{Topic: "other", Partition: 0, Timestamp: ms(99), Key: nil, Value: nil})
	src.produce(t, recs...)
}

type mirrored struct {
	Key, Value      any
	Encoded         bool
	Headers         []connector.Header
	Topic           string
	Partition       int32
	Timestamp       time.Time
	SourcePartition map[string]any
	SourceOffset    map[string]any
}

func openSource(t *testing.T, config map[string]any, task, tasks int, saved map[string]any) connector.Source {
	t.Helper()
	s := kafka.Source().NewSource()
	tc := &connector.TaskContext{Pipeline: "source.kafka.test", Task: task, Tasks: tasks, Config: config,
		Offset: func(p map[string]any) map[string]any {
			if off, ok := saved[fmt.Sprintf("%s/%d", p["topic"], p["partition"])]; ok {
				return map[string]any{"offset": off}
			}
			return nil
		}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pollN polls until n records came (failing after 10s), sorted by topic,
// partition and offset.
func pollN(t *testing.T, s connector.Source, n int) []mirrored {
	t.Helper()
	var got []mirrored
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d", len(got), n)
		}
		recs, err := s.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// SourceOffset is set on the last record of each source
		// partition in a Poll only: the others take the one after them
		// (the test's records have consecutive offsets).
		var next map[string]any
		for i := len(recs) - 1; i >= 0; i-- {
			r := recs[i]
			last := i == len(recs)-1 || fmt.Sprint(recs[i+1].SourcePartition) != fmt.Sprint(r.SourcePartition)
			switch {
			case last && r.SourceOffset == nil:
				t.Fatalf("the last record of %v in a Poll has no SourceOffset", r.SourcePartition)
			case r.SourceOffset == nil:
				r.SourceOffset = map[string]any{"offset": next["offset"].(int64) - 1}
			}
			next = r.SourceOffset
			recs[i] = r
		}
		for _, r := range recs {
			got = append(got, mirrored{r.Key, r.Value, r.Encoded, r.Headers, r.Topic, r.Partition, r.Timestamp, r.SourcePartition, r.SourceOffset})
		}
	}
	slices.SortFunc(got, func(a, b mirrored) int {
		return cmpKey(a) - cmpKey(b)
	})
	return got
}

func cmpKey(m mirrored) int {
	return int(m.SourcePartition["partition"].(int64))*1000 + int(m.SourceOffset["offset"].(int64)) + map[bool]int{true: 100000}[m.SourcePartition["topic"] == "other"]
}

func wantOrder(topic string, p, i int64) mirrored {
	n := p*10 + i
	return mirrored{
		Key: []byte(fmt.Sprintf("k%d", n)), Value: []byte(fmt.Sprintf(`{"n":%d}`, n)), Encoded: true,
		Headers: []connector.Header{{Key: "h", Value: []byte(fmt.Sprint(n))}, {Key: "bin", Value: []byte{0xff}}, originKfake},
		Topic:   topic, Partition: int32(p), Timestamp: ms(n),
		SourcePartition: map[string]any{"topic": "orders", "partition": p},
		SourceOffset:    map[string]any{"offset": i + 1},
	}
}

// originKfake is the provenance header of a record mirrored from a
// cluster of kfake's default id.
var originKfake = connector.Header{Key: kafka.OriginHeader, Value: []byte("kfake")}

func timeEqual(a, b time.Time) bool { return a.Equal(b) }

func TestSourceMirrors(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 3, "other": 1})
	sourceRecords(t, src)
	config := map[string]any{"brokers": src.addrs, "topics": []string{"orders"}, "topic_prefix": "backup.", "start_from": "earliest"}
	s := openSource(t, config, 0, 1, nil)

	needed := s.(kafka.TopicsNeeder).TopicsNeeded()
	if diff := cmp.Diff([]kafka.TopicRequest{{Name: "backup.orders", Partitions: 3}}, needed); diff != "" {
		t.Errorf("TopicsNeeded (-want +got):\n%s", diff)
	}
	var want []mirrored
	for p := range int64(3) {
		for i := range int64(2) {
			want = append(want, wantOrder("backup.orders", p, i))
		}
	}
	if diff := cmp.Diff(want, pollN(t, s, 6), cmp.Comparer(timeEqual)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSourceResumesAndSplits(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 3, "other": 1, "archive": 1})
	sourceRecords(t, src)
	// Full-match regex: "o.*" takes orders and other, not archive.
	config := map[string]any{"brokers": src.addrs, "topics_regex": "o.*", "topic": "all", "start_from": "earliest"}
	// Saved: orders/0 read whole, orders/1 half; nothing for orders/2 and
	// other/0 (JSON gives numbers back as float64).
	saved := map[string]any{"orders/0": int64(2), "orders/1": float64(1)}

	// Partitions go to task (fnv32a(topic) + partition) % 2: task 0 gets
	// orders/0 and orders/2, task 1 orders/1 and other/0.
	t0 := openSource(t, config, 0, 2, saved)
	if diff := cmp.Diff([]kafka.TopicRequest{{Name: "all", Partitions: 3}}, t0.(kafka.TopicsNeeder).TopicsNeeded()); diff != "" {
		t.Errorf("TopicsNeeded (-want +got):\n%s", diff)
	}
	want0 := []mirrored{wantOrder("all", 2, 0), wantOrder("all", 2, 1)}
	if diff := cmp.Diff(want0, pollN(t, t0, 2), cmp.Comparer(timeEqual)); diff != "" {
		t.Errorf("task 0 (-want +got):\n%s", diff)
	}
	t1 := openSource(t, config, 1, 2, saved)
	want1 := []mirrored{wantOrder("all", 1, 1), {
		Key: nil, Value: nil, Encoded: true, Headers: []connector.Header{originKfake}, Topic: "all", Partition: 0, Timestamp: ms(99),
		SourcePartition: map[string]any{"topic": "other", "partition": int64(0)},
		SourceOffset:    map[string]any{"offset": int64(1)},
	}}
	if diff := cmp.Diff(want1, pollN(t, t1, 2), cmp.Comparer(timeEqual)); diff != "" {
		t.Errorf("task 1 (-want +got):\n%s", diff)
	}

	// New records arrive on the open tasks; nothing is read twice.
	src.produce(t, &kgo.Record{Topic: "orders", Partition: 0, Key: []byte("new"), Value: []byte("v"), Timestamp: ms(500)})
	got := pollN(t, t0, 1)
	if got[0].SourceOffset["offset"] != int64(3) || string(got[0].Key.([]byte)) != "new" {
		t.Errorf("new record: %+v", got[0])
	}
	if recs, err := t1.Poll(context.Background()); err != nil || len(recs) > 0 {
		t.Errorf("task 1 read %d more records (%v)", len(recs), err)
	}
}

func TestSourceStartFromLatest(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 3, "other": 1})
	sourceRecords(t, src)
	s := openSource(t, map[string]any{"brokers": src.addrs, "topics": []string{"orders"}, "start_from": "latest"}, 0, 1, nil)
	if recs, err := s.Poll(context.Background()); err != nil || len(recs) > 0 {
		t.Fatalf("start_from latest read %d old records (%v)", len(recs), err)
	}
	src.produce(t, &kgo.Record{Topic: "orders", Partition: 1, Value: []byte("fresh"), Timestamp: ms(7)})
	got := pollN(t, s, 1)
	if string(got[0].Value.([]byte)) != "fresh" || got[0].Topic != "orders" || got[0].Partition != 1 || got[0].SourceOffset["offset"] != int64(3) {
		t.Errorf("got %+v", got[0])
	}
}

func TestSourceMissingTopic(t *testing.T) {
	src := newCluster(t, nil)
	err := kafka.Source().NewSource().Open(context.Background(), &connector.TaskContext{Tasks: 1,
		Config: map[string]any{"brokers": src.addrs, "topics": []string{"nope"}}})
	if err == nil || !connector.IsRetriable(err) {
		t.Errorf("Open with a missing topic: %v; want a retriable error", err)
	}
}

func openSink(t *testing.T, config map[string]any) connector.Sink {
	t.Helper()
	s := kafka.Sink().NewSink()
	if err := s.Open(context.Background(), &connector.TaskContext{Pipeline: "sink.kafka.test", Tasks: 1, Config: config}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type produced struct {
	Topic      string
	Key, Value []byte
	Headers    []kgo.RecordHeader
	Timestamp  time.Time
}

func TestSinkWritesToOtherCluster(t *testing.T) {
	for _, acks := range []string{"all", "leader"} {
		t.Run(acks, func(t *testing.T) {
			dst := newCluster(t, map[string]int32{"copy.orders": 1})
			s := openSink(t, map[string]any{"brokers": dst.addrs, "topic_prefix": "copy.", "acks": acks})
			records := []connector.Record{
				{Topic: "orders", Key: "k1", Value: map[string]any{"b": int64(1), "a": 1.5}, Timestamp: ms(1),
					Headers: []connector.Header{{Key: "h", Value: []byte("v")}, {Key: "h", Value: []byte{0}}}},
				{Topic: "orders", Key: []byte{1, 2}, Value: "text", Timestamp: ms(2)},
				{Topic: "orders", Key: []byte("wire"), Value: []byte{0xff}, Encoded: true, Timestamp: ms(3)},
				{Topic: "orders", Key: "gone", Value: nil, Timestamp: ms(4)},
			}
			if err := s.Write(context.Background(), records); err != nil {
				t.Fatal(err)
			}
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			var got []produced
			for _, r := range dst.consume(t, "copy.orders", 4) {
				got = append(got, produced{r.Topic, r.Key, r.Value, r.Headers, r.Timestamp})
			}
			want := []produced{
				{"copy.orders", []byte("k1"), []byte(`{"a":1.5,"b":1}`), []kgo.RecordHeader{{Key: "h", Value: []byte("v")}, {Key: "h", Value: []byte{0}}}, ms(1)},
				{"copy.orders", []byte{1, 2}, []byte("text"), nil, ms(2)},
				{"copy.orders", []byte("wire"), []byte{0xff}, nil, ms(3)},
				{"copy.orders", []byte("gone"), nil, nil, ms(4)},
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(timeEqual)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSinkFlushTimeoutIsRetriable(t *testing.T) {
	dst := newCluster(t, nil)
	s := openSink(t, map[string]any{"brokers": dst.addrs, "topic": "missing"})
	if err := s.Write(context.Background(), []connector.Record{{Topic: "orders", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := s.Flush(ctx)
	if err == nil || !connector.IsRetriable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush to a topic that does not exist: %v; want a retriable timeout", err)
	}
}

func TestSinkBadValue(t *testing.T) {
	dst := newCluster(t, map[string]int32{"t": 1})
	s := openSink(t, map[string]any{"brokers": dst.addrs})
	err := s.Write(context.Background(), []connector.Record{{Topic: "t", Value: map[string]any{"f": func() {}}}})
	if err == nil || connector.IsRetriable(err) {
		t.Errorf("Write of a value that cannot be encoded: %v; want a non-retriable error", err)
	}
}

func TestOpenErrors(t *testing.T) {
	for name, config := range map[string]map[string]any{
		"no brokers":       {"topics": []string{"a"}},
		"topics and regex": {"brokers": []string{"127.0.0.1:1"}, "topics": []string{"a"}, "topics_regex": "a"},
		"neither":          {"brokers": []string{"127.0.0.1:1"}},
		"bad regex":        {"brokers": []string{"127.0.0.1:1"}, "topics_regex": "("},
		"bad mechanism":    {"brokers": []string{"127.0.0.1:1"}, "topics": []string{"a"}, "sasl_mechanism": "GSSAPI"},
		"missing ca file":  {"brokers": []string{"127.0.0.1:1"}, "topics": []string{"a"}, "tls_ca_file": "/nonexistent/ca.pem"},
	} {
		if err := kafka.Source().NewSource().Open(context.Background(), &connector.TaskContext{Tasks: 1, Config: config}); err == nil {
			t.Errorf("source %s: Open succeeded", name)
		}
	}
	if err := kafka.Sink().NewSink().Open(context.Background(), &connector.TaskContext{Tasks: 1,
		Config: map[string]any{"brokers": []string{"127.0.0.1:1"}, "acks": "none"}}); err == nil {
		t.Error("sink with acks none: Open succeeded")
	}
}
