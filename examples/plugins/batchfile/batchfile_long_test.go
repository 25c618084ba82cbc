//go:build long

package batchfile_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

// TestLongKill9 runs the custom binary as a broker and a worker, kill -9s
// the worker while it writes files and starts it again: because a file is
// named by its first offset and written whole, the records that come again
// rewrite the same files, and the directory holds every record once (the
// source writes exactly once, so the topic holds every id once too: end to
// end, every id once).
func TestLongKill9(t *testing.T) {
	const n, per = 20000, 100
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "pipectl-batchfile")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/pipectl-batchfile").CombinedOutput(); err != nil {
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
  topic = topic.orders.name
  rate  = 2000
  count = %d
  value = "{'id': seq}"
  # Each id once in the topic; the sink's files keep it once.
  delivery = "exactly_once"
}
sink "batchfile" "archive" {
  topics           = [topic.orders.name]
  dir              = "out"
  records_per_file = %d
}
`, n, per)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, bin, broker.Addr)
	if out, err := exec.Command(bin, "apply", "-auto-approve", "-brokers", broker.Addr, dir).CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "out")
	count := func() int {
		names, _ := filepath.Glob(filepath.Join(out, "*.jsonl"))
		return len(names)
	}
	waitUntil(t, "a quarter of the files", func() bool { return count() >= n/per/4 })
	if err := w.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = w.Wait()
	atKill := count()
	startWorker(t, bin, broker.Addr)
	waitUntil(t, "every file", func() bool { return count() == n/per })
	ids := readIDs(t, out)
	for id := range n {
		if ids[id] != 1 {
			t.Errorf("id %d is in the files %d times, want once", id, ids[id])
		}
	}
	t.Logf("kill -9 after %d of %d files: every id once", atKill, n/per)
}

var listening = regexp.MustCompile(`^worker \S+ listening on http://\S+$`)

// startWorker starts `BIN worker` of the fleet "shop" and waits for its
// listening line; the test's end kills it.
func startWorker(t *testing.T, bin, brokers string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "worker", "-brokers", brokers, "-fleet", "shop", "-http", "127.0.0.1:0")
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
		if !listening.MatchString(l) {
			t.Fatalf("worker printed %q, want its listening line", l)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not start in 60 s")
	}
	return cmd
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
