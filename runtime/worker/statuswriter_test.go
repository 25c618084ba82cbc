package worker

import (
	"context"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// TestStatusWriterKeepsWhatTheBrokerMissed writes a task's final status
// while the broker is away: the write fails, the record waits, retry
// writes it once the broker is back, and a newer write of the same task
// replaces a waiting one instead of being overwritten by it later.
func TestStatusWriterKeepsWhatTheBrokerMissed(t *testing.T) {
	dir := t.TempDir()
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	defer func() { b.Close() }()
	opts, err := kafka.Config{Brokers: []string{addr}}.Opts()
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := control.New("fleet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := ctl.EnsureTopics(ctx); err != nil {
		t.Fatal(err)
	}
	a, other := taskKey{"sink.file.out", 0}, taskKey{"sink.file.out", 1}
	status := func(key taskKey, state control.TaskState) *control.TaskStatus {
		return &control.TaskStatus{Pipeline: key.pipeline, Task: key.task, State: state, WorkerID: "w1"}
	}
	if err := newStatusWriter(ctl).write(a, status(a, control.Running)); err != nil {
		t.Fatal(err)
	}

	// A worker that starts while the broker is away cannot even learn the
	// partitions of the status topic: its writes fail at once.
	b.Close()
	ctl2, err := control.New("fleet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl2.Close()
	w := newStatusWriter(ctl2)
	w.timeout = time.Second
	for _, ts := range []*control.TaskStatus{status(a, control.Running), status(a, control.Failed), status(other, control.Unassigned)} {
		if err := w.write(taskKey{ts.Pipeline, ts.Task}, ts); err == nil {
			t.Fatalf("writing %s with no broker succeeded", ts.State)
		}
	}
	all := func(taskKey) bool { return true }
	if n := w.retry(all); n != 2 {
		t.Fatalf("retry with no broker: %d records wait, want 2 (the newest of each task)", n)
	}
	if b, err = kafka.StartBroker(kafka.BrokerConfig{Listen: addr, DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	w.timeout = 30 * time.Second
	if n := w.retry(all); n != 0 {
		t.Fatalf("retry with the broker back: %d records still wait", n)
	}
	v, err := ctl.ReadStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Tasks[a.pipeline][a.task].State; got != control.Failed {
		t.Errorf("task 0 is %s in the status topic, want FAILED (written while the broker was away)", got)
	}
	if got := v.Tasks[other.pipeline][other.task].State; got != control.Unassigned {
		t.Errorf("task 1 is %s in the status topic, want UNASSIGNED", got)
	}

	// A newer write that succeeds clears the waiting one.
	w.pending[a] = status(a, control.Running)
	if err := w.write(a, nil); err != nil {
		t.Fatal(err)
	}
	if n := w.retry(all); n != 0 {
		t.Fatalf("%d records wait after a newer write succeeded", n)
	}
	if v, err = ctl.ReadStatus(ctx); err != nil {
		t.Fatal(err)
	}
	if ts, ok := v.Tasks[a.pipeline][a.task]; ok {
		t.Errorf("task 0 is %s in the status topic, want its status deleted", ts.State)
	}

	// A task that moved to another worker: its waiting record is dropped
	// rather than written over what the new owner wrote; a waiting delete
	// is still written.
	w.pending[a] = status(a, control.Failed)
	w.pending[other] = nil
	moved := control.TaskStatus{Pipeline: a.pipeline, Task: a.task, State: control.Running, WorkerID: "w2"}
	if err := newStatusWriter(ctl).write(a, &moved); err != nil {
		t.Fatal(err)
	}
	if n := w.retry(func(k taskKey) bool { return k != a }); n != 0 {
		t.Fatalf("%d records wait after a retry with the broker up", n)
	}
	if v, err = ctl.ReadStatus(ctx); err != nil {
		t.Fatal(err)
	}
	if ts := v.Tasks[a.pipeline][a.task]; ts.WorkerID != "w2" || ts.State != control.Running {
		t.Errorf("moved task 0 is %s on %q in the status topic, want RUNNING on w2 (its new owner)", ts.State, ts.WorkerID)
	}
	if ts, ok := v.Tasks[other.pipeline][other.task]; ok {
		t.Errorf("task 1 is %s in the status topic, want its waiting delete written", ts.State)
	}
}
