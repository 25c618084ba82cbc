package control_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

func newControl(t *testing.T, fleet string) (*control.Control, []kgo.Opt) {
	t.Helper()
	_, cfg := kafkatest.Start(t)
	opts, err := cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	c, err := control.New(fleet, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.EnsureTopics(ctx); err != nil {
		t.Fatal(err)
	}
	return c, opts
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func topicRes(addr, name string, parts int32) *control.Resource {
	return &control.Resource{Address: addr, Kind: control.KindTopic, Topic: &control.TopicSpec{Name: name, Partitions: parts, ReplicationFactor: -1}}
}

func TestCommitAndReadState(t *testing.T) {
	c, _ := newControl(t, "shop")
	ctx := ctxT(t)
	st, err := c.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != control.NoSerial || len(st.Resources) != 0 {
		t.Fatalf("empty fleet: serial %d, %d resources", st.Serial, len(st.Resources))
	}
	a, b := topicRes("topic.a", "a", 3), topicRes("topic.b", "b", 1)
	s1, err := c.Commit(ctx, []control.Change{{Address: "topic.a", Resource: a}, {Address: "topic.b", Resource: b}}, control.NoSerial, control.CommitInfo{By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	st, err = c.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != s1 {
		t.Errorf("serial after commit = %d, Commit returned %d", st.Serial, s1)
	}
	if diff := cmp.Diff(map[string]*control.Resource{"topic.a": a, "topic.b": b}, st.Resources); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if st.Commit == nil || st.Commit.Resources != 2 || st.Commit.By != "test" || st.Commit.Previous != control.NoSerial {
		t.Errorf("commit info = %+v", st.Commit)
	}

	// A commit against the old serial is stale and changes nothing.
	if _, err := c.Commit(ctx, []control.Change{{Address: "topic.a"}}, control.NoSerial, control.CommitInfo{}); !errors.Is(err, control.ErrStaleState) {
		t.Fatalf("stale commit: err = %v, want ErrStaleState", err)
	}
	// Deleting with the right serial removes the resource.
	s2, err := c.Commit(ctx, []control.Change{{Address: "topic.a"}}, s1, control.CommitInfo{})
	if err != nil {
		t.Fatal(err)
	}
	st, err = c.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != s2 || len(st.Resources) != 1 || st.Resources["topic.b"] == nil {
		t.Errorf("after delete: serial %d (want %d), resources %v", st.Serial, s2, st.Resources)
	}
}

// TestConcurrentCommits starts several applies from the same serial at
// once: exactly one lands.
func TestConcurrentCommits(t *testing.T) {
	c, _ := newControl(t, "race")
	ctx := ctxT(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := "topic.t" + string(rune('a'+i))
			_, errs[i] = c.Commit(ctx, []control.Change{{Address: addr, Resource: topicRes(addr, addr, 1)}}, control.NoSerial, control.CommitInfo{})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, control.ErrStaleState):
			t.Errorf("a losing apply failed with %v, want ErrStaleState", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d applies committed, want exactly 1 (errors: %v)", ok, errs)
	}
	st, err := c.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Resources) != 1 {
		t.Errorf("state holds %d resources, want the winner's 1", len(st.Resources))
	}
}

// TestFencedBeforeCommit starts a second apply after the first one wrote
// its records and before it ends its transaction: the second fences the
// first, which must then fail with ErrStaleState, whatever error the
// coordinator gives its commit, and leave nothing in the state. The
// coordinator answers PRODUCER_FENCED when the second apply has already
// committed, and, with KIP-890's retry detection (kfake does it), may
// answer INVALID_TXN_STATE when the second has only just started.
func TestFencedBeforeCommit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		second func(ctx context.Context, c *control.Control, opts []kgo.Opt) error
		want   []string // the resources in the state after both
	}{
		{"committed", func(ctx context.Context, c *control.Control, _ []kgo.Opt) error {
			_, err := c.Commit(ctx, []control.Change{{Address: "topic.b", Resource: topicRes("topic.b", "b", 1)}}, control.NoSerial, control.CommitInfo{})
			return err
		}, []string{"topic.b"}},
		{"started", func(ctx context.Context, c *control.Control, opts []kgo.Opt) error {
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				return err
			}
			defer cl.Close()
			req := kmsg.NewPtrInitProducerIDRequest()
			req.TransactionalID = kmsg.StringPtr(control.ApplyTransactionalID(c.Fleet()))
			req.TransactionTimeoutMillis = 10_000
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				return err
			}
			return kerr.ErrorForCode(resp.ErrorCode)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, opts := newControl(t, "fence")
			ctx := ctxT(t)
			var second error
			started := false
			control.SetEndTransaction(t.Cleanup, func(ctx context.Context, end func() error) error {
				if !started { // not the second apply's own end
					started = true
					second = tc.second(ctx, c, opts)
				}
				return end()
			})
			_, first := c.Commit(ctx, []control.Change{{Address: "topic.a", Resource: topicRes("topic.a", "a", 1)}}, control.NoSerial, control.CommitInfo{})
			if second != nil {
				t.Fatalf("the second apply: %v", second)
			}
			if !errors.Is(first, control.ErrStaleState) {
				t.Fatalf("the fenced apply failed with %v, want ErrStaleState", first)
			}
			st, err := c.ReadState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range st.Sorted() {
				got = append(got, r.Address)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("resources in the state (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCommitAnswerLost: the first EndTxn of an apply commits but its
// answer is lost, and the retry is refused because another apply fenced
// this one in between. The apply committed, and Commit says so.
func TestCommitAnswerLost(t *testing.T) {
	c, _ := newControl(t, "lost")
	ctx := ctxT(t)
	control.SetEndTransaction(t.Cleanup, func(_ context.Context, end func() error) error {
		if err := end(); err != nil {
			return err
		}
		return kerr.ProducerFenced
	})
	serial, err := c.Commit(ctx, []control.Change{{Address: "topic.a", Resource: topicRes("topic.a", "a", 1)}}, control.NoSerial, control.CommitInfo{})
	if err != nil {
		t.Fatalf("Commit = %v, want the serial of its commit", err)
	}
	st, err := c.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != serial || st.Resources["topic.a"] == nil {
		t.Errorf("state at serial %d with %v; Commit returned %d", st.Serial, st.Resources, serial)
	}
}

// TestAbandonedApply leaves a transaction open, as an apply killed midway
// would: readers never see its records and the next apply succeeds.
func TestAbandonedApply(t *testing.T) {
	c, opts := newControl(t, "crash")
	ctx := ctxT(t)
	zombie, err := kgo.NewClient(append(opts, kgo.TransactionalID("crash.apply"), kgo.TransactionTimeout(time.Minute))...)
	if err != nil {
		t.Fatal(err)
	}
	defer zombie.Close()
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	half := &kgo.Record{Topic: c.ConfigsTopic(), Key: []byte(`{"v":1,"kind":"resource","address":"topic.half"}`),
		Value: []byte(`{"v":1,"resource":{"address":"topic.half","kind":"topic","topic":{"name":"half","partitions":1,"replication_factor":-1}},"hash":"x"}`)}
	if err := zombie.ProduceSync(ctx, half).FirstErr(); err != nil {
		t.Fatal(err)
	}
	serial, err := c.Commit(ctx, []control.Change{{Address: "topic.ok", Resource: topicRes("topic.ok", "ok", 1)}}, control.NoSerial, control.CommitInfo{})
	if err != nil {
		t.Fatalf("the apply after an abandoned one failed: %v", err)
	}
	st, err := c.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, leaked := st.Resources["topic.half"]; leaked || st.Resources["topic.ok"] == nil || st.Serial != serial {
		t.Errorf("state = %v (serial %d), want only topic.ok at serial %d", st.Resources, st.Serial, serial)
	}
}

func TestWatchState(t *testing.T) {
	c, _ := newControl(t, "watch")
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	seen := make(chan int64, 10)
	done := make(chan error, 1)
	go func() {
		done <- c.WatchState(ctx, func(st *control.State) { seen <- st.Serial })
	}()
	if s := <-seen; s != control.NoSerial {
		t.Fatalf("first call: serial %d, want NoSerial", s)
	}
	serial, err := c.Commit(ctx, []control.Change{{Address: "topic.a", Resource: topicRes("topic.a", "a", 1)}}, control.NoSerial, control.CommitInfo{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-seen:
		if s != serial {
			t.Errorf("watch saw serial %d, want %d", s, serial)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WatchState did not report the commit")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("WatchState returned %v after cancel", err)
	}
}

func TestOffsets(t *testing.T) {
	c, _ := newControl(t, "offs")
	ctx := ctxT(t)
	p1 := map[string]any{"file": "/a.log"}
	p2 := map[string]any{"file": "/b.log"}
	if err := c.SaveOffsets(ctx, "source.file.x", []control.SourceOffset{{Partition: p1, Offset: map[string]any{"position": 10}}, {Partition: p2, Offset: map[string]any{"position": 5}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveOffsets(ctx, "source.file.x", []control.SourceOffset{{Partition: p1, Offset: map[string]any{"position": 20}}, {Partition: p2}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveOffsets(ctx, "source.file.other", []control.SourceOffset{{Partition: p1, Offset: map[string]any{"position": 99}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.LoadOffsets(ctx, "source.file.x")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]control.SourceOffset{control.PartitionKey(p1): {Partition: p1, Offset: map[string]any{"position": float64(20)}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("offsets (-want +got):\n%s", diff)
	}
}

func TestStatus(t *testing.T) {
	c, _ := newControl(t, "stat")
	ctx := ctxT(t)
	for _, s := range []control.TaskStatus{
		{Pipeline: "source.generator.g", Task: 0, State: control.Running, WorkerID: "w1"},
		{Pipeline: "source.generator.g", Task: 1, State: control.Failed, WorkerID: "w1", Trace: "boom"},
		{Pipeline: "source.generator.g", Task: 0, State: control.Unassigned, WorkerID: "w1"},
	} {
		if err := c.PutTaskStatus(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PutTarget(ctx, "source.generator.g", control.Target{Paused: true}); err != nil {
		t.Fatal(err)
	}
	v, err := c.ReadStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tasks := v.Tasks["source.generator.g"]
	if tasks[0].State != control.Unassigned || tasks[1].State != control.Failed || tasks[1].Trace != "boom" {
		t.Errorf("tasks = %+v", tasks)
	}
	if !v.Targets["source.generator.g"].Paused {
		t.Error("the pause was not recorded")
	}
}
