package control

import (
	"context"
	"encoding/json"
	"time"
)

// WorkerStatus is the value of a worker record in the status topic: every
// worker writes its own every status interval, so that status can say how
// long ago each worker was last heard from (a worker killed with kill -9
// keeps its tasks RUNNING in the status topic until the group's session
// timeout moves them). A worker that stops cleanly deletes it.
type WorkerStatus struct {
	V        int       `json:"v"`
	WorkerID string    `json:"worker_id"`
	URL      string    `json:"url,omitempty"`
	Time     time.Time `json:"time"`
	// Interval is how often the worker writes this record.
	Interval time.Duration `json:"interval_ns"`
}

// Silent says how long a worker has not been heard from at now, and
// whether that is longer than it should be: more than two of its status
// intervals.
func (w WorkerStatus) Silent(now time.Time) (time.Duration, bool) {
	d := max(now.Sub(w.Time), 0)
	return d, w.Interval > 0 && d > 2*w.Interval
}

// PutWorkerStatus records that a worker is alive.
func (c *Control) PutWorkerStatus(ctx context.Context, w WorkerStatus) error {
	w.V = FormatVersion
	if w.Time.IsZero() {
		w.Time = time.Now().UTC()
	}
	return c.putStatus(ctx, w.WorkerID, recordKey{V: FormatVersion, Kind: "worker", Address: w.WorkerID}, w)
}

// DeleteWorkerStatus removes a worker's record, when it stops cleanly.
func (c *Control) DeleteWorkerStatus(ctx context.Context, workerID string) error {
	return c.putStatus(ctx, workerID, recordKey{V: FormatVersion, Kind: "worker", Address: workerID}, nil)
}

func (v *StatusView) applyWorker(id string, value []byte) {
	if value == nil {
		delete(v.Workers, id)
		return
	}
	var w WorkerStatus
	if json.Unmarshal(value, &w) == nil {
		v.Workers[id] = w
	}
}
