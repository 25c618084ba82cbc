//go:build long

package s3_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/internal/s3test"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

// TestLongKill9 runs `pipectl broker` and `pipectl worker` as processes, a
// generator writing ids exactly once into a topic and sink "s3" writing
// them as Parquet objects of 200 records to versitygw, and kill -9s the
// worker three times while it uploads, starting it again each time. In the
// end the bucket holds every id exactly once, as hyparquet reads the
// objects, and each object is named by the offset of its first record.
// Then source "s3" restores the bucket into another topic, exactly once,
// and the worker is killed again mid-way: the restored topic holds the
// original records once each, in order, with their keys, values and
// timestamps (the position resumes from the offsets topic). The worker
// finds its credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
// (the pipelines set none).
func TestLongKill9(t *testing.T) {
	const n, per = 30000, 200
	srv := s3test.Start(t, "lake")
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "pipectl")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/pipectl/pipectl/cmd/pipectl").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	broker := kafkatest.StartProcess(t, bin, "-listen", "127.0.0.1:0", "-data-dir", filepath.Join(tmp, "data"))
	dir := filepath.Join(tmp, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`fleet {
  name = "shop"
}
topic "orders" {
  name       = "shop.orders"
  partitions = 1
}
source "generator" "orders" {
  topic    = topic.orders.name
  rate     = 1500
  count    = %d
  value    = "{'id': seq, 'name': 'order ' + string(seq)}"
  delivery = "exactly_once"
}
sink "s3" "lake" {
  topics          = [topic.orders.name]
  endpoint        = %q
  bucket          = "lake"
  format          = "parquet"
  compression     = "snappy"
  flush_records   = %d
  commit_interval = "300ms"
}
`, n, srv.Endpoint, per)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startWorkerProcess(t, bin, broker.Addr)
	if out, err := exec.Command(bin, "apply", "-auto-approve", "-brokers", broker.Addr, dir).CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	count := func() int { return len(srv.Objects(t, "lake", "shop.orders/")) }
	for kill := 1; kill <= 3; kill++ {
		target := kill * n / per / 4
		waitFor(t, fmt.Sprintf("%d objects", target), func() bool { return count() >= target })
		if err := w.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = w.Wait()
		t.Logf("kill -9 %d at %d of %d objects", kill, count(), n/per)
		w = startWorkerProcess(t, bin, broker.Addr)
	}
	waitFor(t, "every object", func() bool { return count() >= n/per })
	time.Sleep(2 * time.Second) // an object beyond them would show now
	names := srv.Objects(t, "lake", "shop.orders/")
	if len(names) != n/per {
		t.Fatalf("%d objects, want %d", len(names), n/per)
	}
	files := make([]string, len(names))
	for i, name := range names {
		files[i] = filepath.Join(tmp, fmt.Sprintf("o%d.parquet", i))
		if err := os.WriteFile(files[i], srv.Get(t, "lake", name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]int, n)
	nameOf := regexp.MustCompile(`^shop\.orders/shop\.orders\+0\+(\d{10})\.parquet$`)
	for i, rows := range hyparquetFiles(t, files...) {
		m := nameOf.FindStringSubmatch(names[i])
		if m == nil {
			t.Fatalf("object name %s", names[i])
		}
		if len(rows) != per {
			t.Errorf("%s holds %d rows, want %d", names[i], len(rows), per)
		}
		for j, row := range rows {
			if j == 0 && fmt.Sprintf("%010d", int64(row["offset"].(float64))) != m[1] {
				t.Errorf("%s starts at offset %v", names[i], row["offset"])
			}
			v := row["value"].(map[string]any)
			id := int(v["id"].(float64))
			if id < 0 || id >= n {
				t.Fatalf("id %d in %s", id, names[i])
			}
			ids[id]++
		}
	}
	for id, c := range ids {
		if c != 1 {
			t.Errorf("id %d is in the bucket %d times, want once", id, c)
		}
	}
	if t.Failed() {
		return
	}

	// Restore the bucket into another topic, exactly once, killing the
	// worker once mid-way: the restored topic holds the topic's records
	// once each, in order, with their keys, values and timestamps.
	restore := src + fmt.Sprintf(`
topic "restored" {
  name       = "shop.orders.restored"
  partitions = 1
}
source "s3" "restore" {
  endpoint      = %q
  bucket        = "lake"
  format        = "parquet"
  topic         = "topic + '.restored'"
  poll_interval = "1s"
  delivery      = "exactly_once"
}
`, srv.Endpoint)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(restore), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "apply", "-auto-approve", "-brokers", broker.Addr, dir).CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	kcfg := kafka.Config{Brokers: []string{broker.Addr}}
	waitFor(t, "a third restored", func() bool { return endOffset(t, kcfg, "shop.orders.restored") > n/3 })
	if err := w.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = w.Wait()
	t.Logf("kill -9 while restoring, at offset %d of the restored topic", endOffset(t, kcfg, "shop.orders.restored"))
	startWorkerProcess(t, bin, broker.Addr)
	orig := readTopic(t, kcfg, "shop.orders", n)
	got := readTopic(t, kcfg, "shop.orders.restored", n)
	if len(got) != len(orig) {
		t.Fatalf("%d records restored, want %d", len(got), len(orig))
	}
	for i := range orig {
		o, r := orig[i], got[i]
		if string(o.Key) != string(r.Key) || o.Timestamp.UnixMilli() != r.Timestamp.UnixMilli() || !cmp.Equal(decode(t, o.Value), decode(t, r.Value)) {
			t.Fatalf("record %d: restored key %q value %s at %v, want key %q value %s at %v", i, r.Key, r.Value, r.Timestamp, o.Key, o.Value, o.Timestamp)
		}
	}
}

// endOffset returns the end offset of partition 0 of a topic (0 when it
// does not exist yet).
func endOffset(t *testing.T, kcfg kafka.Config, topic string) int64 {
	t.Helper()
	opts, err := kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	o, _ := ends.Lookup(topic, 0)
	return o.Offset
}

// readTopic reads n committed records of partition 0 of a topic, in
// order (read_committed: what an aborted transaction wrote is not there).
func readTopic(t *testing.T, kcfg kafka.Config, topic string, n int) []*kgo.Record {
	t.Helper()
	opts, err := kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%d of %d records in %s after 180 s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	// Nothing beyond n.
	c2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	out = append(out, cl.PollFetches(c2).Records()...)
	return out
}

var workerListening = regexp.MustCompile(`^worker \S+ listening on http://\S+$`)

// startWorkerProcess starts `pipectl worker` of the fleet "shop" with the
// store's credentials in the AWS environment variables, and waits for its
// listening line; the test's end kills it.
func startWorkerProcess(t *testing.T, bin, brokers string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "worker", "-brokers", brokers, "-fleet", "shop", "-http", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s3test.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3test.SecretKey)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
		}
	}()
	select {
	case l := <-line:
		if !workerListening.MatchString(l) {
			t.Fatalf("worker printed %q, want its listening line", l)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not start in 60 s")
	}
	return cmd
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(180 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
