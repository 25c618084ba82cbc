package control

import (
	"encoding/json"
	"fmt"
	"time"
)

// FormatVersion is the version of every record format in the control
// topics. A reader skips records of a newer version with a warning.
const FormatVersion = 1

// recordKey is the key of every record of the three control topics.
// encoding/json writes struct fields in order and map keys sorted, so keys
// are canonical and compaction keeps one record per identity.
type recordKey struct {
	V         int            `json:"v"`
	Kind      string         `json:"kind"` // configs: resource, commit; offsets: offset; status: task, target
	Address   string         `json:"address,omitempty"`
	Task      *int           `json:"task,omitempty"`
	Partition map[string]any `json:"partition,omitempty"`
	Topic     string         `json:"topic,omitempty"` // status: topic (a topic a pipeline used)
}

func (k recordKey) bytes() []byte {
	b, err := json.Marshal(k)
	if err != nil {
		panic(fmt.Sprintf("control: key does not marshal: %v", err))
	}
	return b
}

func parseKey(b []byte) (recordKey, error) {
	var k recordKey
	if err := json.Unmarshal(b, &k); err != nil {
		return k, fmt.Errorf("malformed control record key: %w", err)
	}
	return k, nil
}

// resourceValue is the value of a resource record in the configs topic; a
// deleted resource is a tombstone (null value).
type resourceValue struct {
	V        int       `json:"v"`
	Resource *Resource `json:"resource"`
	Hash     string    `json:"hash"`
}

// CommitInfo describes one apply; it is the value of the commit record
// that closes the apply's transaction.
type CommitInfo struct {
	V         int       `json:"v"`
	Time      time.Time `json:"time"`
	By        string    `json:"by,omitempty"`         // user@host that applied
	Changed   []string  `json:"changed"`              // addresses written or deleted
	Resources int       `json:"resources"`            // resources in state after the apply
	Previous  int64     `json:"previous_serial"`      // the serial it replaced (-1: none)
	ConfigSHA string    `json:"config_sha,omitempty"` // hash of the configuration, for plan files
}

// offsetValue is the value of a source offset record.
type offsetValue struct {
	V      int            `json:"v"`
	Offset map[string]any `json:"offset"`
}

// TaskState is the state of a task or pipeline, as in Kafka Connect.
type TaskState string

// The task states.
const (
	Unassigned TaskState = "UNASSIGNED"
	Running    TaskState = "RUNNING"
	Paused     TaskState = "PAUSED"
	Failed     TaskState = "FAILED"
	Stopped    TaskState = "STOPPED"
)

// TaskStatus is the value of a task status record.
type TaskStatus struct {
	V          int       `json:"v"`
	Pipeline   string    `json:"pipeline"`
	Task       int       `json:"task"`
	State      TaskState `json:"state"`
	WorkerID   string    `json:"worker_id"`
	Trace      string    `json:"trace,omitempty"`
	Generation int64     `json:"generation"` // the assignment generation that wrote it
	Serial     int64     `json:"serial"`     // the state serial the task ran
	Time       time.Time `json:"time"`
	Started    time.Time `json:"started,omitempty"` // when the task started
	// Counts since the pipeline was created: a task that starts again
	// (a configuration change, a move to another worker) goes on from
	// its last record; a replacement starts from zero.
	In       int64 `json:"records_in"`
	Out      int64 `json:"records_out"`
	Filtered int64 `json:"records_filtered"`
	Failed   int64 `json:"records_failed"`
	// OutAtStart is Out when the task started, for its rate.
	OutAtStart int64 `json:"records_out_at_start,omitempty"`
	// Starting is set on the record of a task that the worker runs and
	// that has not opened yet (its State is UNASSIGNED): it is not
	// released to another worker.
	Starting bool `json:"starting,omitempty"`
	// Problem is what keeps the task from doing its work while it keeps
	// trying ("retrying opening the source: …", "waiting: no file
	// matches …"), since ProblemSince; "" when it has none.
	Problem      string    `json:"problem,omitempty"`
	ProblemSince time.Time `json:"problem_since,omitzero"`
	// Lag is, on the RUNNING record of a source that reports it
	// (connector.LagReporter), how many records its outside system holds
	// past the last ones polled, over all its source partitions; nil
	// otherwise. LagSeconds is the largest age of a partition's last
	// polled record when it was polled (0: caught up).
	Lag        *int64  `json:"lag,omitempty"`
	LagSeconds float64 `json:"lag_seconds,omitempty"`
}

// Healthy reports whether the task does its work: RUNNING with no
// problem.
func (s TaskStatus) Healthy() bool { return s.State == Running && s.Problem == "" && !s.Starting }

// Target is the value of an operational target record: pause, stop and
// resume from pipectl pause/stop/resume or the REST API. It survives
// restarts and applies. A stop sets Paused as well as Stopped, so that a
// worker of a pipectl that knows no STOPPED state pauses the pipeline.
type Target struct {
	V       int       `json:"v"`
	Paused  bool      `json:"paused"`
	Stopped bool      `json:"stopped,omitempty"`
	Time    time.Time `json:"time"`
	By      string    `json:"by,omitempty"`
}

// State is what the target asks of the pipeline: Running, Paused or
// Stopped.
func (t Target) State() TaskState {
	switch {
	case t.Stopped:
		return Stopped
	case t.Paused:
		return Paused
	}
	return Running
}

// Desired is the state a pipeline is asked to be in: Running, Paused or
// Stopped. An operational target (pipectl pause/stop/resume, the REST
// API) wins over the HCL state attribute.
func Desired(res *Resource, sv *StatusView) TaskState {
	if sv != nil {
		if t, ok := sv.Targets[res.Address]; ok {
			return t.State()
		}
	}
	switch {
	case res.Pipeline == nil:
		return Running
	case res.Pipeline.Stopped:
		return Stopped
	case res.Pipeline.Paused:
		return Paused
	}
	return Running
}

// TopicUse is the value of a topic record (KIP-558): a pipeline used the
// topic, first seen by Task at Time; a tombstone forgets it
// (PUT /connectors/{c}/topics/reset).
type TopicUse struct {
	V     int       `json:"v"`
	Topic string    `json:"topic"`
	Task  int       `json:"task"`
	Time  time.Time `json:"discover_time"`
}

// LoggerLevel is the value of a logger record: a log level set with
// scope=cluster (KIP-976), which every worker applies when it reads it,
// including workers that start later. Its key names the logger.
type LoggerLevel struct {
	V      int       `json:"v"`
	Logger string    `json:"logger"`
	Level  string    `json:"level"` // a log4j level name: TRACE … OFF
	Time   time.Time `json:"time"`
	By     string    `json:"by,omitempty"`
}

// RestartRequest is the value of a restart request record: restart a
// pipeline's task (Task >= 0) or all its tasks (Task = -1), only the
// failed ones with OnlyFailed. The worker that runs a task acts on a
// request newer than the task's start.
type RestartRequest struct {
	V          int       `json:"v"`
	Task       int       `json:"task"`
	OnlyFailed bool      `json:"only_failed,omitempty"`
	Time       time.Time `json:"time"`
	By         string    `json:"by,omitempty"`
}
