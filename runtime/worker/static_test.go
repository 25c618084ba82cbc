package worker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/worker"
)

// liveWorker is a worker of a test, with its Run's end.
type liveWorker struct {
	w    *worker.Worker
	stop context.CancelFunc
	done chan error
}

// startWorkerWith runs a worker with the fixture's settings plus id and
// the group timeouts, until the test ends.
func (f *fixture) startWorkerWith(id string, session, rebalance time.Duration) *liveWorker {
	f.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: f.fleet, Kafka: f.kcfg, Registry: f.reg, Listener: ln, Keys: f.keys, ID: id,
		StatusInterval: 500 * time.Millisecond, SessionTimeout: session, RebalanceTimeout: rebalance})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lw := &liveWorker{w: w, stop: cancel, done: make(chan error, 1)}
	go func() { lw.done <- w.Run(ctx) }()
	f.t.Cleanup(func() {
		cancel()
		select {
		case <-lw.done:
		case <-time.After(20 * time.Second):
			f.t.Error("a worker did not stop within 20 s")
		}
	})
	return lw
}

// kill stops w as kill -9 would, as far as the fleet's group sees it: no
// LeaveGroup, no more heartbeats.
func (lw *liveWorker) kill(t *testing.T) {
	t.Helper()
	lw.w.DropMembership()
	lw.stop()
	select {
	case <-lw.done:
		lw.done <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("the killed worker did not stop within 20 s")
	}
}

// groupInstances lists the instance ids of the fleet's worker group's
// members ("" for a member without one).
func (f *fixture) groupInstances(t *testing.T) []string {
	t.Helper()
	opts, err := f.kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	adm, err := kadm.NewOptClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	group := control.WorkersGroup(f.fleet)
	described, err := adm.DescribeGroups(ctxFor(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range described[group].Members {
		id := ""
		if m.InstanceID != nil {
			id = *m.InstanceID
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

const twoTasks = `
topic "t" {
  partitions = 2
}
source "generator" "g" {
  topic = topic.t.name
  rate  = 100
  tasks = 2
  value = "{'id': seq}"
}
`

// spreadOver waits until the two tasks of twoTasks run one on each worker
// and returns the task that runs on id.
func spreadOver(t *testing.T, f *fixture, id string) int {
	t.Helper()
	task := -1
	eventually(t, 60*time.Second, "2 tasks spread 1/1", func() (bool, string) {
		r := running(t, f, "source.generator.g", 2)
		pw := perWorker(r)
		for i, ts := range r {
			if ts.WorkerID == id {
				task = i
			}
		}
		return len(pw) == 2 && task >= 0, fmt.Sprint(pw)
	})
	return task
}

// TestStaticMemberRestart kills a worker (its member stays in the group)
// and starts it again with the same id: it replaces its old member at once
// and runs its task again. The session and rebalance timeouts are a
// minute, longer than the test waits, so that only static membership can
// explain the task's return: a new dynamic member would wait for the dead
// one to expire.
func TestStaticMemberRestart(t *testing.T) {
	f := newFixture(t, "static")
	f.apply(twoTasks)
	const long = 60 * time.Second
	f.startWorkerWith("a", long, long)
	b := f.startWorkerWith("b", long, long)
	task := spreadOver(t, f, "b")
	b.kill(t)
	killed := time.Now()
	f.startWorkerWith("b", long, long)
	eventually(t, 30*time.Second, "the restarted worker b running its task again", func() (bool, string) {
		r := running(t, f, "source.generator.g", 2)
		ts, ok := r[task]
		return ok && ts.WorkerID == "b" && ts.Started.After(killed), fmt.Sprint(r)
	})
	t.Logf("the restarted worker ran its task %s after the kill", time.Since(killed).Round(10*time.Millisecond))
	if got, want := f.groupInstances(t), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("the worker group's members have instance ids %q, want %q: the restarted worker replaces its old member", got, want)
	}
}

// TestDeadWorkerFailsOver kills a worker that does not come back: the
// coordinator expires its member after the session timeout and its task
// moves to the other worker.
func TestDeadWorkerFailsOver(t *testing.T) {
	f := newFixture(t, "deadworker")
	f.apply(twoTasks)
	const session = 6 * time.Second // the embedded broker's minimum
	f.startWorkerWith("a", session, 15*time.Second)
	b := f.startWorkerWith("b", session, 15*time.Second)
	spreadOver(t, f, "b")
	b.kill(t)
	killed := time.Now()
	eventually(t, 45*time.Second, "both tasks running on a", func() (bool, string) {
		pw := perWorker(running(t, f, "source.generator.g", 2))
		return pw["a"] == 2, fmt.Sprint(pw)
	})
	t.Logf("both tasks on a %s after the kill", time.Since(killed).Round(10*time.Millisecond))
	if got, want := f.groupInstances(t), []string{"a"}; !slices.Equal(got, want) {
		t.Errorf("the worker group's members have instance ids %q, want %q", got, want)
	}
}

// TestDuplicateWorkerID starts a second worker with the id of a running
// one: the newer takes the id's place in the group, and the older is
// fenced: it stops its tasks and its Run ends with ErrFenced.
func TestDuplicateWorkerID(t *testing.T) {
	f := newFixture(t, "dupid")
	f.apply(twoTasks)
	first := f.startWorkerWith("dup", 10*time.Second, 15*time.Second)
	eventually(t, 60*time.Second, "both tasks running on dup", func() (bool, string) {
		pw := perWorker(running(t, f, "source.generator.g", 2))
		return pw["dup"] == 2, fmt.Sprint(pw)
	})
	f.startWorkerWith("dup", 10*time.Second, 15*time.Second)
	select {
	case err := <-first.done:
		if !errors.Is(err, worker.ErrFenced) {
			t.Fatalf("the first worker's Run returned %v, want ErrFenced", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first worker was not fenced within 30 s")
	}
	first.done <- nil // for the cleanup
	eventually(t, 30*time.Second, "both tasks running on the second dup", func() (bool, string) {
		pw := perWorker(running(t, f, "source.generator.g", 2))
		return pw["dup"] == 2, fmt.Sprint(pw)
	})
	if got, want := f.groupInstances(t), []string{"dup"}; !slices.Equal(got, want) {
		t.Errorf("the worker group's members have instance ids %q, want %q", got, want)
	}
}
