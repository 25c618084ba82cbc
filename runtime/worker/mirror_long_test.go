//go:build long

package worker_test

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
	stdkafka "github.com/pipectl/pipectl/stdlib/kafka"
)

// pyGroupConsume consumes a topic as a member of a group with librdkafka
// (python3-confluent-kafka): at most max records, or until it has been
// idle for idle seconds, then commits what it consumed and prints the
// values, one a line.
const pyGroupConsume = `
import sys
from confluent_kafka import Consumer
brokers, topic, group, most, idle_max = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
c = Consumer({"bootstrap.servers": brokers, "group.id": group, "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "enable.auto.offset.store": True})
c.subscribe([topic])
n, idle = 0, 0
out = []
while n < most and idle < idle_max:
    m = c.poll(1.0)
    if m is None:
        idle += 1
        continue
    idle = 0
    if m.error():
        continue
    out.append(m.value().decode())
    n += 1
c.commit(asynchronous=False)
c.close()
sys.stdout.write("\n".join(out) + "\n")
`

// TestLongMirrorFailover is the disaster-recovery drill: a mirror copies a
// 100,000-record topic of an origin broker (a pipectl broker process) and
// checkpoints group app; a librdkafka consumer in group app reads half of
// it on the origin and commits; the origin is killed (kill -9);
// pipectl mirror failover commits the translated offsets in the fleet's
// cluster; the same consumer resumes on the copy. Every record it had not
// read must arrive; the records it reads twice are counted and bounded by
// offset_lag_max per partition.
func TestLongMirrorFailover(t *testing.T) {
	const n, partitions, lagMax = 100000, 3, 100
	py := pythonKafka(t)
	bin := pipectlBinary(t)
	origin := kafkatest.StartProcess(t, bin, "-listen", "127.0.0.1:0")
	ocl, err := kafka.NewClient(kafka.Config{Brokers: []string{origin.Addr}}, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ocl.Close()
	oadm := kadm.NewClient(ocl)
	if _, err := oadm.CreateTopic(ctxFor(t, 30*time.Second), partitions, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "orders", Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))}
	}
	if err := ocl.ProduceSync(ctxFor(t, 60*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	f := newFixture(t, "dr")
	f.apply(fmt.Sprintf(`
source "kafka" "dr" {
  brokers             = [%q]
  topics              = ["orders"]
  topic_prefix        = "backup."
  groups              = ["app"]
  checkpoint_interval = "1s"
  offset_lag_max      = %d
  key_converter       = "bytes"
  value_converter     = "bytes"
  tasks               = 2
}
`, origin.Addr, lagMax))
	f.startWorker()

	// The consumer reads half on the origin, and commits.
	first := consume(t, py, origin.Addr, "orders", n/2)
	if len(first) != n/2 {
		t.Fatalf("read %d records on the origin, want %d", len(first), n/2)
	}
	fetched, err := oadm.FetchOffsets(ctxFor(t, 30*time.Second), "app")
	if err != nil {
		t.Fatal(err)
	}
	committed := map[int32]int64{}
	fetched.Each(func(o kadm.OffsetResponse) { committed[o.Partition] = o.At })
	t.Logf("group app committed on the origin: %v", committed)

	// Wait for the copy and for checkpoints of those offsets.
	eventually(t, 120*time.Second, "the copy and the checkpoints", func() (bool, string) {
		if end := f.topicEnd(t, "backup.orders"); end < n {
			return false, fmt.Sprintf("%d records copied", end)
		}
		cl, err := kafka.NewClient(f.kcfg)
		if err != nil {
			return false, err.Error()
		}
		defer cl.Close()
		cps, err := stdkafka.ReadCheckpoints(ctxFor(t, 30*time.Second), cl, stdkafka.CheckpointsTopic("dr", "source.kafka.dr"), []string{"app"})
		if err != nil {
			return false, err.Error()
		}
		at := map[int32]int64{}
		for _, cp := range cps {
			at[cp.Partition] = cp.Upstream
		}
		for p, o := range committed {
			if at[p] != o {
				return false, fmt.Sprintf("checkpoints at %v", at)
			}
		}
		return true, ""
	})

	if code := origin.Stop(t, syscall.SIGKILL); code != -1 {
		t.Fatalf("the origin exited with %d, want killed", code)
	}
	out, err := f.pipectl("mirror", "failover", "-groups", "app", "-auto-approve", "source.kafka.dr")
	if err != nil {
		t.Fatalf("pipectl mirror failover: %v\n%s", err, out)
	}
	t.Logf("pipectl mirror failover:\n%s", out)
	if !strings.Contains(out, "Failover complete") {
		t.Errorf("failover output lacks its completion line:\n%s", out)
	}

	// The same consumer resumes on the copy.
	second := consume(t, py, f.kcfg.Brokers[0], "backup.orders", n)
	seen := map[string]int{}
	for _, v := range first {
		seen[v]++
	}
	again := 0
	for _, v := range second {
		if seen[v] > 0 {
			again++
		}
		seen[v]++
	}
	var skipped []string
	for i := range n {
		if seen[strconv.Itoa(i)] == 0 {
			skipped = append(skipped, strconv.Itoa(i))
		}
	}
	if len(skipped) > 0 {
		t.Fatalf("%d records skipped after failover, e.g. %v", len(skipped), skipped[:min(10, len(skipped))])
	}
	t.Logf("failover of %d records (half read on the origin): none skipped, %d read again after failover (offset_lag_max %d, %d partitions)",
		n, again, lagMax, partitions)
	if again > lagMax*partitions {
		t.Errorf("%d records read again; want at most offset_lag_max × partitions = %d", again, lagMax*partitions)
	}
}

// consume runs pyGroupConsume as group app and returns the values it read.
func consume(t *testing.T, py, brokers, topic string, most int) []string {
	t.Helper()
	cmd := exec.Command(py, "-c", pyGroupConsume, brokers, topic, "app", strconv.Itoa(most), "15")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python consumer on %s: %v\n%s", topic, err, stderr.String())
	}
	return strings.Fields(string(out))
}
