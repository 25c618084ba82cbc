//go:build long

package worker_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
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

// TestLongFileSinkKill9Backlog kill -9s the worker three times while the
// file sink works through a backlog of long lines, starting it again each
// time: the file must hold only whole records (no torn line survives a
// kill), and every id.
func TestLongFileSinkKill9Backlog(t *testing.T) {
	const n = 100000
	f := newFixture(t, "torn")
	f.apply(fmt.Sprintf(`
topic "t" {
  partitions = 2
}
source "generator" "g" {
  topic = topic.t.name
  count = %d
  value = "{'id': seq, 'pad': '%s'}"
}
`, n, strings.Repeat("x", 700)))
	// The backlog first, then the sink.
	w := f.startWorkerProcess()
	eventually(t, 120*time.Second, "the whole backlog in the topic", func() (bool, string) {
		c := f.topicEnd(t, "t")
		return c >= n, fmt.Sprint(c)
	})
	kill(t, w)
	f.apply(fmt.Sprintf(`
topic "t" {
  partitions = 2
}
source "generator" "g" {
  topic = topic.t.name
  count = %d
  value = "{'id': seq, 'pad': '%s'}"
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "out.jsonl"
}
`, n, strings.Repeat("x", 700)))
	out := filepath.Join(f.dir, "out.jsonl")
	for round := range 3 {
		w := f.startWorkerProcess()
		at := (round + 1) * n / 5
		eventually(t, 120*time.Second, fmt.Sprintf("%d lines before kill %d", at, round+1), func() (bool, string) {
			c := len(readLines(out))
			return c > at, fmt.Sprint(c)
		})
		kill(t, w)
	}
	f.startWorkerProcess()
	var ids map[int]int
	eventually(t, 180*time.Second, "every id in the file, and only whole lines", func() (bool, string) {
		var torn string
		ids, torn = fileIDs(t, out)
		return len(ids) == n && torn == "", fmt.Sprintf("%d of %d ids, %d bytes of a torn line at the end", len(ids), n, len(torn))
	})
	dups := 0
	for id := range n {
		dups += ids[id] - 1
	}
	t.Logf("three kill -9s during a backlog of %d records: every line whole, all ids, %d duplicates", n, dups)
}

// topicEnd sums the end offsets of a topic's partitions.
func (f *fixture) topicEnd(t *testing.T, topic string) int64 {
	t.Helper()
	ends, err := f.ctl.Admin().ListEndOffsets(ctxFor(t, 30*time.Second), topic)
	if err != nil {
		return 0
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	return sum
}

func kill(t *testing.T, w *workerProcess) {
	t.Helper()
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-w.done
	w.done <- nil
}
