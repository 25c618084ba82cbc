package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/kafka"
)

// mirrorInto runs a mirror task as the worker would: it polls, produces
// the records to the target in their partition, tells the task where they
// were stored (Acked) and stops once want records went out.
func mirrorInto(t *testing.T, s connector.Source, target *cluster, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; n < want; {
		if time.Now().After(deadline) {
			t.Fatalf("mirrored %d of %d records", n, want)
		}
		recs, err := s.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := make([]*kgo.Record, len(recs))
		for i, r := range recs {
			out[i] = &kgo.Record{Topic: r.Topic, Partition: r.Partition, Key: r.Key.([]byte), Value: r.Value.([]byte), Timestamp: r.Timestamp}
		}
		target.produce(t, out...)
		for i := range recs {
			recs[i].Topic, recs[i].Partition, recs[i].Offset = out[i].Topic, out[i].Partition, out[i].Offset
		}
		s.(interface{ Acked([]connector.Record) }).Acked(recs)
		n += len(recs)
	}
}

// TestCheckpointsTranslateGroupOffsets mirrors a topic into a target that
// already holds records (so that offsets differ), checkpoints a group of
// the origin and syncs its offsets: the group resumes on the target with
// every record it had not read, and reads again fewer than offset_lag_max.
func TestCheckpointsTranslateGroupOffsets(t *testing.T) {
	const perPartition, lagMax = 500, 50
	origin := newCluster(t, map[string]int32{"orders": 2})
	target := newCluster(t, map[string]int32{"backup.orders": 2})
	// Records already on the target: offsets there are 7 past the origin's.
	var recs []*kgo.Record
	for p := range int32(2) {
		for i := range 7 {
			recs = append(recs, &kgo.Record{Topic: "backup.orders", Partition: p, Value: fmt.Appendf(nil, "old %d", i)})
		}
	}
	target.produce(t, recs...)
	recs = recs[:0]
	for p := range int32(2) {
		for i := range perPartition {
			recs = append(recs, &kgo.Record{Topic: "orders", Partition: p, Key: fmt.Appendf(nil, "%d-%d", p, i), Value: []byte("v")})
		}
	}
	origin.produce(t, recs...)
	// The group read 123 records of partition 0 and all of partition 1.
	committed := map[int32]int64{0: 123, 1: perPartition}
	offsets := kadm.Offsets{}
	for p, at := range committed {
		offsets.Add(kadm.Offset{Topic: "orders", Partition: p, At: at, LeaderEpoch: -1})
	}
	if resp, err := kadm.NewClient(origin.cl).CommitOffsets(context.Background(), "app", offsets); err != nil || resp.Error() != nil {
		t.Fatalf("commit on the origin: %v %v", err, resp.Error())
	}

	s := kafka.Source().NewSource()
	tc := &connector.TaskContext{Pipeline: "source.kafka.dr", Fleet: "f", Tasks: 1,
		Config: map[string]any{"brokers": origin.addrs, "topics": []string{"orders"}, "topic_prefix": "backup.",
			"groups": []string{"app"}, "checkpoint_interval": "100ms", "sync_group_offsets": true, "offset_lag_max": int64(lagMax)},
		Cluster: &connector.Cluster{Brokers: target.addrs}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	mirrorInto(t, s, target, 2*perPartition)

	// Checkpoints come with the next Polls.
	adm := kadm.NewClient(target.cl)
	topic := kafka.CheckpointsTopic("f", "source.kafka.dr")
	var cps []kafka.Checkpoint
	deadline := time.Now().Add(10 * time.Second)
	for len(cps) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("checkpoints after 10s: %+v", cps)
		}
		if _, err := s.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		var err error
		if cps, err = kafka.ReadCheckpoints(context.Background(), target.cl, topic, []string{"app"}); err != nil {
			t.Fatal(err)
		}
	}
	fetched, err := adm.FetchOffsets(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range cps {
		exact := committed[cp.Partition] + 7 // where the next unread record is on the target
		if cp.Topic != "backup.orders" || cp.SourceTopic != "orders" || cp.Upstream != committed[cp.Partition] {
			t.Errorf("checkpoint %+v: want backup.orders from orders at %d", cp, committed[cp.Partition])
		}
		if cp.Downstream > exact || cp.Downstream <= exact-lagMax {
			t.Errorf("partition %d translated to %d; want in (%d, %d]: never past the next unread record, fewer than offset_lag_max again", cp.Partition, cp.Downstream, exact-lagMax, exact)
		}
		got, ok := fetched.Lookup("backup.orders", cp.Partition)
		if !ok || got.At != cp.Downstream {
			t.Errorf("the group's offset on the target, partition %d: %+v; want the checkpoint's %d", cp.Partition, got, cp.Downstream)
		}
	}

	// A group that moved on in the target is never moved back.
	ahead := kadm.Offsets{}
	ahead.Add(kadm.Offset{Topic: "backup.orders", Partition: 0, At: committed[0] + 300, LeaderEpoch: -1})
	if resp, err := adm.CommitOffsets(context.Background(), "app", ahead); err != nil || resp.Error() != nil {
		t.Fatalf("commit on the target: %v %v", err, resp.Error())
	}
	if err := kafka.CommitCheckpoints(context.Background(), adm, cps, true); err != nil {
		t.Fatal(err)
	}
	fetched, err = adm.FetchOffsets(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fetched.Lookup("backup.orders", 0); got.At != committed[0]+300 {
		t.Errorf("group moved back to %d; want it left at %d", got.At, committed[0]+300)
	}
}

// TestCheckpointsRefuseActiveGroup checks that a failover does not move the
// offsets of a group whose consumers already run on the target.
func TestCheckpointsRefuseActiveGroup(t *testing.T) {
	target := newCluster(t, map[string]int32{"backup.orders": 1})
	target.produce(t, &kgo.Record{Topic: "backup.orders", Value: []byte("v")})
	cl, err := kgo.NewClient(kgo.SeedBrokers(target.addrs...), kgo.ConsumerGroup("app"), kgo.ConsumeTopics("backup.orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if fs := cl.PollFetches(ctx); fs.NumRecords() == 0 {
		t.Fatalf("the group consumed nothing: %v", fs.Err())
	}
	err = kafka.CommitCheckpoints(ctx, kadm.NewClient(target.cl), []kafka.Checkpoint{{Group: "app", Topic: "backup.orders", Downstream: 1}}, true)
	if !errors.Is(err, kafka.ErrGroupActive) {
		t.Fatalf("committing the offsets of a group with a member: %v; want ErrGroupActive", err)
	}
}
