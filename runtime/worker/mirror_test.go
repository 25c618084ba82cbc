package worker_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// mirrorSide is one cluster of an active/active pair: its fixture (fleet
// and broker), a client of its broker and its cluster id.
type mirrorSide struct {
	f  *fixture
	cl *kgo.Client
	id string
}

func newMirrorSide(t *testing.T, fleet string) *mirrorSide {
	t.Helper()
	f := newFixture(t, fleet)
	cl, err := kafka.NewClient(f.kcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	meta, err := kadm.NewClient(cl).BrokerMetadata(ctxFor(t, 10*time.Second))
	if err != nil || meta.Cluster == "" {
		t.Fatalf("cluster id %q: %v", meta.Cluster, err)
	}
	return &mirrorSide{f: f, cl: cl, id: meta.Cluster}
}

// records reads topic whole and returns "value origin" of each record
// ("-" for one without a provenance header), in partition order.
func (s *mirrorSide) records(t *testing.T, topic string) []string {
	t.Helper()
	ctx := ctxFor(t, 20*time.Second)
	ends, err := kadm.NewClient(s.cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	cl, err := kafka.NewClient(s.f.kcfg, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if _, ok := left[r.Partition]; !ok {
				return
			}
			origin := "-"
			for _, h := range r.Headers {
				if h.Key == "pipectl.mirror.origin" {
					origin = string(h.Value)
				}
			}
			out = append(out, string(r.Value)+" "+origin)
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
		})
	}
	return out
}

func (s *mirrorSide) produce(t *testing.T, values ...string) {
	t.Helper()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: "orders", Value: []byte(v)})
	}
	if err := s.cl.ProduceSync(ctxFor(t, 10*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestActiveActive runs two fleets on two brokers, east and west, each
// with a worker whose kafka source mirrors the other's orders (the pair of
// a disaster-recovery setup), under the identity and default policies.
// Records produced on both sides appear once on the other side, with the
// origin's cluster id, and never come back. To know that nothing loops
// without waiting a fixed time, each side then produces a marker: a
// single partition keeps order, so once each marker has crossed, every
// record before it in the other side's topic was read by the mirror (and
// skipped, or handed on) before the marker was. Under identity, a mirror
// whose source topic ends with records it skipped still saves the offset
// past them.
func TestActiveActive(t *testing.T) {
	for _, policy := range []string{"identity", "default"} {
		t.Run(policy, func(t *testing.T) {
			east, west := newMirrorSide(t, "dr-east"), newMirrorSide(t, "dr-west")
			config := func(from *mirrorSide, fromAlias, toAlias string) string {
				aliases, copies := "", ""
				if policy == "default" {
					aliases = fmt.Sprintf("source_alias = %q\n  target_alias = %q", fromAlias, toAlias)
					// The copies, declared: the other side's mirror sees
					// them at its Open and must leave them out by name.
					copies = fmt.Sprintf("topic \"copies\" {\n  name       = \"%s.orders\"\n  partitions = 1\n}\n", fromAlias)
				}
				return fmt.Sprintf(`
topic "orders" {
  partitions = 1
}
%s
source "kafka" "from_%s" {
  brokers            = [%q]
  topics_regex       = "(.+\\.)?orders"
  replication_policy = %q
  %s
  key_converter      = "bytes"
  value_converter    = "bytes"
}
`, copies, fromAlias, from.f.kcfg.Brokers[0], policy, aliases)
			}
			east.f.apply(config(west, "west", "east"))
			west.f.apply(config(east, "east", "west"))
			east.produce(t, "e0", "e1", "e2")
			west.produce(t, "w0", "w1", "w2")
			east.f.startWorker()
			west.f.startWorker()
			east.produce(t, "e3", "e4")
			west.produce(t, "w3", "w4")

			// Where each side's records land on the other.
			copyOf := func(alias string) string {
				if policy == "default" {
					return alias + ".orders"
				}
				return "orders"
			}
			eventually(t, 60*time.Second, "the first records crossed", func() (bool, string) {
				e, w := east.records(t, copyOf("west")), west.records(t, copyOf("east"))
				return slices.Contains(e, "w4 "+west.id) && slices.Contains(w, "e4 "+east.id), fmt.Sprintf("east %v, west %v", e, w)
			})
			// West's marker first, then east's: west's orders ends with a
			// copy from east, which east's mirror reads last and skips.
			west.produce(t, "west-marker")
			eventually(t, 60*time.Second, "west's marker crossed", func() (bool, string) {
				e := east.records(t, copyOf("west"))
				return slices.Contains(e, "west-marker "+west.id), fmt.Sprintf("east %v", e)
			})
			east.produce(t, "east-marker")
			eventually(t, 60*time.Second, "east's marker crossed", func() (bool, string) {
				w := west.records(t, copyOf("east"))
				return slices.Contains(w, "east-marker "+east.id), fmt.Sprintf("west %v", w)
			})
			if policy == "identity" {
				// East's mirror saves its offset past the records it
				// skipped, the last ones of west's orders among them.
				end := int64(len(west.records(t, "orders")))
				eventually(t, 30*time.Second, "east's mirror saved the end of west's orders", func() (bool, string) {
					offs, err := east.f.ctl.LoadOffsets(ctxFor(t, 10*time.Second), "source.kafka.from_west")
					if err != nil {
						return false, err.Error()
					}
					for _, o := range offs {
						return fmt.Sprint(o.Offset["offset"]) == fmt.Sprint(end), fmt.Sprintf("%v, want %d", o.Offset, end)
					}
					return false, "no offset"
				})
			}

			for _, side := range []struct {
				name        string
				s, other    *mirrorSide
				own, others string
			}{{"east", east, west, "e", "w"}, {"west", west, east, "w", "e"}} {
				var own, copies []string
				for i := range 5 {
					own = append(own, fmt.Sprintf("%s%d -", side.own, i))
					copies = append(copies, fmt.Sprintf("%s%d %s", side.others, i, side.other.id))
				}
				own = append(own, side.name+"-marker -")
				otherName := map[string]string{"east": "west", "west": "east"}[side.name]
				copies = append(copies, otherName+"-marker "+side.other.id)
				want := map[string][]string{"orders": own}
				if policy == "identity" {
					want["orders"] = append(own, copies...)
				} else {
					want[otherName+".orders"] = copies
				}
				for topic, w := range want {
					got := side.s.records(t, topic)
					slices.Sort(got)
					slices.Sort(w)
					if !slices.Equal(w, got) {
						t.Errorf("%s of %s holds %d records %v; want %d: %v", topic, side.name, len(got), got[:min(len(got), 20)], len(w), w)
					}
				}
				// No topic of a loop ("east.west.orders") was created.
				topics, err := kadm.NewClient(side.s.cl).ListTopics(ctxFor(t, 10*time.Second))
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range topics.Names() {
					if strings.HasSuffix(name, ".orders") && want[name] == nil {
						t.Errorf("%s has topic %s", side.name, name)
					}
				}
			}
		})
	}
}
