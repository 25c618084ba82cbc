//go:build long

package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

// TestLongBrokerRestart kill -9s the broker (`pipectl broker -data-dir D`)
// while records flow through every kind of pipeline — a source, a sink, a
// kafka→kafka mirror at least once and exactly once, and an exactly-once
// source — and starts it again on the same port and directory 5 s later,
// within retry_timeout. Every pipeline must carry on by itself: no task
// fails, and in the end every id is there (exactly once where delivery is
// exactly once; the duplicates of at-least-once are reported).
func TestLongBrokerRestart(t *testing.T) {
	const n = 30000
	bin := pipectlBinary(t)
	data := t.TempDir()
	broker := kafkatest.StartProcess(t, bin, "-listen", "127.0.0.1:0", "-data-dir", data)
	addr := broker.Addr
	f := newFixtureAt(t, "restart", kafka.Config{Brokers: []string{addr}})
	f.apply(fmt.Sprintf(`
topic "src" {
  partitions = 3
}
topic "alo" {
  name       = "alo.src"
  partitions = 3
}
topic "eos" {
  name       = "eos.src"
  partitions = 3
}
topic "geos" {
  partitions = 3
}
source "generator" "g" {
  topic = topic.src.name
  rate  = 2500
  count = %[1]d
  value = "{'id': seq}"
}
sink "file" "out" {
  topics = [topic.src.name]
  path   = "out.jsonl"
}
source "kafka" "alo" {
  brokers         = [%[2]q]
  topics          = [topic.src.name]
  topic_prefix    = "alo."
  key_converter   = "bytes"
  value_converter = "bytes"
}
source "kafka" "eos" {
  brokers         = [%[2]q]
  topics          = [topic.src.name]
  topic_prefix    = "eos."
  key_converter   = "bytes"
  value_converter = "bytes"
  delivery        = "exactly_once"
}
source "generator" "geos" {
  topic    = topic.geos.name
  rate     = 2500
  count    = %[1]d
  value    = "{'id': seq}"
  delivery = "exactly_once"
}
`, n, addr))
	w := f.startWorkerProcess()
	out := filepath.Join(f.dir, "out.jsonl")
	eventually(t, 60*time.Second, "a quarter of the records in the file", func() (bool, string) {
		c := len(readLines(out))
		return c > n/4, fmt.Sprint(c)
	})
	if code := broker.Stop(t, os.Kill); code != -1 {
		t.Fatalf("exit code %d after SIGKILL; want -1 (killed)", code)
	}
	atKill := len(readLines(out))
	time.Sleep(5 * time.Second)
	broker = kafkatest.StartProcess(t, bin, "-listen", addr, "-data-dir", data)
	if broker.Addr != addr {
		t.Fatalf("broker restarted on %s; want %s", broker.Addr, addr)
	}

	counts := map[string]map[int]int{}
	var torn string
	eventually(t, 180*time.Second, "every id in every output", func() (bool, string) {
		counts["sink.file.out"], torn = fileIDs(t, out)
		counts["topic.src"] = topicIDs(t, f.kcfg, "src")
		counts["source.kafka.alo"] = topicIDs(t, f.kcfg, "alo.src")
		counts["source.kafka.eos"] = topicIDs(t, f.kcfg, "eos.src")
		counts["source.generator.geos"] = topicIDs(t, f.kcfg, "geos")
		var missing []string
		for what, ids := range counts {
			if len(ids) < n {
				missing = append(missing, fmt.Sprintf("%s %d of %d", what, len(ids), n))
			}
		}
		if torn != "" {
			missing = append(missing, "the file ends in a part of a line")
		}
		return len(missing) == 0, strings.Join(missing, ", ")
	})
	for what, ids := range counts {
		dups := 0
		for id := range n {
			if ids[id] == 0 {
				t.Errorf("%s: id %d was lost", what, id)
			}
			dups += max(ids[id]-1, 0)
		}
		switch what {
		case "source.generator.geos":
			if dups > 0 {
				t.Errorf("%s: %d duplicates; delivery is exactly once", what, dups)
			}
		case "source.kafka.eos":
			// An exactly-once copy holds each record of its input once:
			// the at-least-once generator's own duplicates in src too.
			for id := range n {
				if ids[id] != counts["topic.src"][id] {
					t.Errorf("%s: id %d %d times; src holds it %d times", what, id, ids[id], counts["topic.src"][id])
				}
			}
		}
		t.Logf("%s: all %d ids, %d duplicates", what, n, dups)
	}
	t.Logf("broker killed after %d lines of the file sink, restarted 5 s later", atKill)

	st, err := f.ctl.ReadStatus(ctxFor(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for addr, tasks := range st.Tasks {
		for i, ts := range tasks {
			if ts.State == control.Failed {
				t.Errorf("%s task %d is FAILED: %s", addr, i, ts.Trace)
			}
		}
	}
	if log := w.stderr(); strings.Contains(log, "task failed") {
		t.Errorf("a task failed while the broker was away; the worker logged:\n%s", log)
	}
}

// fileIDs counts the ids of a file sink's JSON lines. Every line that ends
// in a newline must be a JSON object with an id; a torn line among them
// fails the test. What follows the last newline is returned as torn: a
// sink may be writing it right now, and a worker killed in the middle of a
// write leaves it for the next one to cut.
func fileIDs(t *testing.T, path string) (ids map[int]int, torn string) {
	t.Helper()
	ids = map[int]int{}
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	torn = lines[len(lines)-1]
	for _, line := range lines[:len(lines)-1] {
		var rec struct{ ID *int }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.ID == nil {
			t.Fatalf("%s holds a line that is not a record: %q", path, line)
		}
		ids[*rec.ID]++
	}
	return ids, torn
}

// topicIDs reads a topic read_committed from its start to its end and
// counts the ids of its JSON values.
func topicIDs(t *testing.T, cfg kafka.Config, topic string) map[int]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := map[int]int{}
	cl, err := kafka.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		return ids // the broker is still coming back
	}
	want := map[int32]int64{}
	parts := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			parts[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(parts) == 0 {
		return ids
	}
	c, err := kafka.NewClient(cfg, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for len(want) > 0 && ctx.Err() == nil {
		c.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				var rec struct{ ID *int }
				if json.Unmarshal(r.Value, &rec) == nil && rec.ID != nil {
					ids[*rec.ID]++
				}
			}
			if r.Offset >= want[r.Partition]-1 {
				delete(want, r.Partition)
			}
		})
	}
	return ids
}
