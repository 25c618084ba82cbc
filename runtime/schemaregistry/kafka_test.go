package schemaregistry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
	"github.com/pipectl/pipectl/runtime/schemaregistry"
)

// startKafka starts n registries of fleet on one kfake broker.
func startKafka(t *testing.T, fleet string, n int) ([]*schemaregistry.Kafka, []kgo.Opt) {
	return startKafkaTB(t, fleet, n)
}

func startKafkaTB(t testing.TB, fleet string, n int) ([]*schemaregistry.Kafka, []kgo.Opt) {
	t.Helper()
	_, kcfg := kafkatest.Start(t)
	opts, err := kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), control.InternalTopics(fleet)...); err != nil {
		t.Fatal(err)
	}
	var regs []*schemaregistry.Kafka
	for range n {
		regs = append(regs, runKafka(t, fleet, opts))
	}
	return regs, opts
}

func runKafka(t testing.TB, fleet string, opts []kgo.Opt) *schemaregistry.Kafka {
	t.Helper()
	r, err := schemaregistry.NewKafka(fleet, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("registry: %v", err)
		}
		r.Close()
	})
	return r
}

func distinct(i int) connector.RegistrySchema {
	return connector.RegistrySchema{Schema: fmt.Sprintf(`{"type":"record","name":"R%d","fields":[{"name":"f","type":"long"}]}`, i)}
}

// TestConcurrentRegistrations has two registries on one broker register
// 100 new versions at once, into one subject and then into four: the ids
// are unique, the versions dense, nothing is lost, and a registry that
// reads the log afresh builds the same state.
func TestConcurrentRegistrations(t *testing.T) {
	regs, opts := startKafka(t, "race", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := regs[0].SetCompatibility(ctx, "", schemaregistry.None); err != nil {
		t.Fatal(err)
	}
	const n = 100
	type result struct {
		schema int
		ss     connector.SubjectSchema
	}
	register := func(subjects func(i int) string) []result {
		var mu sync.Mutex
		var out []result
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				ss, err := regs[i%2].Register(ctx, subjects(i), distinct(i+len(subjects(0))*1000))
				if err != nil {
					t.Errorf("register %d: %v", i, err)
					return
				}
				mu.Lock()
				out = append(out, result{i, ss})
				mu.Unlock()
			})
		}
		wg.Wait()
		return out
	}
	check := func(name string, res []result, subjects []string) {
		t.Helper()
		ids := map[int]int{}
		versions := map[string]map[int]bool{}
		for _, r := range res {
			if prev, dup := ids[r.ss.ID]; dup {
				t.Errorf("%s: id %d given to schemas %d and %d", name, r.ss.ID, prev, r.schema)
			}
			ids[r.ss.ID] = r.schema
			if versions[r.ss.Subject] == nil {
				versions[r.ss.Subject] = map[int]bool{}
			}
			if versions[r.ss.Subject][r.ss.Version] {
				t.Errorf("%s: version %d of %s given twice", name, r.ss.Version, r.ss.Subject)
			}
			versions[r.ss.Subject][r.ss.Version] = true
		}
		if len(res) != n {
			t.Errorf("%s: %d registrations answered, want %d", name, len(res), n)
		}
		for _, s := range subjects {
			for _, reg := range regs {
				vs, err := reg.Versions(ctx, s, false)
				if err != nil {
					t.Fatal(err)
				}
				if len(vs) != len(versions[s]) {
					t.Errorf("%s: %s has versions %v, the registrations got %d", name, s, vs, len(versions[s]))
				}
				for i, v := range vs {
					if v != i+1 {
						t.Errorf("%s: %s's versions are not dense: %v", name, s, vs)
						break
					}
				}
			}
		}
		for id, schema := range ids {
			for _, reg := range regs {
				got, err := reg.SchemaByID(ctx, id)
				if err != nil || got.Schema != distinct(schema+len(subjects[0])*1000).Schema {
					t.Errorf("%s: id %d reads back as %q, %v", name, id, got.Schema, err)
				}
			}
		}
	}
	one := register(func(int) string { return "one" })
	check("one subject", one, []string{"one"})
	four := register(func(i int) string { return fmt.Sprintf("s%d", i%4) })
	check("four subjects", four, []string{"s0", "s1", "s2", "s3"})
	maxID := 0
	for _, r := range append(one, four...) {
		maxID = max(maxID, r.ss.ID)
	}
	if maxID != 2*n {
		t.Errorf("the highest id is %d, want %d (ids are dense too)", maxID, 2*n)
	}

	// A registry that starts now reads the same state from the log.
	fresh := runKafka(t, "race", opts)
	for _, s := range []string{"one", "s0", "s1", "s2", "s3"} {
		want, err := regs[0].Versions(ctx, s, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range want {
			a, err1 := regs[0].Version(ctx, s, v, false)
			b, err2 := fresh.Version(ctx, s, v, false)
			if err1 != nil || err2 != nil || a.ID != b.ID || a.Schema != b.Schema {
				t.Errorf("%s v%d: %+v %v, fresh %+v %v", s, v, a, err1, b, err2)
			}
		}
	}
	lost := countLostClaims(t, opts, control.SchemasTopic("race"))
	t.Logf("%d registrations by 2 registries at once: %d lost claims withdrawn and claimed again", 2*n, lost)
}

// countLostClaims counts the withdrawn claims ({}) of topic.
func countLostClaims(t *testing.T, opts []kgo.Opt, topic string) int {
	t.Helper()
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	lost := 0
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) == "{}" {
				lost++
			}
			if r.Value == nil {
				t.Errorf("a tombstone at offset %d: the registry writes none", r.Offset)
			}
			done = done || r.Offset >= end.Offset-1
		})
		if done {
			return lost
		}
	}
}
