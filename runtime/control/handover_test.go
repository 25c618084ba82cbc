package control_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

func TestClearTarget(t *testing.T) {
	c, _ := newControl(t, "target")
	ctx := ctxT(t)
	if err := c.PutTarget(ctx, "sink.file.s", control.Target{Paused: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.ClearTarget(ctx, "sink.file.s"); err != nil {
		t.Fatal(err)
	}
	v, err := c.ReadStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Targets["sink.file.s"]; ok {
		t.Errorf("the target is still there: %+v", v.Targets)
	}
}

func TestCopyAndDeleteOffsets(t *testing.T) {
	c, _ := newControl(t, "move")
	ctx := ctxT(t)
	p1, p2 := map[string]any{"file": "/a"}, map[string]any{"file": "/b"}
	if err := c.SaveOffsets(ctx, "source.file.old", []control.SourceOffset{
		{Partition: p1, Offset: map[string]any{"position": 7}}, {Partition: p2, Offset: map[string]any{"position": 3}},
	}); err != nil {
		t.Fatal(err)
	}
	n, err := c.CopyOffsets(ctx, "source.file.old", "source.file.new")
	if err != nil || n != 2 {
		t.Fatalf("CopyOffsets = %d, %v; want 2, nil", n, err)
	}
	got, err := c.LoadOffsets(ctx, "source.file.new")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]control.SourceOffset{
		control.PartitionKey(p1): {Partition: p1, Offset: map[string]any{"position": float64(7)}},
		control.PartitionKey(p2): {Partition: p2, Offset: map[string]any{"position": float64(3)}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("copied offsets (-want +got):\n%s", diff)
	}
	if err := c.DeleteOffsets(ctx, "source.file.old"); err != nil {
		t.Fatal(err)
	}
	if left, err := c.LoadOffsets(ctx, "source.file.old"); err != nil || len(left) != 0 {
		t.Errorf("after DeleteOffsets: %v, %v; want none", left, err)
	}
	if kept, err := c.LoadOffsets(ctx, "source.file.new"); err != nil || len(kept) != 2 {
		t.Errorf("the copy lost offsets when the original was deleted: %v, %v", kept, err)
	}
}

func TestGroupOffsets(t *testing.T) {
	c, opts := newControl(t, "groups")
	ctx := ctxT(t)
	if err := kafka.EnsureTopics(ctx, c.Admin(), kafka.Topic{Name: "in", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	from, to := c.SinkGroup("sink.file.old"), c.SinkGroup("sink.file.new")
	if from != "groups.sink.file.old" {
		t.Errorf("SinkGroup = %q, want the engine's <fleet>.<address>", from)
	}
	set := kadm.Offsets{}
	set.AddOffset("in", 0, 5, -1)
	set.AddOffset("in", 1, 9, -1)
	if resp, err := c.Admin().CommitOffsets(ctx, from, set); err != nil || resp.Error() != nil {
		t.Fatalf("commit: %v %v", err, resp.Error())
	}
	n, err := c.CopyGroupOffsets(ctx, from, to)
	if err != nil || n != 2 {
		t.Fatalf("CopyGroupOffsets = %d, %v; want 2, nil", n, err)
	}
	got, err := c.Admin().FetchOffsets(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 5, 1: 9} {
		if o, ok := got.Lookup("in", p); !ok || o.At != want {
			t.Errorf("partition %d of %s: %+v, want offset %d", p, to, o, want)
		}
	}
	// A group with a member cannot be deleted; an empty one can, twice.
	member, err := kgo.NewClient(append(opts, kgo.ConsumerGroup(to), kgo.ConsumeTopics("in"))...)
	if err != nil {
		t.Fatal(err)
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		member.PollRecords(pctx, 1)
		cancel()
		if d, err := c.Admin().DescribeGroups(ctx, to); err == nil && len(d[to].Members) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the member never joined")
		}
	}
	if err := c.DeleteGroup(ctx, to); !errors.Is(err, control.ErrGroupActive) {
		t.Errorf("deleting an active group: %v, want ErrGroupActive", err)
	}
	member.Close()
	for _, g := range []string{from, from} {
		if err := c.DeleteGroup(ctx, g); err != nil {
			t.Errorf("DeleteGroup(%s) = %v", g, err)
		}
	}
	if n, err := c.CopyGroupOffsets(ctx, from, to); err != nil || n != 0 {
		t.Errorf("copy from a deleted group = %d, %v; want 0, nil", n, err)
	}
}

func TestIntents(t *testing.T) {
	c, _ := newControl(t, "intent")
	ctx := ctxT(t)
	if err := c.RecordIntents(ctx, control.NoSerial, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	serial, err := c.Commit(ctx, []control.Change{{Address: "topic.a", Resource: topicRes("topic.a", "a", 1)}}, control.NoSerial, control.CommitInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordIntents(ctx, serial, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadIntents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"a": control.NoSerial, "b": serial}, got); diff != "" {
		t.Errorf("intents (-want +got):\n%s", diff)
	}
	st, err := c.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != serial || len(st.Resources) != 1 {
		t.Errorf("intents changed the state: serial %d (want %d), %d resources", st.Serial, serial, len(st.Resources))
	}
}

// TestDescribeTopics sees a topic at once after it is created and
// deleted, where a cached answer would not.
func TestDescribeTopics(t *testing.T) {
	c, _ := newControl(t, "meta")
	ctx := ctxT(t)
	got, err := c.DescribeTopics(ctx, "fresh", "meta.configs")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["fresh"]; ok || got["meta.configs"].Partitions != 1 {
		t.Fatalf("before: %v", got)
	}
	if err := kafka.EnsureTopics(ctx, c.Admin(), kafka.Topic{Name: "fresh", Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	got, err = c.DescribeTopics(ctx, "fresh")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]control.TopicMeta{"fresh": {Partitions: 3, ReplicationFactor: 1}}, got); diff != "" {
		t.Errorf("after create (-want +got):\n%s", diff)
	}
	if _, err := c.Admin().DeleteTopic(ctx, "fresh"); err != nil {
		t.Fatal(err)
	}
	if got, err = c.DescribeTopics(ctx, "fresh"); err != nil || len(got) != 0 {
		t.Errorf("after delete: %v, %v", got, err)
	}
}

// TestRemoveStaticMembers: a static member stays in its group after its
// consumer closes, until RemoveStaticMembers removes it.
func TestRemoveStaticMembers(t *testing.T) {
	c, opts := newControl(t, "static")
	ctx := ctxT(t)
	if err := kafka.EnsureTopics(ctx, c.Admin(), kafka.Topic{Name: "in", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	group := c.SinkGroup("sink.file.s")
	member, err := kgo.NewClient(append(opts, kgo.ConsumerGroup(group), kgo.ConsumeTopics("in"), kgo.InstanceID(group+".0"))...)
	if err != nil {
		t.Fatal(err)
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		member.PollRecords(pctx, 1)
		cancel()
		if d, err := c.Admin().DescribeGroups(ctx, group); err == nil && len(d[group].Members) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the member never joined")
		}
	}
	member.Close()
	if err := c.DeleteGroup(ctx, group); !errors.Is(err, control.ErrGroupActive) {
		t.Fatalf("a closed static member left its group at once (%v): this test no longer tests anything", err)
	}
	n, err := c.RemoveStaticMembers(ctx, group)
	if err != nil || n != 1 {
		t.Fatalf("RemoveStaticMembers = %d, %v; want 1", n, err)
	}
	if err := c.DeleteGroup(ctx, group); err != nil {
		t.Errorf("DeleteGroup after removing the members: %v", err)
	}
}
