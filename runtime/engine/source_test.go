package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

var baseTime = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// seqSource emits records seq 0..total-1, per at a time, resuming after
// its saved offset. At pauseAt (when > 0) it stops giving records, like a
// source waiting for data.
type seqSource struct {
	connector.UnimplementedSource
	total, per, pauseAt int
	next                int
	resumedAt           *atomic.Int64
	acked               *atomic.Int64
	record              func(seq int) connector.Record
	every               time.Duration // the least time between two polls that give records
}

var seqPartition = map[string]any{"shard": int64(0)}

func (s *seqSource) Open(_ context.Context, tc *connector.TaskContext) error {
	s.resumedAt.Store(-1)
	if o := tc.Offset(map[string]any{"shard": int64(0)}); o != nil {
		next, ok := o["next"].(int64)
		if !ok {
			return fmt.Errorf("saved offset %v: next is a %T, not an int64", o, o["next"])
		}
		s.next = int(next)
		s.resumedAt.Store(next)
	}
	return nil
}

func (s *seqSource) Poll(ctx context.Context) ([]connector.Record, error) {
	if s.next >= s.total {
		return nil, io.EOF
	}
	if s.pauseAt > 0 && s.next >= s.pauseAt {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
		return nil, nil
	}
	if s.every > 0 {
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(s.every):
		}
	}
	var out []connector.Record
	for ; len(out) < s.per && s.next < s.total; s.next++ {
		r := s.record(s.next)
		r.SourcePartition = seqPartition
		r.SourceOffset = map[string]any{"next": int64(s.next + 1)}
		out = append(out, r)
	}
	return out, nil
}

func (s *seqSource) Acked(recs []connector.Record) { s.acked.Add(int64(len(recs))) }
func (s *seqSource) Close() error                  { return nil }

// TestSourceTask produces records through transforms into Kafka, saves
// offsets only for acknowledged records, and resumes after a restart.
func TestSourceTask(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "out", 2)
	const total = 1000
	shared := []connector.Header{{Key: "origin", Value: []byte("test")}}
	record := func(seq int) connector.Record {
		return connector.Record{
			Key:       fmt.Sprintf("k%04d", seq),
			Value:     map[string]any{"seq": int64(seq), "email": fmt.Sprintf("u%d@example.com", seq), "card": "4111"},
			Headers:   shared,
			Topic:     "out",
			Partition: int32(seq % 2),
			Timestamp: baseTime.Add(time.Duration(seq) * time.Millisecond),
		}
	}
	kept := func(seq int) bool { return seq%10 != 3 }

	var resumedAt, acked atomic.Int64
	pauseAt := 500
	reg := testRegistry(t, func() connector.Source {
		return &seqSource{total: total, per: 25, pauseAt: pauseAt, resumedAt: &resumedAt, acked: &acked, record: record}
	}, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test", Transforms: []control.TransformSpec{
		{Name: "drop_some", Filter: "value.seq % 10 != 3"},
		{
			Name:    "shape",
			Set:     []control.SetSpec{{Path: "value.tag", Expr: "'t' + string(value.seq)"}},
			Drop:    []string{"value.card"},
			Topic:   "value.seq % 100 == 0 ? 'out.special' : topic",
			Headers: []control.HeaderSetSpec{{Name: "parity", Expr: "value.seq % 2 == 0 ? 'even' : 'odd'"}},
		},
	}}
	p := mustCompile(t, "source.test.seq", spec, reg)

	// Every Save must come after Kafka acknowledged the records before it.
	store := newMemOffsets()
	var violations []string
	var vmu sync.Mutex
	checker := kadm.NewClient(c.client(t)) // its own metadata cache
	store.check = func(offs []SourceOffset) {
		next := offs[0].Offset["next"].(int64)
		want := int64(0)
		for seq := range int(next) {
			if kept(seq) {
				want++
			}
		}
		ends, err := checker.ListEndOffsets(context.Background(), "out", "out.special")
		var have int64
		if err == nil {
			ends.Each(func(o kadm.ListedOffset) {
				if o.Err == nil {
					have += o.Offset
				}
			})
		}
		if have < want {
			vmu.Lock()
			violations = append(violations, fmt.Sprintf("offset next=%d saved with %d records in Kafka, want %d", next, have, want))
			vmu.Unlock()
		}
	}
	saved := func() int64 {
		got, err := store.Load(context.Background(), "source.test.seq")
		if err != nil || len(got) == 0 {
			return 0
		}
		return int64(got[0].Offset["next"].(float64))
	}

	a := TaskArgs{Pipeline: p, Fleet: "fleet", Producer: c.producer, Admin: c.admin, Offsets: store, Counters: &Counters{}}
	r := runTask(t, a)
	waitFor(t, "offsets saved up to the pause", func() bool { return saved() == int64(pauseAt) })
	took, err := r.stop(t)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if took > 10*time.Second {
		t.Errorf("stopping took %s, more than 10 s", took)
	}
	if got := resumedAt.Load(); got != -1 {
		t.Errorf("the first run resumed at %d, want a fresh start", got)
	}
	counts := [4]int64{a.Counters.In.Load(), a.Counters.Out.Load(), a.Counters.Filtered.Load(), a.Counters.Failed.Load()}
	if counts != [4]int64{500, 450, 50, 0} {
		t.Errorf("first run in/out/filtered/failed = %v, want [500 450 50 0]", counts)
	}
	if got := acked.Load(); got != 500 {
		t.Errorf("first run acked %d records, want 500", got)
	}

	pauseAt = 0
	a.Counters = &Counters{}
	r = runTask(t, a)
	waitFor(t, "the source to finish", a.Counters.Finished.Load)
	if _, err := r.stop(t); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if got := resumedAt.Load(); got != 500 {
		t.Errorf("the second run resumed at %d, want 500", got)
	}
	if got := saved(); got != total {
		t.Errorf("saved offset next=%d, want %d", got, total)
	}
	if len(violations) > 0 {
		t.Errorf("offsets saved before their records were acknowledged:\n%s", strings.Join(violations, "\n"))
	}
	if diff := cmp.Diff([]connector.Header{{Key: "origin", Value: []byte("test")}}, shared); diff != "" {
		t.Errorf("the source's shared headers were changed (-want +got):\n%s", diff)
	}

	// Exactly the kept records, once each, as the transforms made them.
	type out struct {
		Topic     string
		Partition int32
		Key       string
		Value     map[string]any
		Headers   string
		Timestamp time.Time
	}
	var want []out
	for seq := range total {
		if !kept(seq) {
			continue
		}
		topic := "out"
		if seq%100 == 0 {
			topic = "out.special"
		}
		parity := "odd"
		if seq%2 == 0 {
			parity = "even"
		}
		want = append(want, out{
			Topic: topic, Partition: int32(seq % 2), Key: fmt.Sprintf("k%04d", seq),
			Value:     map[string]any{"seq": float64(seq), "email": fmt.Sprintf("u%d@example.com", seq), "tag": fmt.Sprint("t", seq)},
			Headers:   "origin=test,parity=" + parity,
			Timestamp: baseTime.Add(time.Duration(seq) * time.Millisecond),
		})
	}
	var got []out
	for _, topic := range []string{"out", "out.special"} {
		n := 0
		for _, w := range want {
			if w.Topic == topic {
				n++
			}
		}
		for _, kr := range c.readTopic(t, topic, n) {
			var v map[string]any
			if err := json.Unmarshal(kr.Value, &v); err != nil {
				t.Fatal(err)
			}
			var hs []string
			for _, h := range kr.Headers {
				hs = append(hs, h.Key+"="+string(h.Value))
			}
			got = append(got, out{kr.Topic, kr.Partition, string(kr.Key), v, strings.Join(hs, ","), kr.Timestamp.UTC()})
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Key < got[j].Key })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records in Kafka (-want +got):\n%s", diff)
	}
}

// listSource emits the given records once, then io.EOF.
type listSource struct {
	connector.UnimplementedSource
	recs []connector.Record
	done bool
}

func (s *listSource) Open(context.Context, *connector.TaskContext) error { return nil }
func (s *listSource) Close() error                                       { return nil }
func (s *listSource) Poll(context.Context) ([]connector.Record, error) {
	if s.done {
		return nil, io.EOF
	}
	s.done = true
	return s.recs, nil
}

func badSourceRecords() []connector.Record {
	return []connector.Record{
		{Key: "k0", Value: map[string]any{"seq": int64(0), "name": "a"}, Topic: "out", Partition: -1},
		{Key: "k1", Value: map[string]any{"seq": int64(1), "name": "plain"}, Topic: "out", Partition: -1,
			Headers: []connector.Header{{Key: "origin", Value: []byte("x")}}},
		{Key: "k2", Value: map[string]any{"seq": int64(2), "bad": math.Inf(1)}, Topic: "out", Partition: 1},
		{Key: []byte("k3"), Value: []byte("{bad json"), Encoded: true, Topic: "out", Partition: -1},
	}
}

var badSourceTransforms = []control.TransformSpec{
	{Name: "add", Set: []control.SetSpec{{Path: "value.x", Expr: "1"}}},
	{Name: "first", When: &control.ConditionSpec{Expr: "value.seq == 1"}, Set: []control.SetSpec{{Path: "value.name.first", Expr: "'P'"}}},
}

// TestSourceDeadLetter sends failed source records to the dead-letter
// topic as the source gave them.
func TestSourceDeadLetter(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "out", 2)
	reg := testRegistry(t, func() connector.Source { return &listSource{recs: badSourceRecords()} }, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test", Transforms: badSourceTransforms,
		Errors: control.ErrorsSpec{Tolerance: "all", DeadLetterTopic: "out.dlq"}}
	a := TaskArgs{Pipeline: mustCompile(t, "source.test.bad", spec, reg), Producer: c.producer, Admin: c.admin, Offsets: newMemOffsets(), Counters: &Counters{}}
	r := runTask(t, a)
	waitFor(t, "the source to finish", a.Counters.Finished.Load)
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	good := c.readTopic(t, "out", 1)
	if got, want := string(good[0].Value), `{"name":"a","seq":0,"x":1}`; got != want {
		t.Errorf("good record %s, want %s", got, want)
	}

	type deadRecord struct {
		Key, Value string
		Headers    map[string]string
	}
	var got []deadRecord
	for _, d := range c.readTopic(t, "out.dlq", 3) {
		hs := map[string]string{}
		for _, h := range d.Headers {
			hs[h.Key] = string(h.Value)
		}
		delete(hs, HeaderErrorMessage)
		got = append(got, deadRecord{string(d.Key), string(d.Value), hs})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Key < got[j].Key })
	hdr := func(class, stage string, extra ...string) map[string]string {
		m := map[string]string{HeaderErrorClass: class, HeaderErrorStage: stage, HeaderSourceTopic: "out", HeaderPipeline: "source.test.bad"}
		for i := 0; i < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	want := []deadRecord{
		// Unchanged: the first transform's value.x is not there.
		{"k1", `{"name":"plain","seq":1}`, hdr("engine.PathError", "transform", "origin", "x")},
		// Neither the converter nor JSON can encode +Inf.
		{"k2", "map[bad:+Inf seq:2]", hdr("converters.Error", "converter", HeaderSourcePartition, "1")},
		// An Encoded record keeps its bytes.
		{"k3", "{bad json", hdr("converters.Error", "converter")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead-letter records (-want +got):\n%s", diff)
	}
	counts := [4]int64{a.Counters.In.Load(), a.Counters.Out.Load(), a.Counters.Filtered.Load(), a.Counters.Failed.Load()}
	if counts != [4]int64{4, 1, 0, 3} {
		t.Errorf("in/out/filtered/failed = %v, want [4 1 0 3]", counts)
	}
}

// TestSourceToleranceNone fails the task at the first failed record.
func TestSourceToleranceNone(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "out", 1)
	reg := testRegistry(t, func() connector.Source { return &listSource{recs: badSourceRecords()} }, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test", Transforms: badSourceTransforms}
	store := newMemOffsets()
	a := TaskArgs{Pipeline: mustCompile(t, "source.test.none", spec, reg), Producer: c.producer, Admin: c.admin, Offsets: store, Counters: &Counters{}}
	err := runTask(t, a).wait(t)
	var te *TaskError
	if !errors.As(err, &te) {
		t.Fatalf("Run = %v, want a *TaskError", err)
	}
	if te.Stage != StageTransform || te.Class != "engine.PathError" {
		t.Errorf("stage %s class %q, want transform engine.PathError", te.Stage, te.Class)
	}
	if want := `transform "first": set value.name.first: cannot set value.name.first: value.name is a string, not a map`; te.Message != want {
		t.Errorf("Message = %q, want %q", te.Message, want)
	}
	if !strings.Contains(te.Trace, `record: topic "out"`) || !strings.Contains(te.Trace, "caused by (engine.PathError)") {
		t.Errorf("Trace:\n%s", te.Trace)
	}
	if store.saves != 0 {
		t.Errorf("offsets were saved %d times by a task that failed in its first batch", store.saves)
	}
}

// TestSourceRetriablePoll retries a retriable Poll error.
func TestSourceRetriablePoll(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "out", 1)
	var fails atomic.Int64
	reg := testRegistry(t, func() connector.Source {
		return &flakySource{listSource: listSource{recs: []connector.Record{{Key: "k", Value: "v", Topic: "out", Partition: -1}}}, fails: &fails}
	}, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test", ValueConverter: control.ConverterSpec{Type: "string"}}
	a := TaskArgs{Pipeline: mustCompile(t, "source.test.flaky", spec, reg), Producer: c.producer, Offsets: newMemOffsets(), Counters: &Counters{}}
	r := runTask(t, a)
	waitFor(t, "the source to finish", a.Counters.Finished.Load)
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := string(c.readTopic(t, "out", 1)[0].Value); got != "v" {
		t.Errorf("record value %q, want v", got)
	}
	if got := a.Counters.Retries.Load(); got != 2 {
		t.Errorf("Retries = %d, want 2", got)
	}
}

type flakySource struct {
	listSource
	fails *atomic.Int64
}

func (s *flakySource) Poll(ctx context.Context) ([]connector.Record, error) {
	if s.fails.Add(1) <= 2 {
		return nil, connector.Retriable(errors.New("connection refused"))
	}
	return s.listSource.Poll(ctx)
}

// TestSourceWrappedEOF checks that a wrapped io.EOF, a connection that
// closed under the source's read, does not finish the source: it is an
// error, which fails the task once retry_timeout has passed.
func TestSourceWrappedEOF(t *testing.T) {
	c := startCluster(t)
	reg := testRegistry(t, func() connector.Source { return &eofSource{} }, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test", ValueConverter: control.ConverterSpec{Type: "string"},
		Errors: control.ErrorsSpec{Tolerance: "none", RetryTimeout: "300ms", RetryBackoffMax: "100ms"}}
	a := TaskArgs{Pipeline: mustCompile(t, "source.test.eof", spec, reg), Producer: c.producer, Offsets: newMemOffsets(), Counters: &Counters{}}
	err := runTask(t, a).wait(t)
	var te *TaskError
	if !errors.As(err, &te) || te.Stage != StageSource || !strings.Contains(te.Message, "reading the log: EOF") {
		t.Fatalf("Run = %v, want a *TaskError at stage source with the wrapped EOF", err)
	}
	if a.Counters.Finished.Load() {
		t.Error("a wrapped io.EOF finished the source")
	}
}

type eofSource struct{ listSource }

func (s *eofSource) Poll(context.Context) ([]connector.Record, error) {
	return nil, connector.Retriable(fmt.Errorf("reading the log: %w", io.EOF))
}
