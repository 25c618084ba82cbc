package kafka_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/kafka"
)

// openMirror opens a kafka source task that reads src and runs for the
// fleet's cluster fleet, as a worker of fleet runs it.
func openMirror(t *testing.T, src, fleet *cluster, config map[string]any, saved map[string]any) connector.Source {
	t.Helper()
	config["brokers"] = src.addrs
	s := kafka.Source().NewSource()
	tc := &connector.TaskContext{Pipeline: "source.kafka.policy", Tasks: 1, Config: config,
		Cluster: &connector.Cluster{Brokers: fleet.addrs},
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

func origin(id string) kgo.RecordHeader {
	return kgo.RecordHeader{Key: kafka.OriginHeader, Value: []byte(id)}
}

// TestReplicationPolicyNames checks the target topics of each policy, and
// that the default policy with a target alias leaves out the topics that
// came from the target by their name (MirrorMaker 2's cycle detection),
// "x.dst.orders" too but not "dstx.orders".
func TestReplicationPolicyNames(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 2, "dst.orders": 1, "x.dst.orders": 1, "dstx.orders": 1}, kfake.ClusterID("src"))
	fleet := newCluster(t, nil, kfake.ClusterID("dst"))
	src.produce(t, &kgo.Record{Topic: "orders", Partition: 1, Value: []byte("v"), Timestamp: ms(1)})
	for _, tc := range []struct {
		name   string
		config map[string]any
		needed []string
		orders string // target of orders
	}{
		{"prefix", map[string]any{"topics": []string{"orders"}, "topic_prefix": "backup."}, []string{"backup.orders"}, "backup.orders"},
		{"prefix fixed", map[string]any{"topics": []string{"orders"}, "replication_policy": "prefix", "topic": "all"}, []string{"all"}, "all"},
		{"default", map[string]any{"topics_regex": ".*", "replication_policy": "default", "source_alias": "src"},
			[]string{"src.dst.orders", "src.dstx.orders", "src.orders", "src.x.dst.orders"}, "src.orders"},
		{"default with target alias", map[string]any{"topics_regex": ".*", "replication_policy": "default", "source_alias": "src", "target_alias": "dst"},
			[]string{"src.dstx.orders", "src.orders"}, "src.orders"},
		{"identity", map[string]any{"topics_regex": ".*", "replication_policy": "identity"},
			[]string{"dst.orders", "dstx.orders", "orders", "x.dst.orders"}, "orders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openMirror(t, src, fleet, tc.config, nil)
			var needed []string
			for _, r := range s.(kafka.TopicsNeeder).TopicsNeeded() {
				needed = append(needed, r.Name)
			}
			slices.Sort(needed)
			if diff := cmp.Diff(tc.needed, needed); diff != "" {
				t.Errorf("TopicsNeeded (-want +got):\n%s", diff)
			}
			got := pollN(t, s, 1)
			want := []connector.Header{{Key: kafka.OriginHeader, Value: []byte("src")}}
			if got[0].Topic != tc.orders || got[0].Partition != 1 || !cmp.Equal(want, got[0].Headers) {
				t.Errorf("mirrored orders/1 to %s/%d with headers %v; want %s/1 with %v", got[0].Topic, got[0].Partition, got[0].Headers, tc.orders, want)
			}
		})
	}
}

// TestSourceSkipsRecordsFromTheFleet checks, under each policy, that a
// record whose provenance header is the fleet's cluster is skipped (handed
// on as its position only, Record.Skip, so that its offset is saved), that
// others keep their provenance header or get the source's, and that a
// restart from the offset of a skipped record goes on after it.
func TestSourceSkipsRecordsFromTheFleet(t *testing.T) {
	for _, policy := range []string{"prefix", "default", "identity"} {
		t.Run(policy, func(t *testing.T) {
			src := newCluster(t, map[string]int32{"orders": 1}, kfake.ClusterID("src"))
			fleet := newCluster(t, nil, kfake.ClusterID("dst"))
			config := func() map[string]any {
				c := map[string]any{"topics": []string{"orders"}, "replication_policy": policy}
				if policy == "default" {
					c["source_alias"] = "src"
				}
				return c
			}
			rec := func(v string, hs ...kgo.RecordHeader) *kgo.Record {
				return &kgo.Record{Topic: "orders", Value: []byte(v), Headers: hs, Timestamp: ms(1)}
			}
			src.produce(t,
				rec("local"),                // offset 0
				rec("back", origin("dst")),  // 1: came from the fleet
				rec("chain", origin("x")),   // 2: came from x through src
				rec("again", origin("dst")), // 3
				rec("mine", origin("src")),  // 4
				rec("tail", origin("dst")),  // 5: skipped at the end
			)
			s := openMirror(t, src, fleet, config(), nil)
			type seen struct {
				Value   string
				Skip    bool
				Headers []connector.Header
				Offset  any
			}
			// The position is on the last record of a partition in a
			// Poll: the one after it.
			poll := func(first, n int) []seen {
				var got []seen
				recs := pollRecords(t, s, n)
				for i, r := range recs {
					off := r.SourceOffset["offset"]
					if off != nil && off != int64(first+i+1) {
						t.Errorf("record %d carries offset %v; want %d", first+i, off, first+i+1)
					}
					if i < len(recs)-1 {
						off = nil
					}
					got = append(got, seen{string(r.Value.([]byte)), r.Skip, r.Headers, off})
				}
				return got
			}
			hdr := func(id string) []connector.Header {
				return []connector.Header{{Key: kafka.OriginHeader, Value: []byte(id)}}
			}
			want := []seen{
				{"local", false, hdr("src"), nil},
				{"back", true, nil, nil},
				{"chain", false, hdr("x"), nil},
				{"again", true, nil, nil},
				{"mine", false, hdr("src"), nil},
				{"tail", true, nil, int64(6)},
			}
			if diff := cmp.Diff(want, poll(0, 6)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			if recs, err := s.Poll(context.Background()); err != nil || len(recs) > 0 {
				t.Fatalf("polled %d more records (%v)", len(recs), err)
			}
			s.Close()

			// A restart from the offset "tail" saved goes on after it.
			src.produce(t, rec("new"))
			s = openMirror(t, src, fleet, config(), map[string]any{"orders/0": int64(6)})
			if diff := cmp.Diff([]seen{{"new", false, hdr("src"), int64(7)}}, poll(6, 1)); diff != "" {
				t.Errorf("after the restart (-want +got):\n%s", diff)
			}
		})
	}
}

// pollRecords polls s until n records came (failing after 10s), in the
// order Poll returned them.
func pollRecords(t *testing.T, s connector.Source, n int) []connector.Record {
	t.Helper()
	var got []connector.Record
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d", len(got), n)
		}
		recs, err := s.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, recs...)
	}
	return got
}

// TestSourceOnTheFleetsClusterUnchanged checks that a mirror whose
// brokers are the fleet's own cluster adds no provenance header (it is a
// copy within one cluster), and that identity refuses it: it would write
// every record back to its own topic.
func TestSourceOnTheFleetsClusterUnchanged(t *testing.T) {
	fleet := newCluster(t, map[string]int32{"orders": 1}, kfake.ClusterID("dst"))
	fleet.produce(t, &kgo.Record{Topic: "orders", Value: []byte("v"), Headers: []kgo.RecordHeader{origin("dst")}, Timestamp: ms(1)},
		&kgo.Record{Topic: "orders", Value: []byte("w"), Timestamp: ms(2)})
	s := openMirror(t, fleet, fleet, map[string]any{"topics": []string{"orders"}, "topic_prefix": "copy."}, nil)
	got := pollN(t, s, 2)
	want := [][]connector.Header{{{Key: kafka.OriginHeader, Value: []byte("dst")}}, nil}
	if diff := cmp.Diff(want, [][]connector.Header{got[0].Headers, got[1].Headers}); diff != "" || got[0].Topic != "copy.orders" {
		t.Errorf("copied to %s, headers (-want +got):\n%s", got[0].Topic, diff)
	}
	err := kafka.Source().NewSource().Open(context.Background(), &connector.TaskContext{Tasks: 1,
		Config:  map[string]any{"brokers": fleet.addrs, "topics": []string{"orders"}, "replication_policy": "identity"},
		Cluster: &connector.Cluster{Brokers: fleet.addrs}})
	if err == nil || connector.IsRetriable(err) || !strings.Contains(err.Error(), "fleet's own cluster") {
		t.Errorf("identity onto the fleet's own cluster: %v; want a permanent error", err)
	}
	err = kafka.Source().NewSource().Open(context.Background(), &connector.TaskContext{Tasks: 1,
		Config: map[string]any{"brokers": fleet.addrs, "topics": []string{"orders"}, "replication_policy": "identity"}})
	if err == nil || !strings.Contains(err.Error(), "must both have one") {
		t.Errorf("identity without the fleet's cluster: %v", err)
	}
}

// pump runs one direction of an active/active pair as a worker would:
// it polls the source task and produces what it gets to the target
// cluster, until ctx is done. empty counts the Polls that returned no
// record to write.
type pump struct {
	src   connector.Source
	to    *cluster
	empty atomic.Int64
	mu    sync.Mutex
	err   error // the first error of a Poll or a produce
}

func (p *pump) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail(err)
}

func (p *pump) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *pump) run(ctx context.Context) {
	for ctx.Err() == nil {
		recs, err := p.src.Poll(ctx)
		if err != nil {
			if ctx.Err() == nil {
				p.fail(err)
			}
			return
		}
		var out []*kgo.Record
		for _, r := range recs {
			if r.Skip {
				continue // the worker writes nothing for it
			}
			key, _ := connector.WireBytes(r.Key)
			value, _ := connector.WireBytes(r.Value)
			kr := &kgo.Record{Topic: r.Topic, Partition: r.Partition, Timestamp: r.Timestamp, Key: key, Value: value}
			for _, h := range r.Headers {
				kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			out = append(out, kr)
		}
		if len(out) == 0 {
			p.empty.Add(1)
			continue
		}
		if err := p.to.cl.ProduceSync(ctx, out...).FirstErr(); err != nil {
			if ctx.Err() == nil {
				p.fail(err)
			}
			return
		}
	}
}

// ends returns the number of records of each topic of c (its end offsets
// summed over the partitions).
func (c *cluster) ends(t *testing.T, topics ...string) map[string]int64 {
	t.Helper()
	offs, err := kadm.NewClient(c.cl).ListEndOffsets(context.Background(), topics...)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int64{}
	offs.Each(func(o kadm.ListedOffset) { n[o.Topic] += o.Offset })
	return n
}

// values reads every record of topic and returns "value origin" of each,
// sorted; origin is "-" without a provenance header.
func (c *cluster) values(t *testing.T, topic string, n int64) []string {
	t.Helper()
	var out []string
	for _, r := range c.consume(t, topic, int(n)) {
		o := "-"
		for _, h := range r.Headers {
			if h.Key == kafka.OriginHeader {
				o = string(h.Value)
			}
		}
		out = append(out, string(r.Value)+" "+o)
	}
	slices.Sort(out)
	return out
}

// TestActiveActive mirrors two clusters, A and B, into each other (a task
// A→B and a task B→A) under the identity and default policies while
// records are produced on both: each record appears once on the other
// side and nothing loops. After both sides hold what they should, every
// task polls three more times without a record and the counts stay.
func TestActiveActive(t *testing.T) {
	for _, policy := range []string{"identity", "default"} {
		t.Run(policy, func(t *testing.T) {
			a := newCluster(t, map[string]int32{"orders": 2}, kfake.ClusterID("A"))
			b := newCluster(t, map[string]int32{"orders": 2}, kfake.ClusterID("B"))
			config := func(from, to string) map[string]any {
				c := map[string]any{"topics_regex": ".*", "replication_policy": policy}
				if policy == "default" {
					c["source_alias"], c["target_alias"] = from, to
				}
				return c
			}
			// What each cluster ends with: topic → "value origin".
			clusters := map[string]*cluster{"A": a, "B": b}
			want := map[string]map[string][]string{"A": {}, "B": {}}
			const n = 10
			var waves [2][]string
			for i := range n {
				waves[i*2/n] = append(waves[i*2/n], fmt.Sprint(i))
			}
			for _, w := range waves {
				for _, i := range w {
					if policy == "identity" {
						want["A"]["orders"] = append(want["A"]["orders"], "a"+i+" -", "b"+i+" B")
						want["B"]["orders"] = append(want["B"]["orders"], "b"+i+" -", "a"+i+" A")
					} else {
						want["A"]["orders"] = append(want["A"]["orders"], "a"+i+" -")
						want["A"]["B.orders"] = append(want["A"]["B.orders"], "b"+i+" B")
						want["B"]["orders"] = append(want["B"]["orders"], "b"+i+" -")
						want["B"]["A.orders"] = append(want["B"]["A.orders"], "a"+i+" A")
					}
				}
			}
			if policy == "default" {
				// The worker creates the targets (TopicsNeeded); here they
				// exist before the tasks open, so that each task's
				// topics_regex sees the other's target and must leave it
				// out by its name.
				a.createTopic(t, "B.orders", 2)
				b.createTopic(t, "A.orders", 2)
			}
			ab := &pump{src: openMirror(t, a, b, config("A", "B"), nil), to: b}
			ba := &pump{src: openMirror(t, b, a, config("B", "A"), nil), to: a}
			for p, wantNeeded := range map[*pump]string{ab: "orders", ba: "orders"} {
				if policy == "default" {
					wantNeeded = map[*pump]string{ab: "A.orders", ba: "B.orders"}[p]
				}
				if diff := cmp.Diff([]kafka.TopicRequest{{Name: wantNeeded, Partitions: 2}}, p.src.(kafka.TopicsNeeder).TopicsNeeded()); diff != "" {
					t.Errorf("TopicsNeeded (-want +got):\n%s", diff)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for _, p := range []*pump{ab, ba} {
				wg.Go(func() { p.run(ctx) })
			}
			defer wg.Wait()
			defer cancel()

			produce := func(i string) {
				p := int32(i[len(i)-1]-'0') % 2
				a.produce(t, &kgo.Record{Topic: "orders", Partition: p, Key: []byte("k"), Value: []byte("a" + i), Timestamp: ms(1)})
				b.produce(t, &kgo.Record{Topic: "orders", Partition: 1 - p, Key: []byte("k"), Value: []byte("b" + i), Timestamp: ms(2)})
			}
			counts := func() map[string]map[string]int64 {
				got := map[string]map[string]int64{}
				for c, topics := range want {
					got[c] = clusters[c].ends(t, slices.Sorted(maps.Keys(topics))...)
				}
				return got
			}
			wantCounts := func(upTo int) map[string]map[string]int64 {
				out := map[string]map[string]int64{}
				for c, topics := range want {
					out[c] = map[string]int64{}
					for name, vs := range topics {
						out[c][name] = int64(len(vs) * upTo / n)
					}
				}
				return out
			}
			caughtUp := func(upTo int) {
				t.Helper()
				deadline := time.Now().Add(30 * time.Second)
				for {
					got, wantN := counts(), wantCounts(upTo)
					if cmp.Equal(wantN, got) {
						return
					}
					for c := range wantN {
						for name := range wantN[c] {
							if got[c][name] > wantN[c][name] {
								t.Fatalf("after %d records on each side, %s of %s holds %d records, more than %d: a loop", upTo, name, c, got[c][name], wantN[c][name])
							}
						}
					}
					if time.Now().After(deadline) || ab.Err() != nil || ba.Err() != nil {
						t.Fatalf("after %d records on each side: counts %v, want %v (errors %v, %v)", upTo, got, wantN, ab.Err(), ba.Err())
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			// The first wave, then the second while the tasks run.
			for _, i := range waves[0] {
				produce(i)
			}
			caughtUp(len(waves[0]))
			for _, i := range waves[1] {
				produce(i)
			}
			caughtUp(n)

			// Caught up: three more Polls on each side, then the counts
			// must be the same (a loop would have added records).
			marks := [2]int64{ab.empty.Load(), ba.empty.Load()}
			deadline := time.Now().Add(30 * time.Second)
			for ab.empty.Load() < marks[0]+3 || ba.empty.Load() < marks[1]+3 {
				if time.Now().After(deadline) {
					t.Fatalf("the tasks kept polling records: %v", counts())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if diff := cmp.Diff(wantCounts(n), counts()); diff != "" {
				t.Fatalf("counts changed after the tasks caught up (-want +got):\n%s", diff)
			}
			cancel()
			wg.Wait()
			if ab.Err() != nil || ba.Err() != nil {
				t.Fatalf("pumps: %v, %v", ab.Err(), ba.Err())
			}
			for c, topics := range want {
				for name, vs := range topics {
					slices.Sort(vs)
					if diff := cmp.Diff(vs, clusters[c].values(t, name, int64(len(vs)))); diff != "" {
						t.Errorf("%s of %s (-want +got):\n%s", name, c, diff)
					}
				}
			}
		})
	}
}

// TestPolicyRules checks the rules of the policy attributes as validate
// and Open see them (the schema's groups and Check).
func TestPolicyRules(t *testing.T) {
	remote := []string{"b:9092"}
	type failure struct{ Attribute, Summary string }
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   []failure
	}{
		{"prefix by default", map[string]any{"brokers": remote, "topics": []string{"a"}, "topic_prefix": "x."}, nil},
		{"prefix named", map[string]any{"brokers": remote, "topics": []string{"a"}, "replication_policy": "prefix", "topic_prefix": "x."}, nil},
		{"default", map[string]any{"brokers": remote, "topics": []string{"a", "A.a"}, "replication_policy": "default", "source_alias": "us-east", "target_alias": "eu_1"}, nil},
		{"identity", map[string]any{"brokers": remote, "topics_regex": ".*", "replication_policy": "identity"}, nil},
		{"prefix with default", map[string]any{"brokers": remote, "topics": []string{"a"}, "replication_policy": "default", "source_alias": "s", "topic_prefix": "x."},
			[]failure{{"replication_policy", "Conflicting arguments"}}},
		{"topic with identity", map[string]any{"brokers": remote, "topics": []string{"a"}, "replication_policy": "identity", "topic": "x"},
			[]failure{{"replication_policy", "Conflicting arguments"}}},
		{"identity without brokers", map[string]any{"topics": []string{"a"}, "replication_policy": "identity"},
			[]failure{{"", "Missing required argument"}, {"replication_policy", "Missing required argument"}}},
		{"default without source_alias", map[string]any{"brokers": remote, "topics": []string{"a"}, "replication_policy": "default"},
			[]failure{{"replication_policy", "Missing required argument"}}},
		{"aliases without default", map[string]any{"brokers": remote, "topics": []string{"a"}, "replication_policy": "identity", "source_alias": "s", "target_alias": "t"},
			[]failure{{"source_alias", "Unused argument"}, {"target_alias", "Unused argument"}}},
		{"bad aliases", map[string]any{"brokers": remote, "topics": []string{"a"}, "replication_policy": "default", "source_alias": "us.east", "target_alias": "a b"},
			[]failure{{"source_alias", "Invalid cluster alias"}, {"target_alias", "Invalid cluster alias"}}},
		{"same alias", map[string]any{"brokers": remote, "topics": []string{"a"}, "replication_policy": "default", "source_alias": "s", "target_alias": "s"},
			[]failure{{"target_alias", "Same alias for both clusters"}}},
		{"listed topic from the target", map[string]any{"brokers": remote, "topics": []string{"a", "t.a", "x.t.a"}, "replication_policy": "default", "source_alias": "s", "target_alias": "t"},
			[]failure{{"topics", "Mirror back"}, {"topics", "Mirror back"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []failure
			for _, e := range kafka.SourceSchema.CheckGroups(tc.values) {
				got = append(got, failure{e.Attribute, e.Summary})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// A sensitive alias is never quoted.
	errs := kafka.SourceSchema.CheckGroups(map[string]any{"brokers": remote, "topics": []string{"a"}, "replication_policy": "default",
		"source_alias": configschema.Sensitive{Value: "secret.alias"}})
	if len(errs) != 1 || strings.Contains(errs[0].Detail, "secret") || !strings.Contains(errs[0].Detail, configschema.Redacted) {
		t.Errorf("errors %v", errs)
	}
}

// TestSourceRestoresOwnRecords checks that skip_own_records = false copies
// the records that came from the fleet's cluster, as a restore from the
// copy needs, keeping their origin.
func TestSourceRestoresOwnRecords(t *testing.T) {
	src := newCluster(t, map[string]int32{"backup.orders": 1}, kfake.ClusterID("src"))
	fleet := newCluster(t, nil, kfake.ClusterID("dst"))
	src.produce(t, &kgo.Record{Topic: "backup.orders", Value: []byte("back"), Headers: []kgo.RecordHeader{origin("dst")}, Timestamp: ms(1)})
	s := openMirror(t, src, fleet, map[string]any{"topics": []string{"backup.orders"}, "topic": "orders", "skip_own_records": false}, nil)
	got := pollRecords(t, s, 1)
	want := []connector.Header{{Key: kafka.OriginHeader, Value: []byte("dst")}}
	if got[0].Skip || got[0].Topic != "orders" || !cmp.Equal(want, got[0].Headers) {
		t.Errorf("restored record: skip %v, topic %s, headers %v; want it copied to orders with its origin", got[0].Skip, got[0].Topic, got[0].Headers)
	}
}

// TestSourceNeverWritesFleetTopics checks that a mirror whose targets keep
// their names leaves out the origin's topics that would land on the
// fleet's internal topics, or on a mirror's own.
func TestSourceNeverWritesFleetTopics(t *testing.T) {
	src := newCluster(t, map[string]int32{"orders": 1, "dr.configs": 1, "dr.offsets": 1, "dr.status": 1, "x.mirror.m.checkpoints": 1})
	fleet := newCluster(t, nil)
	s := kafka.Source().NewSource()
	tc := &connector.TaskContext{Pipeline: "source.kafka.all", Fleet: "dr", Tasks: 1,
		Config:  map[string]any{"brokers": src.addrs, "topics_regex": ".*", "topic_prefix": ""},
		Cluster: &connector.Cluster{Brokers: fleet.addrs}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if diff := cmp.Diff([]kafka.TopicRequest{{Name: "orders", Partitions: 1}}, s.(kafka.TopicsNeeder).TopicsNeeded()); diff != "" {
		t.Errorf("TopicsNeeded (-want +got):\n%s", diff)
	}
}
