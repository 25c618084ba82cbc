package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// recordingSink is a sink that keeps what it is given: Write buffers,
// Flush makes the buffer durable.
type recordingSink struct {
	connector.UnimplementedSink
	mu        sync.Mutex
	pending   []connector.Record
	durable   []connector.Record
	written   int // records given to Write
	flushes   int
	failFlush int // how many next flushes fail with a retriable error
	// beforeFlush, when set, runs at the start of every Flush with the
	// records durable so far.
	beforeFlush func(durable []connector.Record)
	// writeErr, when set, decides the error of a Write.
	writeErr func(recs []connector.Record) error
}

func (s *recordingSink) Open(context.Context, *connector.TaskContext) error { return nil }
func (s *recordingSink) Close() error                                       { return nil }

func (s *recordingSink) Write(_ context.Context, recs []connector.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written += len(recs)
	if s.writeErr != nil {
		if err := s.writeErr(recs); err != nil {
			var fr FailedRecord
			if !errors.As(err, &fr) {
				return err
			}
			// Keep the records that did not fail.
			failed, _ := failedRecords(err, len(recs))
			for i, r := range recs {
				if _, bad := failed[i]; !bad {
					s.pending = append(s.pending, r)
				}
			}
			return err
		}
	}
	s.pending = append(s.pending, recs...)
	return nil
}

func (s *recordingSink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	if s.beforeFlush != nil {
		s.beforeFlush(s.durable)
	}
	if s.failFlush > 0 && len(s.pending) > 0 {
		s.failFlush--
		return connector.Retriable(errors.New("disk busy"))
	}
	s.durable = append(s.durable, s.pending...)
	s.pending = nil
	return nil
}

func (s *recordingSink) durableCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.durable)
}

func (s *recordingSink) snapshot() []connector.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]connector.Record(nil), s.durable...)
}

// rejected is a per-record failure of a Write.
type rejected struct{ i int }

func (r rejected) Error() string     { return fmt.Sprintf("record %d rejected by the database", r.i) }
func (r rejected) FailedRecord() int { return r.i }

func jsonRecord(topic, key string, value any, headers ...kgo.RecordHeader) *kgo.Record {
	var v []byte
	switch value := value.(type) {
	case string:
		v = []byte(value)
	default:
		v, _ = json.Marshal(value)
	}
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: v, Headers: headers}
}

func sinkArgs(c *cluster, p *Pipeline) TaskArgs {
	return TaskArgs{
		Pipeline:      p,
		Fleet:         "fleet",
		Producer:      c.producer,
		NewConsumer:   c.newConsumer,
		Admin:         c.admin,
		Counters:      &Counters{},
		FlushInterval: 50 * time.Millisecond,
	}
}

// TestSinkTask reads from Kafka through a transform into a sink whose
// first flush fails: nothing is committed before a flush succeeds, nothing
// is lost, and a restart resumes after the commit.
func TestSinkTask(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 2)
	const n = 300
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, jsonRecord("in", fmt.Sprintf("k%03d", i), map[string]any{"n": i}, kgo.RecordHeader{Key: "h", Value: []byte("v")}))
	}
	c.produce(t, rs...)

	sink := &recordingSink{failFlush: 1}
	var early []string
	sink.beforeFlush = func(durable []connector.Record) {
		// Committed offsets never pass what is durable.
		next := map[int32]int64{}
		for _, r := range durable {
			next[r.Partition] = max(next[r.Partition], r.Offset+1)
		}
		offs, err := c.admin.FetchOffsets(context.Background(), "fleet.sink.test.s")
		if err != nil {
			early = append(early, err.Error())
			return
		}
		for _, o := range offs.Sorted() {
			if o.At > next[o.Partition] {
				early = append(early, fmt.Sprintf("partition %d committed at %d, durable up to %d", o.Partition, o.At, next[o.Partition]))
			}
		}
	}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}, Transforms: []control.TransformSpec{{
		Name: "mark",
		Set:  []control.SetSpec{{Path: "value.p", Expr: "partition"}},
	}}}
	p := mustCompile(t, "sink.test.s", spec, reg)
	a := sinkArgs(c, p)
	r := runTask(t, a)
	waitFor(t, "all records durable", func() bool { return sink.durableCount() == n })
	took, err := r.stop(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took > 10*time.Second {
		t.Errorf("stopping took %s, more than 10 s", took)
	}
	if len(early) > 0 {
		t.Errorf("offsets committed before the flush that made them durable:\n%s", strings.Join(early, "\n"))
	}
	if got := c.committed(t, "fleet.sink.test.s", "in"); got != n {
		t.Errorf("committed %d offsets, want %d", got, n)
	}
	if got := a.Counters.Retries.Load(); got < 1 {
		t.Errorf("Retries = %d, want the failed flush retried", got)
	}
	counts := [4]int64{a.Counters.In.Load(), a.Counters.Out.Load(), a.Counters.Filtered.Load(), a.Counters.Failed.Load()}
	if counts != [4]int64{n, n, 0, 0} {
		t.Errorf("counters in/out/filtered/failed = %v, want [%d %d 0 0]", counts, n, n)
	}

	type seen struct {
		Key    string
		Value  map[string]any
		Header string
	}
	check := func(recs []connector.Record, want int) {
		t.Helper()
		var got, exp []seen
		for _, r := range recs {
			got = append(got, seen{r.Key.(string), maps.Clone(r.Value.(map[string]any)), string(r.Headers[0].Value)})
		}
		for i := range want {
			exp = append(exp, seen{fmt.Sprintf("k%03d", i), map[string]any{"n": int64(i)}, "v"})
		}
		sort.Slice(got, func(i, j int) bool { return got[i].Key < got[j].Key })
		for i := range got {
			// The partition the transform added is where the record was.
			if _, ok := got[i].Value["p"].(int64); !ok {
				t.Fatalf("record %s has no partition set by the transform: %v", got[i].Key, got[i].Value)
			}
			delete(got[i].Value, "p")
		}
		if diff := cmp.Diff(exp, got); diff != "" {
			t.Errorf("durable records (-want +got):\n%s", diff)
		}
	}
	check(sink.snapshot(), n)

	// A restart reads only what came after the commit.
	rs = nil
	for i := n; i < n+20; i++ {
		rs = append(rs, jsonRecord("in", fmt.Sprintf("k%03d", i), map[string]any{"n": i}, kgo.RecordHeader{Key: "h", Value: []byte("v")}))
	}
	c.produce(t, rs...)
	a.Counters = &Counters{}
	r = runTask(t, a)
	waitFor(t, "the new records durable", func() bool { return sink.durableCount() >= n+20 })
	if _, err := r.stop(t); err != nil {
		t.Fatalf("Run after restart: %v", err)
	}
	check(sink.snapshot(), n+20)
	if got := a.Counters.In.Load(); got != 20 {
		t.Errorf("the restarted task fetched %d records, want 20", got)
	}
}

// TestSinkDeadLetter sends bad records, unchanged, to the dead-letter
// topic with every header, and the good ones to the sink.
func TestSinkDeadLetter(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 1)
	h := kgo.RecordHeader{Key: "origin", Value: []byte("web")}
	c.produce(t,
		jsonRecord("in", "k0", map[string]any{"n": 0}),
		jsonRecord("in", "k1", `{"n":`, h),
		jsonRecord("in", "k2", map[string]any{"n": 2, "name": "x"}),
		jsonRecord("in", "k3", map[string]any{"name": "plain"}, h),
		jsonRecord("in", "k4", map[string]any{"n": 4, "reject": true}),
		jsonRecord("in", "k5", map[string]any{"n": 5}),
	)
	sink := &recordingSink{writeErr: func(recs []connector.Record) error {
		var errs []error
		for i, r := range recs {
			if r.Value.(map[string]any)["reject"] == true {
				errs = append(errs, rejected{i})
			}
		}
		return errors.Join(errs...)
	}}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{
		Kind: "sink", Type: "test", Topics: []string{"in"},
		Transforms: []control.TransformSpec{{
			Name: "first_name",
			When: &control.ConditionSpec{Expr: "has(value.name) && value.name == 'plain'"},
			Set:  []control.SetSpec{{Path: "value.name.first", Expr: "'P'"}},
		}},
		Errors: control.ErrorsSpec{Tolerance: "all", DeadLetterTopic: "in.dlq", RetryTimeout: "5s", RetryBackoffMax: "1s"},
	}
	p := mustCompile(t, "sink.test.dlq", spec, reg)
	a := sinkArgs(c, p)
	r := runTask(t, a)
	waitFor(t, "good records durable", func() bool { return sink.durableCount() == 3 })
	dead := c.readTopic(t, "in.dlq", 3)
	if _, err := r.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}

	var keys []string
	for _, rec := range sink.snapshot() {
		keys = append(keys, rec.Key.(string))
	}
	if diff := cmp.Diff([]string{"k0", "k2", "k5"}, keys); diff != "" {
		t.Errorf("records written (-want +got):\n%s", diff)
	}

	type deadRecord struct {
		Key, Value string
		Headers    map[string]string
	}
	var got []deadRecord
	messages := map[string]string{}
	for _, d := range dead {
		hs := map[string]string{}
		for _, h := range d.Headers {
			hs[h.Key] = string(h.Value)
		}
		messages[string(d.Key)] = hs[HeaderErrorMessage]
		delete(hs, HeaderErrorMessage)
		got = append(got, deadRecord{string(d.Key), string(d.Value), hs})
	}
	pipeHeaders := func(class, stage, offset string, extra ...string) map[string]string {
		m := map[string]string{
			HeaderErrorClass: class, HeaderErrorStage: stage, HeaderSourceTopic: "in",
			HeaderSourcePartition: "0", HeaderSourceOffset: offset, HeaderPipeline: "sink.test.dlq",
		}
		for i := 0; i < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	want := []deadRecord{
		{"k1", `{"n":`, pipeHeaders("converters.Error", "converter", "1", "origin", "web")},
		{"k3", `{"name":"plain"}`, pipeHeaders("engine.PathError", "transform", "3", "origin", "web")},
		{"k4", `{"n":4,"reject":true}`, pipeHeaders("engine.rejected", "sink", "4")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead-letter records (-want +got):\n%s", diff)
	}
	wantMessages := map[string]string{
		"k1": `value: json converter: cannot decode: unexpected end of input at byte 5 of 5 near "{\"n\":"`,
		"k3": `transform "first_name": set value.name.first: cannot set value.name.first: value.name is a string, not a map`,
		"k4": "record 2 rejected by the database", // k4 is the third record the sink was given
	}
	if diff := cmp.Diff(wantMessages, messages); diff != "" {
		t.Errorf("error messages (-want +got):\n%s", diff)
	}
	counts := [4]int64{a.Counters.In.Load(), a.Counters.Out.Load(), a.Counters.Filtered.Load(), a.Counters.Failed.Load()}
	if counts != [4]int64{6, 3, 0, 3} {
		t.Errorf("counters in/out/filtered/failed = %v, want [6 3 0 3]", counts)
	}
	if got := c.committed(t, "fleet.sink.test.dlq", "in"); got != 6 {
		t.Errorf("committed %d, want 6", got)
	}
}

// TestSinkToleranceNone fails the task at the first bad record, naming
// the stage, without committing past it.
func TestSinkToleranceNone(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 1)
	c.produce(t,
		jsonRecord("in", "k0", map[string]any{"n": 0}),
		jsonRecord("in", "k1", map[string]any{"n": 1}),
		jsonRecord("in", "k2", `not json`),
		jsonRecord("in", "k3", map[string]any{"n": 3}),
	)
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	p := mustCompile(t, "sink.test.none", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}}, reg)
	a := sinkArgs(c, p)
	err := runTask(t, a).wait(t)
	var te *TaskError
	if !errors.As(err, &te) {
		t.Fatalf("Run = %v, want a *TaskError", err)
	}
	if te.Stage != StageConverter || te.Class != "converters.Error" || te.Pipeline != "sink.test.none" {
		t.Errorf("TaskError stage %s class %q pipeline %q, want converter converters.Error sink.test.none", te.Stage, te.Class, te.Pipeline)
	}
	if want := `value: json converter: cannot check: unexpected 'o' at byte 1 of 8 near "not json"`; te.Message != want {
		t.Errorf("Message = %q, want %q", te.Message, want)
	}
	if want := `record: topic "in" partition 0 offset 2`; !strings.Contains(te.Trace, want) {
		t.Errorf("Trace does not contain %q:\n%s", want, te.Trace)
	}
	sink.mu.Lock()
	written := sink.written
	sink.mu.Unlock()
	if written > 2 {
		t.Errorf("the sink was given %d records; the bad record or one after it reached it", written)
	}
	if got := c.committed(t, "fleet.sink.test.none", "in"); got > 2 {
		t.Errorf("committed %d, past the failed record at offset 2", got)
	}
	if got := a.Counters.Failed.Load(); got != 1 {
		t.Errorf("Failed = %d, want 1", got)
	}
	if msg, _ := a.Counters.LastError(); !strings.Contains(msg, "cannot check") {
		t.Errorf("LastError = %q", msg)
	}
}

// TestSinkRetryTimeout gives up on a retriable error after retry_timeout.
func TestSinkRetryTimeout(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 1)
	c.produce(t, jsonRecord("in", "k0", map[string]any{"n": 0}))
	sink := &recordingSink{writeErr: func([]connector.Record) error {
		return connector.Retriable(errors.New("database unreachable"))
	}}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"},
		Errors: control.ErrorsSpec{Tolerance: "none", RetryTimeout: "500ms", RetryBackoffMax: "150ms"}}
	a := sinkArgs(c, mustCompile(t, "sink.test.retry", spec, reg))
	start := time.Now()
	err := runTask(t, a).wait(t)
	var te *TaskError
	if !errors.As(err, &te) || te.Stage != StageSink {
		t.Fatalf("Run = %v, want a *TaskError at stage sink", err)
	}
	if want := "writing to the sink still failing after retry_timeout 500ms: database unreachable"; te.Message != want {
		t.Errorf("Message = %q, want %q", te.Message, want)
	}
	// Waits of 100, 150, 150 ms: up to three retries fit in 500 ms.
	if got := a.Counters.Retries.Load(); got < 2 || got > 3 {
		t.Errorf("Retries = %d, want 2 or 3", got)
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("gave up after %s, before retry_timeout", took)
	}
	if got := c.committed(t, "fleet.sink.test.retry", "in"); got != 0 {
		t.Errorf("committed %d, want 0", got)
	}
}

// TestSinkTopicsRegex reads every matching topic but never its own
// dead-letter topic, which the regex also matches.
func TestSinkTopicsRegex(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in.a", 1)
	c.createTopic(t, "in.b", 1)
	c.produce(t, jsonRecord("in.a", "a0", map[string]any{"n": 0}), jsonRecord("in.b", "b0", `{oops`))
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", TopicsRegex: `^in\..*`,
		Errors: control.ErrorsSpec{Tolerance: "all", DeadLetterTopic: "in.dlq"}}
	a := sinkArgs(c, mustCompile(t, "sink.test.regex", spec, reg))
	r := runTask(t, a)
	waitFor(t, "the good record durable", func() bool { return sink.durableCount() == 1 })
	if got := string(c.readTopic(t, "in.dlq", 1)[0].Key); got != "b0" {
		t.Errorf("dead-letter record %q, want b0", got)
	}
	// Give a consumer of in.dlq the time to read the failure back.
	time.Sleep(time.Second)
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := a.Counters.In.Load(); got != 2 {
		t.Errorf("fetched %d records, want 2: the dead-letter topic was read", got)
	}
	if got := c.committed(t, "fleet.sink.test.regex", "in.b"); got != 1 {
		t.Errorf("committed %d on in.b, want 1", got)
	}
}

// TestSinkCommitInterval runs a sink whose commit_interval is an hour:
// while it runs it writes every record but flushes and commits none of
// them; its clean stop flushes and commits them all.
func TestSinkCommitInterval(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 2)
	const n = 200
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, jsonRecord("in", fmt.Sprint(i), map[string]any{"n": i}))
	}
	c.produce(t, rs...)
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	p := mustCompile(t, "sink.test.s", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}, CommitInterval: "1h"}, reg)
	a := sinkArgs(c, p)
	a.FlushInterval = 0 // the pipeline's
	r := runTask(t, a)
	waitFor(t, "every record written", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.written == n
	})
	time.Sleep(1500 * time.Millisecond) // the default interval (1 s) would have flushed by now
	if d, got := sink.durableCount(), c.committed(t, "fleet.sink.test.s", "in"); d != 0 || got != 0 {
		t.Fatalf("with commit_interval = 1h: %d records durable and %d committed before the stop, want none", d, got)
	}
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if d, got := sink.durableCount(), c.committed(t, "fleet.sink.test.s", "in"); d != n || got != n {
		t.Errorf("after the stop: %d records durable and %d committed, want %d", d, got, n)
	}
}

// TestSinkCommitRetryTimeout makes the broker refuse every offset commit
// with a retriable error: once retry_timeout has passed, the task fails
// with the reason at stage kafka instead of running on with offsets it
// cannot commit (which a restart would read again without end).
func TestSinkCommitRetryTimeout(t *testing.T) {
	fake, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.ControlKey(kmsg.OffsetCommit.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		r := req.(*kmsg.OffsetCommitRequest)
		resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.RequestTimedOut.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	c := clusterAt(t, kafka.Config{Brokers: fake.ListenAddrs()})
	c.createTopic(t, "in", 1)
	c.produce(t, jsonRecord("in", "k0", map[string]any{"n": 0}))
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"},
		Errors: control.ErrorsSpec{Tolerance: "none", RetryTimeout: "500ms", RetryBackoffMax: "150ms"}}
	a := sinkArgs(c, mustCompile(t, "sink.test.commit", spec, reg))
	err = runTask(t, a).wait(t)
	var te *TaskError
	if !errors.As(err, &te) || te.Stage != StageKafka || !strings.Contains(te.Message, "committing offsets still failing after retry_timeout 500ms") {
		t.Fatalf("Run = %v, want a *TaskError at stage kafka: committing offsets still failing after retry_timeout", err)
	}
}

// TestSinkRebalanceDoesNotWaitForCommitInterval runs a sink with
// commit_interval = 1h and records written but not committed, then starts
// a second member of its group: the rebalance cancels the poll in flight,
// commits and lets the new member in, without waiting for the hour.
func TestSinkRebalanceDoesNotWaitForCommitInterval(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 2)
	const n = 50
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, jsonRecord("in", fmt.Sprint(i), map[string]any{"n": i}))
	}
	c.produce(t, rs...)
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	p := mustCompile(t, "sink.test.rb", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}, CommitInterval: "1h"}, reg)
	a := sinkArgs(c, p)
	a.FlushInterval = 0 // the pipeline's
	r := runTask(t, a)
	waitFor(t, "every record written", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.written == n
	})
	assigned := make(chan struct{}, 1)
	other := c.client(t, kgo.ConsumerGroup("fleet.sink.test.rb"), kgo.ConsumeTopics("in"), kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			if len(m["in"]) > 0 {
				select {
				case assigned <- struct{}{}:
				default:
				}
			}
		}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			other.PollFetches(ctx)
		}
	}()
	select {
	case <-assigned:
	case <-ctx.Done():
		t.Fatal("the second member got no partition in 30 s: the rebalance waited for commit_interval")
	}
	if got := c.committed(t, "fleet.sink.test.rb", "in"); got == 0 {
		t.Errorf("nothing committed before the partitions moved")
	}
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestSinkRebalanceWhileCommitsRefused is the same rebalance while the
// group refuses every commit (ILLEGAL_GENERATION, as after a broker
// restart): the sink lets the rebalance go on instead of trying the commit
// again for ever.
func TestSinkRebalanceWhileCommitsRefused(t *testing.T) {
	fake, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	c := clusterAt(t, kafka.Config{Brokers: fake.ListenAddrs()})
	c.createTopic(t, "in", 2)
	var rs []*kgo.Record
	for i := range 50 {
		rs = append(rs, jsonRecord("in", fmt.Sprint(i), map[string]any{"n": i}))
	}
	c.produce(t, rs...)
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	p := mustCompile(t, "sink.test.refused", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}, CommitInterval: "1h"}, reg)
	a := sinkArgs(c, p)
	a.FlushInterval = 0 // the pipeline's
	r := runTask(t, a)
	waitFor(t, "every record written", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.written == 50
	})
	fake.ControlKey(kmsg.OffsetCommit.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		r := req.(*kmsg.OffsetCommitRequest)
		if r.Group != "fleet.sink.test.refused" {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.IllegalGeneration.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	assigned := make(chan struct{}, 1)
	other := c.client(t, kgo.ConsumerGroup("fleet.sink.test.refused"), kgo.ConsumeTopics("in"), kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			if len(m["in"]) > 0 {
				select {
				case assigned <- struct{}{}:
				default:
				}
			}
		}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			other.PollFetches(ctx)
		}
	}()
	select {
	case <-assigned:
	case <-ctx.Done():
		t.Fatal("the second member got no partition in 30 s: the sink held the rebalance while its commits were refused")
	}
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestSinkOriginalTopic: a transform that routes records to another topic
// changes Topic, and the sink still learns where each record was read
// (KIP-793): the partition whose offsets the worker commits.
func TestSinkOriginalTopic(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 2)
	const n = 20
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, jsonRecord("in", fmt.Sprintf("k%03d", i), map[string]any{"n": i}))
	}
	c.produce(t, rs...)
	sink := &recordingSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}, Transforms: []control.TransformSpec{{
		Name: "route", Topic: `"routed." + topic`,
	}}}
	a := sinkArgs(c, mustCompile(t, "sink.test.s", spec, reg))
	r := runTask(t, a)
	waitFor(t, "all records durable", func() bool { return sink.durableCount() == n })
	if _, err := r.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	seen := map[int32]int{}
	for _, rec := range sink.snapshot() {
		if rec.Topic != "routed.in" || rec.OriginalTopic != "in" || rec.OriginalPartition != rec.Partition {
			t.Fatalf("record at offset %d: Topic %q, OriginalTopic %q, OriginalPartition %d (Partition %d); want routed.in, in, the partition read",
				rec.Offset, rec.Topic, rec.OriginalTopic, rec.OriginalPartition, rec.Partition)
		}
		seen[rec.OriginalPartition]++
	}
	if seen[0]+seen[1] != n {
		t.Errorf("records by original partition %v, want %d in all", seen, n)
	}
}
