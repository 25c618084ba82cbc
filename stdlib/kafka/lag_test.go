package kafka_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/kafka"
)

// lagOf returns what the source reports of each partition, by
// "topic/partition".
func lagOf(t *testing.T, s connector.Source) map[string]connector.SourceLag {
	t.Helper()
	lr, ok := s.(connector.LagReporter)
	if !ok {
		t.Fatal("the kafka source is no connector.LagReporter")
	}
	out := map[string]connector.SourceLag{}
	for _, l := range lr.Lag() {
		out[fmt.Sprintf("%s/%v", l.Partition["topic"], l.Partition["partition"])] = l
	}
	return out
}

// TestSourceReportsLag checks the mirror's lag: records behind the end of
// a partition it polled part of, with the age of the last one polled; 0
// and no latency once it polled everything, also on a partition whose
// records came in a transaction (its commit marker is past the last
// record); nothing for a partition it polled nothing of. Lag runs beside
// Poll, as the worker calls it (go test -race checks the lock).
func TestSourceReportsLag(t *testing.T) {
	const total = 1200 // more than one Poll returns (500)
	src := newCluster(t, map[string]int32{"orders": 3})
	var recs []*kgo.Record
	for i := range total {
		recs = append(recs, &kgo.Record{Topic: "orders", Partition: 0, Timestamp: ms(int64(i)), Value: []byte(fmt.Sprint(i))})
	}
	src.produce(t, recs...)

	defer kafka.SetPollMax(500)()
	s := openSource(t, map[string]any{"brokers": src.addrs, "topics": []string{"orders"}, "start_from": "earliest"}, 0, 1, nil)
	if got := lagOf(t, s); len(got) != 0 {
		t.Errorf("lag before any Poll = %+v, want none", got)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				s.(connector.LagReporter).Lag()
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	polled := 0
	deadline := time.Now().Add(10 * time.Second)
	for polled == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no records polled in 10 s")
		}
		got, err := s.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		polled = len(got)
	}
	if polled >= total {
		t.Fatalf("one Poll returned %d records, want fewer than %d", polled, total)
	}
	before := time.Now()
	lag := lagOf(t, s)
	o0, ok := lag["orders/0"]
	if !ok || len(lag) != 1 {
		t.Fatalf("lag after one Poll = %+v, want orders/0 only", lag)
	}
	if want := int64(total - polled); o0.Records != want {
		t.Errorf("orders/0 lag = %d records, want %d (%d polled of %d)", o0.Records, want, polled, total)
	}
	// The last record polled is record polled-1, stamped ms(polled-1).
	if oldest := before.Sub(ms(int64(polled - 1))); o0.Latency <= 0 || o0.Latency > oldest {
		t.Errorf("orders/0 latency = %v, want more than 0 and at most %v", o0.Latency, oldest)
	}

	// Three records in a committed transaction on orders/1.
	txn, err := kgo.NewClient(kgo.SeedBrokers(src.addrs...), kgo.TransactionalID("lag-test"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	ctx := context.Background()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := txn.ProduceSync(ctx, &kgo.Record{Topic: "orders", Partition: 1, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}

	// Poll on until both partitions are caught up.
	for polled < total+3 {
		if time.Now().After(deadline) {
			t.Fatalf("polled %d of %d records in 10 s", polled, total+3)
		}
		got, err := s.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		polled += len(got)
	}
	caughtUp := func() bool {
		lag = lagOf(t, s)
		return lag["orders/0"].Records == 0 && lag["orders/1"].Records == 0 && len(lag) == 2
	}
	for !caughtUp() {
		// The commit marker may come in a fetch of its own.
		if time.Now().After(deadline) {
			t.Fatalf("lag once every record was polled = %+v, want 0 on orders/0 and orders/1", lag)
		}
		if got, err := s.Poll(context.Background()); err != nil || len(got) > 0 {
			t.Fatalf("Poll after the last record: %d records (%v)", len(got), err)
		}
	}
	for p, l := range lag {
		if l.Latency != 0 {
			t.Errorf("%s latency once caught up = %v, want 0", p, l.Latency)
		}
	}
}
