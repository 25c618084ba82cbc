package worker_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/worker"
)

// TestStatusShowsProblems runs a kafka source whose cluster cannot be
// reached and a file source whose glob matches nothing: while they keep
// trying, the REST API's status (trace, Kafka Connect's shape kept),
// pipectl status's report and pipectl_task_healthy say so; the file
// source becomes healthy once a file appears.
func TestStatusShowsProblems(t *testing.T) {
	f := newFixture(t, "problems")
	logs := filepath.Join(f.dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	f.apply(`
topic "t" {}
source "kafka" "away" {
  brokers      = ["127.0.0.1:1"]
  topics       = ["orders"]
  topic_prefix = "backup."
  errors {
    retry_timeout = "10m"
  }
}
source "file" "logs" {
  paths = ["logs/*.log"]
  topic = topic.t.name
}
`)
	base, _ := f.startWorker()

	taskTrace := func(addr string) (string, string) {
		var s status
		if getJSON(t, base+"/connectors/"+addr+"/status", &s) != 200 || len(s.Tasks) == 0 {
			return "", ""
		}
		return s.Tasks[0].State, s.Tasks[0].Trace
	}
	eventually(t, 60*time.Second, "the unreachable cluster in the kafka source's status", func() (bool, string) {
		state, trace := taskTrace("source.kafka.away")
		return state == "UNASSIGNED" && strings.HasPrefix(trace, "starting: retrying opening the source: ") && strings.Contains(trace, "connection refused"), state + " " + trace
	})
	eventually(t, 60*time.Second, "the glob that matches nothing in the file source's status", func() (bool, string) {
		state, trace := taskTrace("source.file.logs")
		return state == "RUNNING" && trace == "waiting: no file matches "+filepath.Join(logs, "*.log"), state + " " + trace
	})

	r, err := worker.Report(ctxFor(t, 30*time.Second), f.ctl, f.fleet)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Pipelines {
		task := p.Tasks[0]
		switch {
		case p.Healthy || task.Healthy:
			t.Errorf("%s reported healthy: %+v", p.Address, task)
		case p.Address == "source.kafka.away" && (!task.Starting || !strings.Contains(task.Problem, "connection refused") || task.ProblemSince == nil):
			t.Errorf("kafka source: %+v", task)
		case p.Address == "source.file.logs" && (task.State != "RUNNING" || !strings.HasPrefix(task.Problem, "waiting: no file matches")):
			t.Errorf("file source: %+v", task)
		}
	}
	eventually(t, 30*time.Second, "pipectl_task_healthy 0 for both", func() (bool, string) {
		m := metricsText(t, base)
		return strings.Contains(m, `pipectl_task_healthy{pipeline="source.file.logs",task="0"} 0`) &&
			strings.Contains(m, `pipectl_task_healthy{pipeline="source.kafka.away",task="0"} 0`), m
	})

	if err := os.WriteFile(filepath.Join(logs, "app.log"), []byte("a line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the file source healthy once a file matches", func() (bool, string) {
		state, trace := taskTrace("source.file.logs")
		return state == "RUNNING" && trace == "" && strings.Contains(metricsText(t, base), `pipectl_task_healthy{pipeline="source.file.logs",task="0"} 1`), state + " " + trace
	})
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestStatusWorkerSilent checks that pipectl status says how long ago each
// task's worker was last heard from, and that a worker that stopped
// writing (killed with kill -9: its tasks stay RUNNING in the status
// topic) is silent and out of the group, its tasks not healthy.
func TestStatusWorkerSilent(t *testing.T) {
	f := newFixture(t, "silent")
	f.apply(`
topic "t" {}
source "generator" "a" {
  topic = topic.t.name
  rate  = 5
  value = "seq"
}
source "generator" "b" {
  topic = topic.t.name
  rate  = 5
  value = "seq"
}
`)
	f.startWorker()
	ctx := ctxFor(t, 60*time.Second)
	eventually(t, 60*time.Second, "both pipelines running", func() (bool, string) {
		r, err := worker.Report(ctx, f.ctl, f.fleet)
		if err != nil {
			return false, err.Error()
		}
		return len(r.Pipelines) == 2 && r.Pipelines[0].Healthy && r.Pipelines[1].Healthy, fmt.Sprint(r.Pipelines)
	})
	// What a worker killed 30 s ago leaves: its last word, and a task
	// it ran still RUNNING (here b's, as if it had moved there).
	dead := control.WorkerStatus{WorkerID: "127.0.0.1:1", Time: time.Now().Add(-30 * time.Second).UTC(), Interval: 500 * time.Millisecond}
	if err := f.ctl.PutWorkerStatus(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if err := f.ctl.PutTarget(ctx, "source.generator.b", control.Target{Paused: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "b paused", func() (bool, string) {
		r, _ := worker.Report(ctx, f.ctl, f.fleet)
		return r != nil && r.Pipelines[1].Tasks[0].State == "PAUSED", ""
	})
	if err := f.ctl.PutTaskStatus(ctx, control.TaskStatus{Pipeline: "source.generator.b", Task: 0, State: control.Running, WorkerID: dead.WorkerID, Time: dead.Time}); err != nil {
		t.Fatal(err)
	}
	r, err := worker.Report(ctx, f.ctl, f.fleet)
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.Pipelines[0].Tasks[0], r.Pipelines[1].Tasks[0]
	if !a.Healthy || a.WorkerSilent || a.WorkerHeard == nil || r.At.Sub(*a.WorkerHeard) > 20*time.Second {
		t.Errorf("the live worker's task: %+v", a)
	}
	if b.Healthy || !b.WorkerSilent || b.WorkerHeard == nil || r.At.Sub(*b.WorkerHeard) < 29*time.Second {
		t.Errorf("the dead worker's task: %+v", b)
	}
	var silent []string
	for _, w := range r.Workers {
		if w.Silent {
			silent = append(silent, w.WorkerID)
			if w.InGroup == nil || *w.InGroup {
				t.Errorf("the dead worker is in the group: %+v", w)
			}
		} else if w.InGroup == nil || !*w.InGroup {
			t.Errorf("the live worker is not in the group: %+v", w)
		}
	}
	if len(r.Workers) != 2 || len(silent) != 1 || silent[0] != dead.WorkerID {
		t.Errorf("workers %+v; want the live one and the silent %s", r.Workers, dead.WorkerID)
	}
}

// TestCountsSurviveRestart checks that counts run since the pipeline was
// created: a task that restarts for a configuration change goes on from
// its counts instead of starting from zero (the generator, resuming from
// its offsets, has nothing left to produce).
func TestCountsSurviveRestart(t *testing.T) {
	f := newFixture(t, "counts")
	gen := `
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  count = 20
  value = "seq"
  %s
}
`
	f.apply(fmt.Sprintf(gen, ""))
	f.startWorker()
	ctx := ctxFor(t, 60*time.Second)
	out := func(serial int64) (int64, bool) {
		r, err := worker.Report(ctx, f.ctl, f.fleet)
		if err != nil || len(r.Pipelines) == 0 {
			return 0, false
		}
		sv, err := f.ctl.ReadStatus(ctx)
		if err != nil {
			return 0, false
		}
		rec, ok := sv.Tasks["source.generator.g"][0]
		return r.Pipelines[0].Tasks[0].Out, ok && rec.Serial >= serial && rec.State == control.Running
	}
	eventually(t, 60*time.Second, "the 20 records counted", func() (bool, string) {
		n, _ := out(0)
		return n == 20, fmt.Sprint(n)
	})
	f.apply(fmt.Sprintf(gen, `key = "'k'"`))
	st, err := f.ctl.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the restarted task running", func() (bool, string) {
		_, now := out(st.Serial)
		return now, ""
	})
	if n, _ := out(st.Serial); n != 20 {
		t.Errorf("after the restart the task counts %d out; want the 20 it had", n)
	}
}

// TestCountsShowProblems checks what pipectl dev's live view shows of a
// pipeline: a FAILED task keeps its counts and says why it failed (its
// row used to show "failed 0", the task being gone from the worker), and
// a waiting one says what it waits for.
func TestCountsShowProblems(t *testing.T) {
	f := newFixture(t, "devcounts")
	f.apply(`
topic "t" {}
transform "bad" {
  set = { "value.ratio" = "10 / (value.n - value.n)" }
}
source "generator" "bad" {
  topic      = topic.t.name
  value      = "{'n': seq}"
  transforms = [transform.bad]
}
source "file" "none" {
  paths = ["nothing/*.log"]
  topic = topic.t.name
}
`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: f.fleet, Kafka: f.kcfg, Registry: f.reg, Listener: ln, Keys: f.keys, StatusInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	eventually(t, 60*time.Second, "the failed generator's row", func() (bool, string) {
		c := w.Counts()["source.generator.bad"]
		return c.Failed == 1 && strings.HasPrefix(c.Problem, "task 0 FAILED: failed in stage transform: ") && strings.Contains(c.Problem, "division by zero"), fmt.Sprintf("%+v", c)
	})
	// Still so once the worker has forgotten the failed task's counters.
	time.Sleep(500 * time.Millisecond)
	if c := w.Counts()["source.generator.bad"]; c.Failed != 1 || !strings.HasPrefix(c.Problem, "task 0 FAILED: ") {
		t.Errorf("the failed generator's row later: %+v", c)
	}
	eventually(t, 60*time.Second, "the waiting file source's row", func() (bool, string) {
		c := w.Counts()["source.file.none"]
		return strings.HasPrefix(c.Problem, "task 0 waiting: no file matches "), fmt.Sprintf("%+v", c)
	})
}
