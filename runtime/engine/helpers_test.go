package engine

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
	"github.com/pipectl/pipectl/stdlib/converters"
)

// testRegistry registers the stdlib converters, and a source and a sink
// of type "test" with a small schema (no-ops unless given).
func testRegistry(t testing.TB, newSource func() connector.Source, newSink func() connector.Sink) *connector.Registry {
	t.Helper()
	reg, err := newTestRegistry(newSource, newSink)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// newTestRegistry is testRegistry for code that runs without a test (a
// child process).
func newTestRegistry(newSource func() connector.Source, newSink func() connector.Sink) (*connector.Registry, error) {
	if newSource == nil {
		newSource = func() connector.Source { return nopSource{} }
	}
	if newSink == nil {
		newSink = func() connector.Sink { return nopSink{} }
	}
	reg := connector.NewRegistry()
	plugins := append(converters.Plugins(),
		connector.Plugin{Schema: testSchema(configschema.Source), NewSource: newSource},
		connector.Plugin{Schema: testSchema(configschema.Sink), NewSink: newSink},
	)
	for _, p := range plugins {
		if err := reg.Register(p); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

type nopSource struct{ connector.UnimplementedSource }

func (nopSource) Open(context.Context, *connector.TaskContext) error { return nil }
func (nopSource) Poll(context.Context) ([]connector.Record, error)   { return nil, io.EOF }
func (nopSource) Close() error                                       { return nil }

type nopSink struct{ connector.UnimplementedSink }

func (nopSink) Open(context.Context, *connector.TaskContext) error { return nil }
func (nopSink) Write(context.Context, []connector.Record) error    { return nil }
func (nopSink) Flush(context.Context) error                        { return nil }
func (nopSink) Close() error                                       { return nil }

func testSchema(kind configschema.Kind) configschema.Schema {
	return configschema.Schema{
		Kind: kind,
		Type: "test",
		Attributes: []configschema.Attribute{
			{Name: "topic", Type: configschema.String},
			{Name: "count", Type: configschema.Int, Default: int64(0)},
			{Name: "ratio", Type: configschema.Number, Min: new(int64)},
			{Name: "fast", Type: configschema.Bool, Default: false},
			{Name: "tags", Type: configschema.ListOfString, Regexp: true},
			{Name: "labels", Type: configschema.MapOfString},
			{Name: "password", Type: configschema.String, Sensitive: true},
			{Name: "timeout", Type: configschema.Duration, Default: "5s"},
			{Name: "mode", Type: configschema.String, Enum: []string{"a", "b"}},
			{Name: "value", Type: configschema.Expression, ExprVars: []configschema.ExprVar{{Name: "seq", Type: "int"}}},
		},
		Blocks: []configschema.Block{{
			Name: "auth",
			Attributes: []configschema.Attribute{
				{Name: "user", Type: configschema.String},
				{Name: "port", Type: configschema.Int, Default: int64(5432)},
				{Name: "secret", Type: configschema.String, Sensitive: true},
			},
		}},
	}
}

// mustCompile compiles a spec with the test registry.
func mustCompile(t testing.TB, address string, spec *control.PipelineSpec, reg *connector.Registry) *Pipeline {
	t.Helper()
	p, err := Compile(address, spec, reg, nil, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// cluster is the embedded broker (kfake on a random port) with the
// clients a task needs, built as the worker builds them.
type cluster struct {
	cfg      kafka.Config
	producer *kgo.Client
	admin    *kadm.Client
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	_, cfg := kafkatest.Start(t)
	return clusterAt(t, cfg)
}

// clusterAt is startCluster on a broker the test runs itself.
func clusterAt(t *testing.T, cfg kafka.Config) *cluster {
	t.Helper()
	cl := &cluster{cfg: cfg}
	cl.producer = cl.client(t, kgo.RecordPartitioner(Partitioner(nil)), kgo.ProducerLinger(0))
	cl.admin = kadm.NewClient(cl.client(t))
	return cl
}

func (c *cluster) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kafka.NewClient(c.cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (c *cluster) newConsumer(opts ...kgo.Opt) (*kgo.Client, error) {
	return kafka.NewClient(c.cfg, append([]kgo.Opt{kgo.FetchMaxWait(200 * time.Millisecond)}, opts...)...)
}

func (c *cluster) createTopic(t *testing.T, name string, partitions int32) {
	t.Helper()
	if _, err := c.admin.CreateTopic(context.Background(), partitions, 1, nil, name); err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
}

func (c *cluster) produce(t *testing.T, rs ...*kgo.Record) {
	t.Helper()
	if err := c.producer.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readTopic reads n records of a topic from the start, failing after a
// generous deadline.
func (c *cluster) readTopic(t *testing.T, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := c.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records of %s, want %d", len(out), topic, n)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch %s: %v", topic, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// committed sums a group's committed offsets of a topic.
func (c *cluster) committed(t *testing.T, group, topic string) int64 {
	t.Helper()
	offs, err := c.admin.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At >= 0 {
			sum += o.At
		}
	})
	return sum
}

// memOffsets is an OffsetStore in memory that stores offsets as JSON, as
// the offsets topic does. check, when set, is called at every Save.
type memOffsets struct {
	mu    sync.Mutex
	saved map[string][]byte
	saves int
	check func([]SourceOffset)
}

func newMemOffsets() *memOffsets { return &memOffsets{saved: map[string][]byte{}} }

func (m *memOffsets) Load(_ context.Context, pipeline string) ([]SourceOffset, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SourceOffset
	for k, b := range m.saved {
		if len(k) > len(pipeline) && k[:len(pipeline)+1] == pipeline+"\x00" {
			var o SourceOffset
			if err := json.Unmarshal(b, &o); err != nil {
				return nil, err
			}
			out = append(out, o)
		}
	}
	return out, nil
}

func (m *memOffsets) Save(_ context.Context, pipeline string, offsets []SourceOffset) error {
	if m.check != nil {
		m.check(offsets)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	for _, o := range offsets {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		m.saved[pipeline+"\x00"+control.PartitionKey(o.Partition)] = b
	}
	return nil
}

// running is a task that runs in the background.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// runTask runs a task in the background until stop (or the test's end).
func runTask(t *testing.T, a TaskArgs) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = Run(ctx, a)
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the task and returns how long Run took to return, and its
// error.
func (r *running) stop(t *testing.T) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30 s after its context ended")
	}
	return time.Since(start), r.err
}

// wait waits for Run to return by itself.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30 s")
	}
	return r.err
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
