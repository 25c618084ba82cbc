//go:build long

package worker_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestLongWorkerKill9 kill -9s a worker process while 20,000 records flow
// through a generator → topic → file pipeline, starts another, and checks
// that every record id reaches the file (at least once; duplicates are
// counted and reported, as at-least-once delivery allows them).
func TestLongWorkerKill9(t *testing.T) {
	const n = 20000
	f := newFixture(t, "kill")
	f.apply(fmt.Sprintf(`
topic "t" {
  partitions = 3
}
source "generator" "g" {
  topic = topic.t.name
  rate  = 2000
  count = %d
  tasks = 2
  value = "{'id': seq}"
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "out.jsonl"
}
`, n/2))
	out := filepath.Join(f.dir, "out.jsonl")
	first := f.startWorkerProcess()
	eventually(t, 60*time.Second, "a quarter of the records", func() (bool, string) {
		c := len(readLines(out))
		return c > n/4, fmt.Sprint(c)
	})
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	first.done <- nil
	atKill := len(readLines(out))
	f.startWorkerProcess()
	ids := map[int]int{}
	eventually(t, 180*time.Second, "every id in the file", func() (bool, string) {
		clear(ids)
		for _, line := range readLines(out) {
			var rec struct{ ID int }
			if json.Unmarshal([]byte(line), &rec) == nil {
				ids[rec.ID]++
			}
		}
		return len(ids) == n, fmt.Sprintf("%d of %d ids", len(ids), n)
	})
	dups := 0
	for id := range n {
		if ids[id] == 0 {
			t.Fatalf("id %d was lost", id)
		}
		dups += ids[id] - 1
	}
	t.Logf("kill -9 after %d lines: all %d ids arrived, %d duplicates (at-least-once)", atKill, n, dups)
}
