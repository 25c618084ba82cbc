package worker_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// TestClientOverrides checks that a pipeline's kafka block reaches its
// clients: a source whose producer overrides compression.type writes zstd
// batches while one without writes them uncompressed, and a sink whose
// consumer reads read_uncommitted sees a record of an open transaction
// that a sink with the default (read_committed) does not.
func TestClientOverrides(t *testing.T) {
	f := newFixture(t, "shop")
	cl, err := kafka.NewClient(f.kcfg, kgo.TransactionalID("outside"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Values long enough that even one record alone compresses (kgo
	// writes a batch uncompressed when compressing does not shrink it).
	f.apply(`
topic "zstd" {}
topic "plain" {}
topic "open" {}
source "generator" "zstd" {
  topic = topic.zstd.name
  count = 20
  value = "{'id': seq, 'pad': 'compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me'}"
  kafka {
    producer = { "compression.type" = "zstd", "linger.ms" = "20" }
  }
}
source "generator" "plain" {
  topic = topic.plain.name
  count = 20
  value = "{'id': seq, 'pad': 'compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me compress me'}"
}
sink "file" "uncommitted" {
  topics = [topic.open.name]
  path   = "out/uncommitted.jsonl"
  kafka {
    consumer = { "isolation.level" = "read_uncommitted" }
  }
}
sink "file" "committed" {
  topics = [topic.open.name]
  path   = "out/committed.jsonl"
}
`)
	f.startWorker()
	// A record in a transaction that stays open.
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctxFor(t, 10*time.Second), &kgo.Record{Topic: "open", Value: []byte(`{"open":true}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Flush(ctxFor(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the open transaction's record read uncommitted", func() (bool, string) {
		n := len(readLines(filepath.Join(f.dir, "out", "uncommitted.jsonl")))
		return n == 1, fmt.Sprintf("%d lines", n)
	})
	if n := len(readLines(filepath.Join(f.dir, "out", "committed.jsonl"))); n != 0 {
		t.Errorf("the read_committed sink wrote %d records of an open transaction", n)
	}

	codecs := func(topic string) map[uint8]int {
		c, err := kafka.NewClient(f.kcfg, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		seen, n := map[uint8]int{}, 0
		for n < 20 {
			fs := c.PollFetches(ctxFor(t, 30*time.Second))
			if err := fs.Err0(); err != nil {
				t.Fatalf("%s: %v", topic, err)
			}
			fs.EachRecord(func(r *kgo.Record) {
				seen[r.Attrs.CompressionType()]++
				n++
			})
		}
		return seen
	}
	const zstd = 4
	if got := codecs("zstd"); got[zstd] != 20 {
		t.Errorf("topic zstd: records by codec %v; want all 20 zstd (codec 4)", got)
	}
	if got := codecs("plain"); got[0] != 20 {
		t.Errorf("topic plain: records by codec %v; want all 20 uncompressed", got)
	}
}
