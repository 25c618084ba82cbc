package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// unit is records a batchSink made durable together: one file of an
// object-storage sink.
type unit struct {
	Run       string // which run of the test wrote it
	Task      int
	Topic     string
	Partition int32
	Offsets   []int64
}

// unitStore is the outside system of a batchSink.
type unitStore interface {
	put(u unit) error
}

// memStore keeps units in memory, shared by the tasks of a test.
type memStore struct {
	mu    sync.Mutex
	units []unit
}

func (m *memStore) put(u unit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.units = append(m.units, u)
	return nil
}

func (m *memStore) snapshot() []unit {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.units)
}

// violations collects the breaches of the SDK's contract a test sink saw.
type violations struct {
	mu   sync.Mutex
	list []string
}

func (v *violations) add(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.list = append(v.list, fmt.Sprintf(format, args...))
}

func (v *violations) check(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.list) > 0 {
		t.Errorf("the plugin saw %d breaches of the SDK's contract:\n%s", len(v.list), strings.Join(v.list, "\n"))
	}
}

// batchSink is a Committer and PartitionsAware sink that makes records
// durable n at a time per partition, as a sink that writes a file of n
// records does; what is not in a unit yet is buffered and lost on a crash.
// PreCommit answers, per partition, the offset of its first buffered
// record (what it was given when nothing is buffered). It checks the
// contract it relies on: no call overlaps another, Write only carries
// records of assigned partitions, each partition's offsets only grow
// between Assigned and Revoked, PreCommit is given at least what was
// written, Flush is never called.
type batchSink struct {
	connector.UnimplementedSink
	n     int
	store unitStore
	v     *violations
	// rotate: every rotate-th PreCommit makes every buffer durable
	// however short, as a time-based rotation does (0: never).
	rotate int
	// delay is how long storing one unit takes.
	delay time.Duration
	// fail, when set, decides whether Write fails before a record, from
	// the number of records it took before it.
	fail func(handed int64) error

	task       atomic.Int32 // set by Open
	busy       atomic.Bool
	handed     atomic.Int64 // records Write took
	preCommits int
	assigned   atomic.Int64 // partitions assigned, over time
	owned      map[connector.TopicPartition]bool
	buf        map[connector.TopicPartition][]int64 // offsets buffered
	last       map[connector.TopicPartition]int64   // last offset written since Assigned
}

func newBatchSink(n int, store unitStore, v *violations) *batchSink {
	return &batchSink{n: n, store: store, v: v, owned: map[connector.TopicPartition]bool{},
		buf: map[connector.TopicPartition][]int64{}, last: map[connector.TopicPartition]int64{}}
}

func (s *batchSink) enter(what string) func() {
	if !s.busy.CompareAndSwap(false, true) {
		s.v.add("task %d: %s while another call of the sink runs", s.task.Load(), what)
		return func() {}
	}
	return func() { s.busy.Store(false) }
}

func (s *batchSink) Open(_ context.Context, tc *connector.TaskContext) error {
	defer s.enter("Open")()
	s.task.Store(int32(tc.Task))
	return nil
}

func (s *batchSink) Close() error {
	defer s.enter("Close")()
	return nil
}

func (s *batchSink) Flush(context.Context) error {
	defer s.enter("Flush")()
	s.v.add("task %d: Flush called on a Committer", s.task.Load())
	return nil
}

func (s *batchSink) Write(_ context.Context, recs []connector.Record) error {
	defer s.enter("Write")()
	for _, r := range recs {
		if s.fail != nil {
			if err := s.fail(s.handed.Load()); err != nil {
				return err
			}
		}
		tp := connector.TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if !s.owned[tp] {
			s.v.add("task %d: Write of %s/%d offset %d, not assigned", s.task.Load(), r.Topic, r.Partition, r.Offset)
		}
		if last, ok := s.last[tp]; ok && r.Offset <= last {
			s.v.add("task %d: Write of %s/%d offset %d after offset %d", s.task.Load(), r.Topic, r.Partition, r.Offset, last)
		}
		s.last[tp] = r.Offset
		s.buf[tp] = append(s.buf[tp], r.Offset)
		s.handed.Add(1)
		if len(s.buf[tp]) == s.n {
			if err := s.store1(tp); err != nil {
				return err
			}
		}
	}
	return nil
}

// store1 makes the buffer of tp durable.
func (s *batchSink) store1(tp connector.TopicPartition) error {
	time.Sleep(s.delay)
	if err := s.store.put(unit{Task: int(s.task.Load()), Topic: tp.Topic, Partition: tp.Partition, Offsets: s.buf[tp]}); err != nil {
		return err
	}
	s.buf[tp] = nil
	return nil
}

func (s *batchSink) PreCommit(_ context.Context, written map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error) {
	defer s.enter("PreCommit")()
	s.preCommits++
	if s.rotate > 0 && s.preCommits%s.rotate == 0 {
		for tp := range s.buf {
			if len(s.buf[tp]) > 0 {
				if err := s.store1(tp); err != nil {
					return nil, err
				}
			}
		}
	}
	durable := map[connector.TopicPartition]int64{}
	for tp, w := range written {
		if !s.owned[tp] {
			s.v.add("task %d: PreCommit of %s/%d, not assigned", s.task.Load(), tp.Topic, tp.Partition)
		}
		if last, ok := s.last[tp]; ok && w <= last {
			s.v.add("task %d: PreCommit of %s/%d at %d, but offset %d was written", s.task.Load(), tp.Topic, tp.Partition, w, last)
		}
		durable[tp] = w
		if b := s.buf[tp]; len(b) > 0 {
			durable[tp] = b[0]
		}
	}
	return durable, nil
}

func (s *batchSink) Assigned(_ context.Context, tps []connector.TopicPartition) error {
	defer s.enter("Assigned")()
	for _, tp := range tps {
		if s.owned[tp] {
			s.v.add("task %d: Assigned %s/%d, already assigned", s.task.Load(), tp.Topic, tp.Partition)
		}
		s.owned[tp] = true
		s.assigned.Add(1)
	}
	return nil
}

func (s *batchSink) Revoked(_ context.Context, tps []connector.TopicPartition) error {
	defer s.enter("Revoked")()
	for _, tp := range tps {
		if !s.owned[tp] {
			s.v.add("task %d: Revoked %s/%d, not assigned", s.task.Load(), tp.Topic, tp.Partition)
		}
		delete(s.owned, tp)
		delete(s.buf, tp)
		delete(s.last, tp)
	}
	return nil
}

// sinkFactory makes the sinks of a test's tasks and keeps them.
type sinkFactory struct {
	mu    sync.Mutex
	sinks []*batchSink
	make  func() *batchSink
}

func (f *sinkFactory) newSink() connector.Sink {
	s := f.make()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sinks = append(f.sinks, s)
	return s
}

func (f *sinkFactory) all() []*batchSink {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sinks)
}

// producePartitions writes, to each of the topic's partitions 0..parts-1,
// the records from..to-1: record i of partition p is at offset i.
func (c *cluster) producePartitions(t *testing.T, topic string, parts int32, from, to int) {
	t.Helper()
	var rs []*kgo.Record
	for p := range parts {
		for i := from; i < to; i++ {
			r := jsonRecord(topic, fmt.Sprintf("%d-%d", p, i), map[string]any{"i": i})
			r.Partition, r.Context = p, manualPartition
			rs = append(rs, r)
		}
	}
	c.produce(t, rs...)
}

// durableCounts counts how many times each partition/offset is in units.
func durableCounts(units []unit) map[connector.TopicPartition]map[int64]int {
	out := map[connector.TopicPartition]map[int64]int{}
	for _, u := range units {
		tp := connector.TopicPartition{Topic: u.Topic, Partition: u.Partition}
		if out[tp] == nil {
			out[tp] = map[int64]int{}
		}
		for _, o := range u.Offsets {
			out[tp][o]++
		}
	}
	return out
}

// complete reports whether units hold offsets 0..n-1 of the topic's
// partitions 0..parts-1.
func complete(units []unit, topic string, parts int32, n int) bool {
	counts := durableCounts(units)
	for p := range parts {
		got := counts[connector.TopicPartition{Topic: topic, Partition: p}]
		for o := range int64(n) {
			if got[o] == 0 {
				return false
			}
		}
	}
	return true
}

// checkOnce fails unless units hold offsets 0..n-1 of every partition
// exactly once.
func checkOnce(t *testing.T, units []unit, topic string, parts int32, n int) {
	t.Helper()
	var lost, twice []string
	counts := durableCounts(units)
	for p := range parts {
		got := counts[connector.TopicPartition{Topic: topic, Partition: p}]
		for o := range int64(n) {
			switch got[o] {
			case 0:
				lost = append(lost, fmt.Sprintf("%d/%d", p, o))
			case 1:
			default:
				twice = append(twice, fmt.Sprintf("%d/%d ×%d", p, o, got[o]))
			}
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d records lost: %s", len(lost), strings.Join(lost, " "))
	}
	if len(twice) > 0 {
		t.Errorf("%d records written more than once: %s", len(twice), strings.Join(twice, " "))
	}
}

// committedOffsets returns a group's committed offset of each partition of
// a topic.
func (c *cluster) committedOffsets(t *testing.T, group, topic string) map[int32]int64 {
	t.Helper()
	out := map[int32]int64{}
	offs, err := c.admin.FetchOffsets(context.Background(), group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out
}

// TestCommitterRebalance runs two tasks of a sink pipeline whose sink makes
// records durable 10 at a time: task 0 alone, then task 1 too (partitions
// move to it while task 0 holds records it has not made durable), then
// task 0 alone again after task 1 stops. The commit interval is an hour,
// so offsets are committed only when partitions are revoked and at the
// stop: every record ends durable exactly once, because a revoked
// partition's durable records are committed before it moves and what
// was buffered of it is dropped, not written by both tasks.
func TestCommitterRebalance(t *testing.T) {
	const parts, n = 4, 10
	c := startCluster(t)
	c.createTopic(t, "in", parts)
	store := &memStore{}
	var v violations
	f := &sinkFactory{make: func() *batchSink { return newBatchSink(n, store, &v) }}
	reg := testRegistry(t, nil, f.newSink)
	p := mustCompile(t, "sink.test.files", &control.PipelineSpec{Kind: "sink", Type: "test", Tasks: 2, Topics: []string{"in"}}, reg)
	args := func(task int) TaskArgs {
		a := sinkArgs(c, p)
		a.Task, a.FlushInterval = task, time.Hour
		return a
	}
	durable := func() int {
		n := 0
		for _, u := range store.snapshot() {
			n += len(u.Offsets)
		}
		return n
	}

	// 105 records a partition: 100 durable, 5 buffered.
	c.producePartitions(t, "in", parts, 0, 105)
	a0 := args(0)
	t0 := runTask(t, a0)
	waitFor(t, "task 0 to write 105 records a partition", func() bool {
		return a0.Counters.Out.Load() == 105*parts && durable() == 100*parts
	})

	a1 := args(1)
	t1 := runTask(t, a1)
	waitFor(t, "partitions to move to task 1", func() bool {
		for _, s := range f.all() {
			if s.task.Load() == 1 && s.assigned.Load() > 0 {
				return true
			}
		}
		return false
	})
	c.producePartitions(t, "in", parts, 105, 205)
	waitFor(t, "offsets 0..199 durable", func() bool { return complete(store.snapshot(), "in", parts, 200) })
	if a1.Counters.Out.Load() == 0 {
		t.Fatal("task 1 was given no records")
	}

	c.producePartitions(t, "in", parts, 205, 305)
	if _, err := t1.stop(t); err != nil {
		t.Fatalf("task 1: %v", err)
	}
	c.producePartitions(t, "in", parts, 305, 310)
	waitFor(t, "every record durable", func() bool { return complete(store.snapshot(), "in", parts, 310) })
	if _, err := t0.stop(t); err != nil {
		t.Fatalf("task 0: %v", err)
	}

	v.check(t)
	checkOnce(t, store.snapshot(), "in", parts, 310)
	want := map[int32]int64{0: 310, 1: 310, 2: 310, 3: 310}
	if diff := cmp.Diff(want, c.committedOffsets(t, "fleet.sink.test.files", "in")); diff != "" {
		t.Errorf("committed offsets (-want +got):\n%s", diff)
	}
	for _, s := range f.all() {
		if s.assigned.Load() == 0 {
			t.Errorf("the sink of task %d was assigned no partition", s.task.Load())
		}
	}
}

// TestCommitterTaskFailure fails a task in the middle of the stream, after
// the sink made records durable that are not all committed, and runs it
// again: every record ends durable, and the records written twice are
// exactly those the first run made durable past its last commit.
func TestCommitterTaskFailure(t *testing.T) {
	const parts, n, total = 2, 10, 500
	c := startCluster(t)
	c.createTopic(t, "in", parts)
	// Many small batches (of 7: the sink holds records it has not made
	// durable when the task commits), fetched a few at a time (below): the
	// task commits several times before it fails.
	for i := 0; i < total; i += 7 {
		c.producePartitions(t, "in", parts, i, min(i+7, total))
	}
	store := &memStore{}
	var v violations
	first := true
	f := &sinkFactory{make: func() *batchSink {
		s := newBatchSink(n, store, &v)
		if first {
			first = false
			s.delay = time.Millisecond // so that commits happen on the way
			s.fail = func(handed int64) error {
				if handed >= 600 {
					return errors.New("disk gone")
				}
				return nil
			}
		}
		return s
	}}
	reg := testRegistry(t, nil, f.newSink)
	p := mustCompile(t, "sink.test.files", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}}, reg)
	a := sinkArgs(c, p)
	a.FlushInterval = 20 * time.Millisecond
	a.NewConsumer = func(opts ...kgo.Opt) (*kgo.Client, error) {
		return c.newConsumer(append([]kgo.Opt{kgo.FetchMaxPartitionBytes(1000)}, opts...)...)
	}
	var te *TaskError
	if err := runTask(t, a).wait(t); !errors.As(err, &te) || te.Stage != StageSink {
		t.Fatalf("first run: %v, want a failure at stage sink", err)
	}
	atFailure := c.committedOffsets(t, "fleet.sink.test.files", "in")
	before := store.snapshot()

	a.Counters = &Counters{}
	r := runTask(t, a)
	waitFor(t, "every record durable", func() bool { return complete(store.snapshot(), "in", parts, total) })
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	v.check(t)

	// Written twice: what the first run made durable at or past its
	// last commit, nothing else.
	var want, got []string
	for _, u := range before {
		for _, o := range u.Offsets {
			if o >= atFailure[u.Partition] {
				want = append(want, fmt.Sprintf("%d/%d", u.Partition, o))
			}
		}
	}
	for tp, offs := range durableCounts(store.snapshot()) {
		for o, k := range offs {
			if k > 1 {
				got = append(got, fmt.Sprintf("%d/%d", tp.Partition, o))
			}
			if k > 2 {
				t.Errorf("%d/%d written %d times", tp.Partition, o, k)
			}
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records written twice (-want: durable past the commit at the failure, +got):\n%s", diff)
	}
	if !complete(store.snapshot(), "in", parts, total) {
		t.Error("records lost")
	}
	t.Logf("committed at the failure: %v; %d records written twice", atFailure, len(got))
}

// TestCommitterAskedWhileIdle gives a sink whose buffers become durable
// only at every third PreCommit (a time-based rotation) records, then
// none: the task keeps asking every commit interval while records are not
// committed, so they are committed without another record coming.
func TestCommitterAskedWhileIdle(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 1)
	c.producePartitions(t, "in", 1, 0, 50)
	store := &memStore{}
	var v violations
	f := &sinkFactory{make: func() *batchSink {
		s := newBatchSink(1000, store, &v)
		s.rotate = 3
		return s
	}}
	reg := testRegistry(t, nil, f.newSink)
	p := mustCompile(t, "sink.test.files", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}}, reg)
	a := sinkArgs(c, p)
	r := runTask(t, a)
	waitFor(t, "the records committed", func() bool {
		return c.committedOffsets(t, "fleet.sink.test.files", "in")[0] == 50
	})
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	v.check(t)
	checkOnce(t, store.snapshot(), "in", 1, 50)
}

// answerSink is a Committer (and nothing more) whose PreCommit answers by
// a rule per partition, and records what it was given.
type answerSink struct {
	connector.UnimplementedSink
	mu      sync.Mutex
	answer  func(tp connector.TopicPartition, written int64) (int64, bool)
	written map[connector.TopicPartition]int64 // the last PreCommit's, by partition
	calls   int
	flushes int
}

func (s *answerSink) Open(context.Context, *connector.TaskContext) error { return nil }
func (s *answerSink) Close() error                                       { return nil }
func (s *answerSink) Write(context.Context, []connector.Record) error    { return nil }
func (s *answerSink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	return nil
}

func (s *answerSink) PreCommit(_ context.Context, written map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	// The answer is written itself, changed, as the SDK allows.
	for tp, w := range written {
		s.written[tp] = w
		if at, ok := s.answer(tp, w); ok {
			written[tp] = at
		} else {
			delete(written, tp)
		}
	}
	return written, nil
}

// TestCommitterAnswer checks what the task makes of PreCommit's answer:
// written counts filtered records; an offset above the one given commits
// the one given; one below commits itself; a partition left out is not
// committed; Flush is never called.
func TestCommitterAnswer(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 3)
	var rs []*kgo.Record
	for p := range int32(3) {
		for i := range 10 {
			r := jsonRecord("in", fmt.Sprint(i), map[string]any{"keep": i < 8})
			r.Partition, r.Context = p, manualPartition
			rs = append(rs, r)
		}
	}
	c.produce(t, rs...)
	sink := &answerSink{written: map[connector.TopicPartition]int64{}, answer: func(tp connector.TopicPartition, w int64) (int64, bool) {
		switch tp.Partition {
		case 0:
			return w + 100, true
		case 1:
			return 0, false
		}
		return w - 3, true
	}}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	spec := &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"},
		Transforms: []control.TransformSpec{{Name: "keep", Filter: "value.keep"}}}
	a := sinkArgs(c, mustCompile(t, "sink.test.answer", spec, reg))
	r := runTask(t, a)
	// Three PreCommits alone do not say that every partition was read: a
	// poll may bring some partitions only (one whose offset loaded later
	// comes with a later fetch, after the broker's fetch wait), and
	// partition 1, never committed, has the task ask every interval
	// meanwhile. A partition first handled after the stop began is not
	// read at all. So wait until PreCommit was given every partition's
	// last offset: each answer is committed before the next poll.
	waitFor(t, "PreCommits of every partition's last offset", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		for p := range int32(3) {
			if sink.written[connector.TopicPartition{Topic: "in", Partition: p}] != 10 {
				return false
			}
		}
		return sink.calls >= 3
	})
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int32]int64{0: 10, 2: 7}, c.committedOffsets(t, "fleet.sink.test.answer", "in")); diff != "" {
		t.Errorf("committed offsets (-want +got):\n%s", diff)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	// Partition 1 is asked again and again; the others only while not
	// committed.
	want := map[connector.TopicPartition]int64{{Topic: "in", Partition: 0}: 10, {Topic: "in", Partition: 1}: 10, {Topic: "in", Partition: 2}: 10}
	if diff := cmp.Diff(want, sink.written); diff != "" {
		t.Errorf("PreCommit was given (-want +got):\n%s", diff)
	}
	if sink.flushes != 0 {
		t.Errorf("Flush called %d times on a Committer", sink.flushes)
	}
}

// awareSink is a PartitionsAware sink that is no Committer: it is flushed
// and everything is committed, as for any sink, and it is told of its
// partitions.
type awareSink struct {
	recordingSink
	events []string
}

func (s *awareSink) Write(ctx context.Context, recs []connector.Record) error {
	s.mu.Lock()
	s.events = append(s.events, "write")
	s.mu.Unlock()
	return s.recordingSink.Write(ctx, recs)
}

func (s *awareSink) Assigned(_ context.Context, tps []connector.TopicPartition) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, fmt.Sprint("assigned ", tps))
	return nil
}

func (s *awareSink) Revoked(_ context.Context, tps []connector.TopicPartition) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, fmt.Sprint("revoked ", tps))
	return nil
}

// TestSinkPartitionsAware runs a PartitionsAware sink that is no
// Committer: it is told of its partitions before their first Write and at
// the stop, and it is flushed and committed as any sink.
func TestSinkPartitionsAware(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 2)
	c.producePartitions(t, "in", 2, 0, 50)
	sink := &awareSink{}
	reg := testRegistry(t, nil, func() connector.Sink { return sink })
	a := sinkArgs(c, mustCompile(t, "sink.test.aware", &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}}, reg))
	r := runTask(t, a)
	waitFor(t, "every record durable", func() bool { return sink.durableCount() == 100 })
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	events := slices.Compact(slices.Clone(sink.events))
	sink.mu.Unlock()
	want := []string{"assigned [{in 0} {in 1}]", "write", "revoked [{in 0} {in 1}]"}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got, repeated writes as one):\n%s", diff)
	}
	if got := c.committed(t, "fleet.sink.test.aware", "in"); got != 100 {
		t.Errorf("committed %d, want 100", got)
	}
}
