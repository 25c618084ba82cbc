package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/control"
)

// running returns, for a pipeline, each task's worker when every task is
// RUNNING, else nil.
func running(t *testing.T, f *fixture, pipeline string, tasks int) map[int]control.TaskStatus {
	v, err := f.ctl.ReadStatus(context.Background())
	if err != nil {
		return nil
	}
	out := map[int]control.TaskStatus{}
	for i := range tasks {
		ts, ok := v.Tasks[pipeline][i]
		if !ok || ts.State != control.Running {
			return nil
		}
		out[i] = ts
	}
	return out
}

func perWorker(m map[int]control.TaskStatus) map[string]int {
	out := map[string]int{}
	for _, ts := range m {
		out[ts.WorkerID]++
	}
	return out
}

// TestFleetSpreadAndHandOver runs three workers: a 6-task pipeline
// spreads 2/2/2; one worker stops cleanly and its tasks move to the two
// others at once, while the tasks that stay are not restarted.
func TestFleetSpreadAndHandOver(t *testing.T) {
	f := newFixture(t, "fleet")
	f.apply(`
topic "t" {
  partitions = 6
}
source "generator" "g" {
  topic = topic.t.name
  rate  = 300
  tasks = 6
  value = "{'id': seq}"
}
`)
	f.startWorker()
	_, stopB := f.startWorker()
	f.startWorker()
	var spread map[int]control.TaskStatus
	eventually(t, 60*time.Second, "6 tasks spread 2/2/2", func() (bool, string) {
		spread = running(t, f, "source.generator.g", 6)
		pw := perWorker(spread)
		ok := len(pw) == 3
		for _, n := range pw {
			ok = ok && n == 2
		}
		return ok, fmt.Sprint(pw)
	})
	stopB()
	var after map[int]control.TaskStatus
	eventually(t, 30*time.Second, "6 tasks on the two workers left, 3/3", func() (bool, string) {
		after = running(t, f, "source.generator.g", 6)
		pw := perWorker(after)
		return len(pw) == 2 && pw[after[0].WorkerID] == 3, fmt.Sprint(pw)
	})
	for i, before := range spread {
		now := after[i]
		if now.WorkerID == before.WorkerID && !now.Started.Equal(before.Started) {
			t.Errorf("task %d stayed on %s but was restarted (%s → %s)", i, now.WorkerID, before.Started, now.Started)
		}
	}
}
