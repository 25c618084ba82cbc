package worker

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/pipectl/pipectl/runtime/control"
)

// statusWriteTimeout bounds one write to the status topic.
const statusWriteTimeout = 5 * time.Second

// statusWriter writes the task status records of this worker to the status
// topic: one task's records in the order they were written, and, when a
// write fails (the broker was away before the record could be sent: a
// record already sent waits for the broker, as the idempotent producer
// must), the task's newest record is kept and written again by retry,
// unless a newer write of that task succeeds first. So a final record
// (FAILED, UNASSIGNED, PAUSED) written while the broker restarts is not
// lost. A waiting record of a task this worker no longer runs is dropped
// instead (retry's owns): written late, it would hide what the task's new
// owner wrote since. Deletes always wait for their turn.
type statusWriter struct {
	ctl     *control.Control
	timeout time.Duration // of one write

	mu      sync.Mutex
	locks   map[taskKey]*sync.Mutex // orders the writes of one task
	pending map[taskKey]*control.TaskStatus
}

func newStatusWriter(ctl *control.Control) *statusWriter {
	return &statusWriter{ctl: ctl, timeout: statusWriteTimeout, locks: map[taskKey]*sync.Mutex{}, pending: map[taskKey]*control.TaskStatus{}}
}

func (w *statusWriter) lock(key taskKey) *sync.Mutex {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		w.locks[key] = l
	}
	return l
}

// write writes a task's status, or deletes it when ts is nil.
func (w *statusWriter) write(key taskKey, ts *control.TaskStatus) error {
	l := w.lock(key)
	l.Lock()
	defer l.Unlock()
	return w.put(key, ts)
}

// put writes and records the outcome; the caller holds the task's lock.
func (w *statusWriter) put(key taskKey, ts *control.TaskStatus) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	var err error
	if ts == nil {
		err = w.ctl.DeleteTaskStatus(ctx, key.pipeline, key.task)
	} else {
		err = w.ctl.PutTaskStatus(ctx, *ts)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.pending[key] = ts
	} else {
		delete(w.pending, key)
	}
	return err
}

// retry writes the records whose write failed, in task key order, and
// stops at the first failure (the broker is still away). It drops the
// records of tasks that owns says this worker no longer runs, and returns
// how many are still waiting.
func (w *statusWriter) retry(owns func(taskKey) bool) int {
	w.mu.Lock()
	keys := make([]taskKey, 0, len(w.pending))
	for key := range w.pending {
		keys = append(keys, key)
	}
	w.mu.Unlock()
	slices.SortFunc(keys, compareKeys)
	for _, key := range keys {
		l := w.lock(key)
		l.Lock()
		w.mu.Lock()
		ts, ok := w.pending[key]
		if ok && ts != nil && !owns(key) {
			delete(w.pending, key)
			ok = false
		}
		w.mu.Unlock()
		var err error
		if ok {
			err = w.put(key, ts)
		}
		l.Unlock()
		if err != nil {
			break
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

func compareKeys(a, b taskKey) int {
	if a.pipeline != b.pipeline {
		if a.pipeline < b.pipeline {
			return -1
		}
		return 1
	}
	return a.task - b.task
}
