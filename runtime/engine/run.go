package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// TaskArgs is what Run needs to run one task.
type TaskArgs struct {
	Pipeline *Pipeline
	Task     int // this task's index, from 0
	// Fleet is the fleet's name; a sink's consumer group is
	// control.SinkGroup(Fleet, address).
	Fleet string
	// Producer writes to the fleet cluster: a source's records and every
	// dead-letter record (a sink with tolerance none needs none). It must
	// be idempotent and partition with Partitioner, so that a source
	// record's Partition is honoured. Run never flushes or closes it:
	// tasks share it.
	Producer *kgo.Client
	// NewConsumer builds a client of the fleet cluster with the options
	// Run adds (group, topics, no autocommit, read_committed, reset
	// offset); sinks only. Run closes it.
	NewConsumer func(opts ...kgo.Opt) (*kgo.Client, error)
	// Admin creates the dead-letter topic and a source's missing target
	// topics. nil: Run creates no topic.
	Admin *kadm.Client
	// Offsets loads and saves source offsets; sources only.
	Offsets OffsetStore
	// Counters receives the task's progress; nil: Run keeps its own.
	Counters *Counters
	// Logger receives the task's log, with pipeline and task attributes
	// added; nil: none.
	Logger *slog.Logger
	// FlushInterval is how often, at most, a sink flushes and commits
	// while records arrive (also on every rebalance and at stop; a
	// connector.Committer is asked what to commit instead, also while no
	// record arrives);
	// 0: the pipeline's commit_interval (lang.DefaultCommitInterval when
	// it sets none).
	FlushInterval time.Duration
	// StopTimeout bounds what a clean stop does after ctx ends: finishing
	// the write or produce in progress, flushing, saving or committing
	// offsets; then leaving the group takes up to 2 s more. 0:
	// DefaultStopTimeout.
	StopTimeout time.Duration
	// NewTransactionalProducer builds the task's own transactional
	// producer on the fleet cluster, for a source with delivery =
	// "exactly_once": each batch, its dead-letter records and its source
	// offsets are written in one transaction. Its transactional id must be
	// the task's alone, so that a newer run of the task fences an older
	// one. It must partition with Partitioner. Run closes it.
	NewTransactionalProducer func() (*kgo.Client, error)
	// ObserveBatch, when set, receives how long each batch took: a
	// source's poll through acknowledgement is not included, only the
	// processing of a polled or fetched batch (transforms, converters,
	// hand-over to the producer or the sink's Write).
	ObserveBatch func(time.Duration)
	// Cluster is the fleet's cluster as the connector sees it
	// (connector.TaskContext.Cluster); nil: none.
	Cluster *connector.Cluster
	// OnRunning, when set, is called once, on Run's goroutine, when the
	// task has opened: a source's Open succeeded and the topics it needs
	// exist, or a sink's Open succeeded and its consumer is built. From
	// then on the task counts as RUNNING (Kafka Connect reports a task
	// RUNNING once it has started); a task that fails or stops before
	// never calls it.
	OnRunning func()
	// OnTopic, when set, is called on Run's goroutine the first time the
	// task writes a record to a topic (a source) or reads one from it (a
	// sink): the topics the pipeline uses, which the REST API shows
	// (Kafka Connect's KIP-558). It must not block.
	OnTopic func(topic string)
}

// DefaultStopTimeout is TaskArgs.StopTimeout's default.
const DefaultStopTimeout = 7 * time.Second

// leaveTimeout bounds leaving the consumer group at stop.
const leaveTimeout = 2 * time.Second

// task is one running task: what the source and sink loops share.
type task struct {
	a        TaskArgs
	p        *Pipeline
	log      *slog.Logger
	counters *Counters
	tr       *transformer
	budget   *stopBudget
	used     map[string]bool // topics told to OnTopic
}

// use tells OnTopic of a topic the first time the task uses it.
func (t *task) use(topic string) {
	if t.a.OnTopic == nil || t.used[topic] {
		return
	}
	if t.used == nil {
		t.used = map[string]bool{}
	}
	t.used[topic] = true
	t.a.OnTopic(topic)
}

// Run runs one task of a compiled pipeline until ctx ends or the task
// fails. After ctx ends it stops cleanly within about StopTimeout (plus
// leaving the group): a source finishes producing what it polled and saves
// its offsets, a sink writes what it fetched, flushes and commits (a
// connector.Committer: commits what it says is durable), and Run returns
// nil. A task that fails returns a *TaskError. A source that
// returns io.EOF from Poll finishes (everything acknowledged, offsets
// saved, Counters.Finished set) and Run then waits for ctx to end.
func Run(ctx context.Context, a TaskArgs) error {
	p := a.Pipeline
	switch {
	case p == nil:
		return errors.New("engine: Run without a pipeline")
	case a.Producer == nil && (p.kind == configschema.Source || p.policy.tolerateAll):
		return fmt.Errorf("engine: %s: Run without a producer", p.address)
	case p.kind == configschema.Source && a.Offsets == nil:
		return fmt.Errorf("engine: %s: a source task runs with an offset store", p.address)
	case p.kind == configschema.Sink && a.NewConsumer == nil:
		return fmt.Errorf("engine: %s: a sink task runs with NewConsumer", p.address)
	case a.Task < 0 || a.Task >= p.Tasks():
		return fmt.Errorf("engine: %s has %d tasks, not a task %d", p.address, p.Tasks(), a.Task)
	}
	if a.Counters == nil {
		a.Counters = &Counters{}
	}
	if a.Logger == nil {
		a.Logger = slog.New(slog.DiscardHandler)
	}
	if a.FlushInterval <= 0 {
		a.FlushInterval = p.commitInterval
	}
	if a.FlushInterval <= 0 {
		a.FlushInterval = lang.DefaultCommitInterval
	}
	if a.StopTimeout <= 0 {
		a.StopTimeout = DefaultStopTimeout
	}
	t := &task{
		a:        a,
		p:        p,
		log:      a.Logger.With("pipeline", p.address, "task", a.Task),
		counters: a.Counters,
		tr:       newTransformer(p),
		budget:   newStopBudget(ctx, a.StopTimeout),
	}
	defer t.budget.close()

	if p.policy.tolerateAll {
		err := t.ensureTopics(ctx, map[string]int32{p.policy.deadLetterTopic: 1})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return t.fail(StageDeadLetter, nil, fmt.Errorf("creating the dead-letter topic %q: %w", p.policy.deadLetterTopic, err))
		}
	}
	if p.kind == configschema.Source {
		if p.spec.Delivery == "exactly_once" {
			return t.runExactlyOnce(ctx)
		}
		return t.runSource(ctx)
	}
	return t.runSink(ctx)
}

// opened tells Run's caller that the task opened (TaskArgs.OnRunning).
func (t *task) opened() {
	if t.a.OnRunning != nil {
		t.a.OnRunning()
	}
}

// fail records a task failure and returns it.
func (t *task) fail(stage Stage, rec *recordRef, err error) *TaskError {
	var te *TaskError
	if errors.As(err, &te) {
		return te
	}
	te = newTaskError(t.p, t.a.Task, stage, rec, err)
	t.counters.setLastError(te)
	t.log.Error("task failed", "stage", stage.String(), "error", err)
	return te
}

// taskContext is what the connector sees.
func (t *task) taskContext(offset func(map[string]any) map[string]any) *connector.TaskContext {
	if offset == nil {
		offset = func(map[string]any) map[string]any { return nil }
	}
	return &connector.TaskContext{
		Pipeline:  t.p.address,
		Fleet:     t.a.Fleet,
		Task:      t.a.Task,
		Tasks:     t.p.Tasks(),
		Config:    deepCopy(t.p.config).(map[string]any),
		Exprs:     t.p.exprs,
		Logger:    t.log,
		Offset:    offset,
		ValueJSON: t.p.valueJSON,
		Cluster:   t.a.Cluster,
		OnWaiting: t.counters.setWaiting,
		OnDropped: func(n int64) { t.counters.Dropped.Add(n) },
	}
}

// ensureTopics creates the topics that do not exist yet, each with the
// given partition count (<= 0: the broker's default).
func (t *task) ensureTopics(ctx context.Context, want map[string]int32) error {
	return t.ensureTopicsAtLeast(ctx, want, false)
}

// ensureTopicsAtLeast is ensureTopics that, with strict, also fails when
// an existing topic has fewer partitions than wanted.
func (t *task) ensureTopicsAtLeast(ctx context.Context, want map[string]int32, strict bool) error {
	if t.a.Admin == nil || len(want) == 0 {
		return nil
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	return t.retry(ctx, "creating topics", func() error {
		details, err := t.a.Admin.ListTopics(ctx, names...)
		if err != nil {
			return err
		}
		for _, name := range names {
			d, ok := details[name]
			if ok && d.Err == nil {
				if have := int32(len(d.Partitions)); strict && have < want[name] {
					return fmt.Errorf("topic %q has %d partitions, fewer than the %d its records need: add partitions (topic block, then pipectl apply) or write to another topic", name, have, want[name])
				}
				continue
			}
			if ok && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
				return fmt.Errorf("topic %q: %w", name, d.Err)
			}
			parts := want[name]
			if parts <= 0 {
				parts = -1
			}
			_, err := t.a.Admin.CreateTopic(ctx, parts, -1, nil, name)
			if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
				return fmt.Errorf("creating topic %q: %w", name, err)
			}
			if err == nil {
				t.log.Info("created topic", "topic", name, "partitions", parts)
			}
		}
		return nil
	})
}

// The dead-letter headers.
const (
	HeaderErrorClass      = "pipectl.error.class"
	HeaderErrorMessage    = "pipectl.error.message"
	HeaderErrorStage      = "pipectl.error.stage"
	HeaderSourceTopic     = "pipectl.source.topic"
	HeaderSourcePartition = "pipectl.source.partition"
	HeaderSourceOffset    = "pipectl.source.offset"
	HeaderPipeline        = "pipectl.pipeline"
)

// maxHeaderMessage bounds the error message a dead-letter header carries.
const maxHeaderMessage = 4096

// deadLetter builds the dead-letter record of a failed record: its key,
// value and headers unchanged, plus the pipectl headers. The source
// partition and offset headers are left out when unknown (< 0).
func (t *task) deadLetter(key, value []byte, headers []kgo.RecordHeader, ts time.Time, stage Stage, err error, ref *recordRef) kgo.Record {
	msg := err.Error()
	if len(msg) > maxHeaderMessage {
		msg = msg[:maxHeaderMessage]
	}
	hs := make([]kgo.RecordHeader, 0, len(headers)+7)
	hs = append(hs, headers...)
	hs = append(hs,
		kgo.RecordHeader{Key: HeaderErrorClass, Value: []byte(classOf(err))},
		kgo.RecordHeader{Key: HeaderErrorMessage, Value: []byte(msg)},
		kgo.RecordHeader{Key: HeaderErrorStage, Value: []byte(stage.String())},
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: []byte(ref.topic)},
	)
	if ref.partition >= 0 {
		hs = append(hs, kgo.RecordHeader{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(ref.partition), 10)})
	}
	if ref.offset >= 0 {
		hs = append(hs, kgo.RecordHeader{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, ref.offset, 10)})
	}
	hs = append(hs, kgo.RecordHeader{Key: HeaderPipeline, Value: []byte(t.p.address)})
	var extra DeadLetterHeaders
	if errors.As(err, &extra) {
		for _, h := range extra.DeadLetterHeaders() {
			if reservedHeader(h.Key) {
				continue
			}
			hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
	}
	return kgo.Record{Topic: t.p.policy.deadLetterTopic, Key: key, Value: value, Headers: hs, Timestamp: ts}
}

// produceSync produces records and waits for them, retrying retriable
// failures; it returns the first lasting error.
func (t *task) produceSync(ctx context.Context, what string, rs []*kgo.Record) error {
	return t.retry(ctx, what, func() error {
		res := t.a.Producer.ProduceSync(ctx, rs...)
		var failed []*kgo.Record
		var first error
		for _, r := range res {
			if r.Err != nil {
				failed = append(failed, r.Record)
				if first == nil || IsRetriable(first) && !IsRetriable(r.Err) {
					first = r.Err
				}
			}
		}
		rs = failed
		return first
	})
}

// stopBudget is a context for what a clean stop still does: it ends
// timeout after its parent ends (or when closed).
type stopBudget struct {
	ctx    context.Context
	cancel context.CancelFunc
	stop   func() bool
	mu     sync.Mutex
	timer  *time.Timer
}

func newStopBudget(parent context.Context, timeout time.Duration) *stopBudget {
	b := &stopBudget{}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(parent))
	b.stop = context.AfterFunc(parent, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.ctx.Err() == nil {
			b.timer = time.AfterFunc(timeout, b.cancel)
		}
	})
	return b
}

func (b *stopBudget) close() {
	b.stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cancel()
	if b.timer != nil {
		b.timer.Stop()
	}
}
