//go:build long

package worker_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// TestLongSchemaRegistryKill9 has two worker processes take 100 new
// versions each into one subject at once, kill -9s one of them midway,
// retries what it did not answer against a worker started in its place,
// and checks that the subject holds every schema exactly once, with
// versions dense 1..200 and unique ids.
func TestLongSchemaRegistryKill9(t *testing.T) {
	const perWorker = 100
	f := newFixture(t, "srkill")
	a := f.startWorkerProcess()
	b := f.startWorkerProcess()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	client := func(url string) *sr.Client {
		cl, err := sr.NewClient(sr.URLs(url))
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	clA, clB := client(a.url), client(b.url)
	eventually(t, 30*time.Second, "both registries answer", func() (bool, string) {
		_, errA := clA.Subjects(ctx)
		_, errB := clB.Subjects(ctx)
		return errA == nil && errB == nil, fmt.Sprint(errA, errB)
	})
	for _, r := range clA.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, "k") {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	schema := func(i int) string {
		return fmt.Sprintf(`{"type":"record","name":"K%d","fields":[{"name":"f","type":"long"}]}`, i)
	}
	var mu sync.Mutex
	var replacement *sr.Client
	current := func(worker int) *sr.Client {
		mu.Lock()
		defer mu.Unlock()
		if worker == 1 {
			return clB
		}
		if replacement != nil {
			return replacement
		}
		return clA
	}
	ids := make([]int, 2*perWorker)
	var failed, doneA atomic.Int64
	var wg sync.WaitGroup
	for w := range 2 {
		for i := range perWorker {
			n := w*perWorker + i
			wg.Go(func() {
				for ctx.Err() == nil {
					ss, err := current(w).CreateSchema(ctx, "k", sr.Schema{Schema: schema(n)})
					if err == nil {
						ids[n] = ss.ID
						if w == 0 {
							doneA.Add(1)
						}
						return
					}
					failed.Add(1)
					time.Sleep(200 * time.Millisecond)
				}
			})
		}
	}
	eventually(t, 60*time.Second, "a third of worker A's registrations", func() (bool, string) {
		return doneA.Load() >= perWorker/3, fmt.Sprint(doneA.Load())
	})
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	a.done <- nil
	killedAt := doneA.Load()
	c := f.startWorkerProcess()
	mu.Lock()
	replacement = client(c.url)
	mu.Unlock()
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("the registrations did not finish in time")
	}
	t.Logf("worker A killed after %d of its registrations; %d attempts failed and were retried", killedAt, failed.Load())

	vs, err := clB.SubjectVersions(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2*perWorker {
		t.Errorf("subject k has %d versions, want %d", len(vs), 2*perWorker)
	}
	for i, v := range vs {
		if v != i+1 {
			t.Fatalf("versions are not dense: %v", vs)
		}
	}
	seen := map[int]int{}
	for n, id := range ids {
		if prev, dup := seen[id]; dup {
			t.Errorf("id %d answered for schemas %d and %d", id, prev, n)
		}
		seen[id] = n
		for _, cl := range []*sr.Client{clB, replacement} {
			got, err := cl.SchemaByID(ctx, id)
			if err != nil || got.Schema != schema(n) {
				t.Errorf("id %d reads back as %q, %v; want schema %d", id, got.Schema, err, n)
			}
			look, err := cl.LookupSchema(ctx, "k", sr.Schema{Schema: schema(n)})
			if err != nil || look.ID != id {
				t.Errorf("lookup of schema %d: %+v, %v; want id %d", n, look, err, id)
			}
		}
	}
}
