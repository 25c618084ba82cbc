//go:build long

package worker_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

const fleetRecords = 200000

// origin starts the cluster a mirror reads from, with fleetRecords
// records in a 6-partition topic; each value is its id as 8 bytes.
func origin(t *testing.T) kafka.Config {
	t.Helper()
	_, cfg := kafkatest.Start(t)
	cl, err := kafka.NewClient(cfg, kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(50000))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxFor(t, 120*time.Second)
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), kafka.Topic{Name: "orders", Partitions: 6}); err != nil {
		t.Fatal(err)
	}
	for start := 0; start < fleetRecords; start += 20000 {
		recs := make([]*kgo.Record, 0, 20000)
		for id := start; id < start+20000; id++ {
			v := make([]byte, 8)
			binary.BigEndian.PutUint64(v, uint64(id))
			recs = append(recs, &kgo.Record{Topic: "orders", Key: v, Value: v})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// mirrorConfig is a 6-task mirror of origin's orders into copy.orders.
func mirrorConfig(from kafka.Config, delivery string) string {
	return fmt.Sprintf(`
source "kafka" "mirror" {
  brokers         = [%q]
  topics          = ["orders"]
  topic_prefix    = "copy."
  key_converter   = "bytes"
  value_converter = "bytes"
  tasks           = 6
  delivery        = %q
}
`, from.Brokers[0], delivery)
}

// countIDs reads copy.orders (read_committed) and counts each id.
func (f *fixture) countIDs(t *testing.T) map[uint64]int {
	t.Helper()
	cl, err := kafka.NewClient(f.kcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxFor(t, 60*time.Second)
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, "copy.orders")
	if err != nil {
		return nil
	}
	parts := map[int32]kgo.Offset{}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			parts[o.Partition] = kgo.NewOffset().AtStart()
			want[o.Partition] = o.Offset
		}
	})
	ids := map[uint64]int{}
	if len(parts) == 0 {
		return ids
	}
	c, err := kafka.NewClient(f.kcfg, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"copy.orders": parts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for len(want) > 0 && ctx.Err() == nil {
		c.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() && len(r.Value) == 8 {
				ids[binary.BigEndian.Uint64(r.Value)]++
			}
			if r.Offset >= want[r.Partition]-1 {
				delete(want, r.Partition)
			}
		})
	}
	return ids
}

// taskWorkers maps each task of the mirror to its worker when all six run.
func (f *fixture) taskWorkers() map[int]control.TaskStatus {
	v, err := f.ctl.ReadStatus(context.Background())
	if err != nil {
		return nil
	}
	out := map[int]control.TaskStatus{}
	for i := range 6 {
		ts, ok := v.Tasks["source.kafka.mirror"][i]
		if !ok || ts.State != control.Running {
			return nil
		}
		out[i] = ts
	}
	return out
}

// statusHistory reads every task status record of the mirror in order.
func (f *fixture) statusHistory(t *testing.T) map[int][]control.TaskStatus {
	t.Helper()
	cl, err := kafka.NewClient(f.kcfg, kgo.ConsumeTopics(control.StatusTopic(f.fleet)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[int][]control.TaskStatus{}
	ctx := ctxFor(t, 30*time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if fs.NumRecords() == 0 {
			return out
		}
		fs.EachRecord(func(r *kgo.Record) {
			var s control.TaskStatus
			if r.Value != nil && jsonUnmarshal(r.Value, &s) == nil && s.Pipeline == "source.kafka.mirror" && s.State != "" {
				out[s.Task] = append(out[s.Task], s)
			}
		})
	}
}

// checkNeverTwice fails when a task was reported RUNNING by a worker while
// another live worker's last report of it was RUNNING.
func checkNeverTwice(t *testing.T, history map[int][]control.TaskStatus, dead map[string]bool) {
	for task, recs := range history {
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })
		last := map[string]control.TaskState{}
		for _, r := range recs {
			if r.State == control.Running {
				for w, st := range last {
					if w != r.WorkerID && st == control.Running && !dead[w] {
						t.Errorf("task %d RUNNING on %s while %s still reported it RUNNING", task, r.WorkerID, w)
						for _, h := range recs {
							t.Logf("  task %d: %s %s %s gen %d started %s", task, h.Time.Format("15:04:05.000"), h.WorkerID, h.State, h.Generation, h.Started.Format("15:04:05.000"))
						}
					}
				}
			}
			last[r.WorkerID] = r.State
		}
	}
}

func spreadOK(tw map[int]control.TaskStatus, workers int) (bool, string) {
	per := map[string]int{}
	for _, ts := range tw {
		per[ts.WorkerID]++
	}
	if len(per) != workers {
		return false, fmt.Sprint(per)
	}
	for _, n := range per {
		if n < 6/workers || n > (6+workers-1)/workers {
			return false, fmt.Sprint(per)
		}
	}
	return true, fmt.Sprint(per)
}

func runKill9(t *testing.T, delivery string) {
	from := origin(t)
	f := newFixture(t, "fleet"+delivery[:4])
	f.apply(mirrorConfig(from, delivery))
	ws := []*workerProcess{f.startWorkerProcess(), f.startWorkerProcess(), f.startWorkerProcess()}
	eventually(t, 60*time.Second, "6 tasks spread 2/2/2", func() (bool, string) { return spreadOK(f.taskWorkers(), 3) })
	eventually(t, 120*time.Second, "a quarter of the records mirrored", func() (bool, string) {
		n := len(f.countIDs(t))
		return n > fleetRecords/4, fmt.Sprint(n)
	})
	victim := ws[1]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-victim.done
	victim.done <- nil
	var failover time.Duration
	eventually(t, 90*time.Second, "the dead worker's tasks running elsewhere", func() (bool, string) {
		tw := f.taskWorkers()
		for _, ts := range tw {
			if ts.WorkerID == victim.id {
				return false, "still on " + victim.id
			}
		}
		ok, msg := spreadOK(tw, 2)
		if ok {
			failover = time.Since(killed)
		}
		return ok, msg
	})
	var ids map[uint64]int
	eventually(t, 300*time.Second, "every id mirrored", func() (bool, string) {
		ids = f.countIDs(t)
		return len(ids) == fleetRecords, fmt.Sprintf("%d of %d", len(ids), fleetRecords)
	})
	dups := 0
	for id := range uint64(fleetRecords) {
		if ids[id] == 0 {
			t.Fatalf("id %d lost", id)
		}
		dups += ids[id] - 1
	}
	t.Logf("delivery %s: kill -9 → tasks running elsewhere after %s (session timeout 10 s); %d records, %d duplicates",
		delivery, failover.Round(100*time.Millisecond), fleetRecords, dups)
	if delivery == "exactly_once" && dups != 0 {
		t.Errorf("exactly_once: %d duplicates seen by a read_committed consumer", dups)
	}
	checkNeverTwice(t, f.statusHistory(t), map[string]bool{victim.id: true})
}

// TestLongFleetKill9 runs three worker processes sharing a 6-task
// kafka→kafka mirror of 200,000 records and kill -9s one mid-way.
func TestLongFleetKill9(t *testing.T) { runKill9(t, "at_least_once") }

// TestLongFleetKill9ExactlyOnce is the same with delivery = exactly_once:
// a read_committed consumer sees no duplicate.
func TestLongFleetKill9ExactlyOnce(t *testing.T) { runKill9(t, "exactly_once") }

// TestLongFleetScaleOutAndRollingRestart adds a fourth worker (only the
// moved tasks restart) and then restarts every worker one by one under
// load: no record is lost.
func TestLongFleetScaleOutAndRollingRestart(t *testing.T) {
	from := origin(t)
	f := newFixture(t, "rolling")
	f.apply(mirrorConfig(from, "at_least_once"))
	ws := []*workerProcess{f.startWorkerProcess(), f.startWorkerProcess(), f.startWorkerProcess()}
	var before map[int]control.TaskStatus
	eventually(t, 60*time.Second, "2/2/2", func() (bool, string) {
		before = f.taskWorkers()
		return spreadOK(before, 3)
	})
	ws = append(ws, f.startWorkerProcess())
	var after map[int]control.TaskStatus
	eventually(t, 60*time.Second, "spread over 4 workers", func() (bool, string) {
		after = f.taskWorkers()
		return spreadOK(after, 4)
	})
	moved := 0
	for i, b := range before {
		a := after[i]
		if a.WorkerID != b.WorkerID {
			moved++
			continue
		}
		if !a.Started.Equal(b.Started) {
			t.Errorf("task %d stayed on %s but restarted", i, a.WorkerID)
		}
	}
	if moved != 1 {
		t.Errorf("%d tasks moved to the new worker, want 1 (6 tasks over 4 workers: 2/2/1/1, the fewest moves)", moved)
	}
	for i, w := range ws {
		if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := <-w.done; err != nil {
			t.Fatalf("worker %d exited with %v", i, err)
		}
		w.done <- nil
		ws[i] = f.startWorkerProcess()
		eventually(t, 60*time.Second, fmt.Sprintf("all tasks running after restarting worker %d", i), func() (bool, string) {
			return f.taskWorkers() != nil, ""
		})
	}
	var ids map[uint64]int
	eventually(t, 300*time.Second, "every id mirrored", func() (bool, string) {
		ids = f.countIDs(t)
		return len(ids) == fleetRecords, fmt.Sprintf("%d of %d", len(ids), fleetRecords)
	})
	dups := 0
	for _, n := range ids {
		dups += n - 1
	}
	t.Logf("scale out moved %d tasks; rolling restart of 4 workers: %d records, %d duplicates", moved, fleetRecords, dups)
	checkNeverTwice(t, f.statusHistory(t), nil)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
