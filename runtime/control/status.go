package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// StatusView is what the status topic says: every task's last status and
// every pipeline's operational target.
type StatusView struct {
	Tasks    map[string]map[int]TaskStatus     // by pipeline, then task
	Targets  map[string]Target                 // by pipeline
	Restarts map[string]map[int]RestartRequest // by pipeline, then task (-1: all)
	Workers  map[string]WorkerStatus           // by worker id: when each was last heard from
	Topics   map[string]map[string]TopicUse    // by pipeline, then topic: the topics it used (KIP-558)
	Loggers  map[string]LoggerLevel            // by logger: cluster-scoped log levels (KIP-976)
}

func newStatusView() *StatusView {
	return &StatusView{Tasks: map[string]map[int]TaskStatus{}, Targets: map[string]Target{}, Restarts: map[string]map[int]RestartRequest{},
		Workers: map[string]WorkerStatus{}, Topics: map[string]map[string]TopicUse{}, Loggers: map[string]LoggerLevel{}}
}

func (v *StatusView) apply(r *kgo.Record) {
	k, err := parseKey(r.Key)
	if err != nil || k.V > FormatVersion {
		return
	}
	switch k.Kind {
	case "task":
		if k.Task == nil {
			return
		}
		if r.Value == nil {
			delete(v.Tasks[k.Address], *k.Task)
			return
		}
		var s TaskStatus
		if json.Unmarshal(r.Value, &s) != nil {
			return
		}
		if v.Tasks[k.Address] == nil {
			v.Tasks[k.Address] = map[int]TaskStatus{}
		}
		v.Tasks[k.Address][*k.Task] = s
	case "restart":
		var rr RestartRequest
		if r.Value == nil || json.Unmarshal(r.Value, &rr) != nil {
			return
		}
		if v.Restarts[k.Address] == nil {
			v.Restarts[k.Address] = map[int]RestartRequest{}
		}
		v.Restarts[k.Address][rr.Task] = rr
	case "worker":
		v.applyWorker(k.Address, r.Value)
	case "logger":
		var l LoggerLevel
		if r.Value == nil || json.Unmarshal(r.Value, &l) != nil || l.Logger != k.Address {
			delete(v.Loggers, k.Address)
			return
		}
		v.Loggers[k.Address] = l
	case "topic":
		if k.Topic == "" {
			return
		}
		var u TopicUse
		if r.Value == nil || json.Unmarshal(r.Value, &u) != nil {
			delete(v.Topics[k.Address], k.Topic)
			return
		}
		if v.Topics[k.Address] == nil {
			v.Topics[k.Address] = map[string]TopicUse{}
		}
		v.Topics[k.Address][k.Topic] = u
	case "target":
		if r.Value == nil {
			delete(v.Targets, k.Address)
			return
		}
		var t Target
		if json.Unmarshal(r.Value, &t) == nil {
			v.Targets[k.Address] = t
		}
	}
}

// PutTaskStatus records a task's status.
func (c *Control) PutTaskStatus(ctx context.Context, s TaskStatus) error {
	s.V = FormatVersion
	if s.Time.IsZero() {
		s.Time = time.Now().UTC()
	}
	task := s.Task
	return c.putStatus(ctx, s.Pipeline, recordKey{V: FormatVersion, Kind: "task", Address: s.Pipeline, Task: &task}, s)
}

// DeleteTaskStatus removes a task's status (its pipeline was deleted or
// shrank).
func (c *Control) DeleteTaskStatus(ctx context.Context, pipeline string, task int) error {
	return c.putStatus(ctx, pipeline, recordKey{V: FormatVersion, Kind: "task", Address: pipeline, Task: &task}, nil)
}

// PutTarget records an operational pause (Paused), stop (Stopped, with
// Paused) or resume (neither).
func (c *Control) PutTarget(ctx context.Context, pipeline string, t Target) error {
	t.V = FormatVersion
	if t.Time.IsZero() {
		t.Time = time.Now().UTC()
	}
	return c.putStatus(ctx, pipeline, recordKey{V: FormatVersion, Kind: "target", Address: pipeline}, t)
}

// PutLoggerLevel records a cluster-scoped log level for every worker.
func (c *Control) PutLoggerLevel(ctx context.Context, l LoggerLevel) error {
	l.V = FormatVersion
	if l.Time.IsZero() {
		l.Time = time.Now().UTC()
	}
	return c.putStatus(ctx, l.Logger, recordKey{V: FormatVersion, Kind: "logger", Address: l.Logger}, l)
}

// PutTopicUse records that a pipeline used a topic (KIP-558).
func (c *Control) PutTopicUse(ctx context.Context, pipeline string, u TopicUse) error {
	u.V = FormatVersion
	if u.Time.IsZero() {
		u.Time = time.Now().UTC()
	}
	return c.putStatus(ctx, pipeline, recordKey{V: FormatVersion, Kind: "topic", Address: pipeline, Topic: u.Topic}, u)
}

// ResetTopics forgets that a pipeline used the topics.
func (c *Control) ResetTopics(ctx context.Context, pipeline string, topics []string) error {
	for _, t := range topics {
		if err := c.putStatus(ctx, pipeline, recordKey{V: FormatVersion, Kind: "topic", Address: pipeline, Topic: t}, nil); err != nil {
			return err
		}
	}
	return nil
}

// PutRestart asks the workers to restart a pipeline's task (task >= 0)
// or all its tasks (task = -1); the one that runs each acts on it.
func (c *Control) PutRestart(ctx context.Context, pipeline string, r RestartRequest) error {
	r.V = FormatVersion
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	task := r.Task
	return c.putStatus(ctx, pipeline, recordKey{V: FormatVersion, Kind: "restart", Address: pipeline, Task: &task}, r)
}

func (c *Control) putStatus(ctx context.Context, pipeline string, key recordKey, value any) error {
	p, err := c.partitionFor(ctx, c.StatusTopic(), pipeline)
	if err != nil {
		return err
	}
	r := &kgo.Record{Topic: c.StatusTopic(), Partition: p, Key: key.bytes()}
	if value != nil {
		b, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("control: encode status of %s: %w", pipeline, err)
		}
		r.Value = b
	}
	if err := c.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("control: write status of %s: %w", pipeline, err)
	}
	return nil
}

// ReadStatus reads the status topic up to its end.
func (c *Control) ReadStatus(ctx context.Context) (*StatusView, error) {
	v := newStatusView()
	if _, err := c.readToEndFrom(ctx, c.StatusTopic(), nil, false, v.apply); err != nil {
		return nil, err
	}
	return v, nil
}

// WatchStatus calls fn with the status view once it has read up to the end
// and then after every batch of new status records, until ctx ends.
func (c *Control) WatchStatus(ctx context.Context, fn func(*StatusView)) error {
	v := newStatusView()
	ends, err := c.readToEndFrom(ctx, c.StatusTopic(), nil, false, v.apply)
	if err != nil {
		return err
	}
	fn(v)
	from := map[int32]kgo.Offset{}
	for p, end := range ends {
		from[p] = kgo.NewOffset().At(end)
	}
	return c.tail(ctx, c.StatusTopic(), from, false, func(fetches kgo.Fetches) error {
		if fetches.NumRecords() > 0 {
			fetches.EachRecord(v.apply)
			fn(v)
		}
		return nil
	})
}
