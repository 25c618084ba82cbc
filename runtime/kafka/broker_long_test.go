//go:build long

package kafka_test

import (
	"context"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

// TestLongBrokerSurvivesKill9 runs `pipectl broker -data-dir D` as a
// process and kills it with SIGKILL three times, each time after producing
// a batch of records and committing a consumer group offset, restarting it
// on the same port and data directory. In the end every acknowledged
// record is there exactly once, and the group's committed offsets are the
// last ones committed.
func TestLongBrokerSurvivesKill9(t *testing.T) {
	const (
		topic  = "durable"
		group  = "durable-readers"
		rounds = 3
		perRun = 5000
	)
	bin := buildPipectl(t)
	dir := t.TempDir()

	p := kafkatest.StartProcess(t, bin, "-listen", "127.0.0.1:0", "-data-dir", dir)
	_, port, err := net.SplitHostPort(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	listen := "127.0.0.1:" + port
	cfg := kafka.Config{Brokers: []string{p.Addr}}
	{
		cl := newClient(t, cfg)
		if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: topic, Partitions: 4}); err != nil {
			t.Fatal(err)
		}
		cl.Close()
	}

	for round := range rounds {
		cl := newClient(t, cfg)
		recs := make([]*kgo.Record, perRun)
		for i := range recs {
			n := round*perRun + i
			recs[i] = &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(n)), Value: []byte("v" + strconv.Itoa(n))}
		}
		if err := cl.ProduceSync(testCtx(t), recs...).FirstErr(); err != nil {
			t.Fatalf("round %d: produce: %v", round, err)
		}
		// Commit the group at the end of every partition.
		adm := kadm.NewClient(cl)
		ends, err := adm.ListEndOffsets(testCtx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		if err := adm.CommitAllOffsets(testCtx(t), group, ends.Offsets()); err != nil {
			t.Fatalf("round %d: commit: %v", round, err)
		}
		cl.Close()

		if code := p.Stop(t, os.Kill); code != -1 {
			t.Fatalf("round %d: exit code %d after SIGKILL; want -1 (killed)", round, code)
		}
		p = kafkatest.StartProcess(t, bin, "-listen", listen, "-data-dir", dir)
		if p.Addr != listen {
			t.Fatalf("restarted on %s; want %s", p.Addr, listen)
		}
	}

	consumeN(t, cfg, topic, rounds*perRun)

	cl := newClient(t, cfg)
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(testCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(testCtx(t), group)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) {
		total += o.Offset
		c, ok := committed.Lookup(topic, o.Partition)
		if !ok || c.At != o.Offset {
			t.Errorf("partition %d: committed offset %v; want the end, %d", o.Partition, c.At, o.Offset)
		}
	})
	if total != rounds*perRun {
		t.Errorf("end offsets sum to %d; want %d", total, rounds*perRun)
	}
	if code := p.Stop(t, os.Interrupt); code != 0 {
		t.Errorf("SIGINT: exit code %d; want 0\n%s", code, p.Stderr())
	}
}

// TestLongBrokerKeepsAckedRecords kills `pipectl broker -data-dir D` with
// SIGKILL while a producer is writing, restarts it on the same port and
// data directory, lets the same producer carry on, and then checks that
// every record the broker acknowledged, before or after the kill, is
// there.
func TestLongBrokerKeepsAckedRecords(t *testing.T) {
	const topic = "acked"
	bin := buildPipectl(t)
	dir := t.TempDir()

	p := kafkatest.StartProcess(t, bin, "-listen", "127.0.0.1:0", "-data-dir", dir)
	cfg := kafka.Config{Brokers: []string{p.Addr}}
	cl := newClient(t, cfg)
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: topic, Partitions: 3}); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked []string
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := "v" + strconv.Itoa(i)
			cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: []byte(v)}, func(_ *kgo.Record, err error) {
				if err == nil {
					mu.Lock()
					acked = append(acked, v)
					mu.Unlock()
				}
			})
			if i%100 == 99 {
				time.Sleep(time.Millisecond) // keep the buffer from filling while the broker is down
			}
		}
	})
	countAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitAcked := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for countAcked() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d records acknowledged; want %d", countAcked(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	waitAcked(20000)
	if code := p.Stop(t, os.Kill); code != -1 {
		t.Fatalf("exit code %d after SIGKILL; want -1 (killed)", code)
	}
	beforeKill := countAcked()
	p = kafkatest.StartProcess(t, bin, "-listen", p.Addr, "-data-dir", dir)
	waitAcked(beforeKill + 20000)
	close(stop)
	wg.Wait()
	if err := cl.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	want := slices.Clone(acked)
	mu.Unlock()
	seen := make(map[string]int)
	total := 0
	rd := newClient(t, cfg, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t)
	for total < len(want) {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++; total++ })
	}
	missing := 0
	for _, v := range want {
		if seen[v] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged records are missing after the kill -9", missing, len(want))
	}
	t.Logf("%d records acknowledged, %d before the kill; %d read", len(want), beforeKill, total)
	if code := p.Stop(t, os.Interrupt); code != 0 {
		t.Errorf("SIGINT: exit code %d; want 0\n%s", code, p.Stderr())
	}
}
