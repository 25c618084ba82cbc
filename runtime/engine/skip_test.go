package engine

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// TestSourceSkippedRecords checks that a record the source marks Skip is
// not written and still moves the saved offset: the last two records of
// each Poll are skipped, so that without Skip the saved position would
// stop before them.
func TestSourceSkippedRecords(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "out", 1)
	skipped := func(seq int) bool { return seq%5 >= 3 }
	record := func(seq int) connector.Record {
		return connector.Record{Value: map[string]any{"seq": int64(seq)}, Topic: "out", Partition: -1, Timestamp: baseTime, Skip: skipped(seq)}
	}
	var resumedAt, acked atomic.Int64
	reg := testRegistry(t, func() connector.Source {
		return &seqSource{total: 10, per: 5, resumedAt: &resumedAt, acked: &acked, record: record}
	}, nil)
	p := mustCompile(t, "source.test.skip", &control.PipelineSpec{Kind: "source", Type: "test"}, reg)
	store := newMemOffsets()
	a := TaskArgs{Pipeline: p, Fleet: "fleet", Producer: c.producer, Admin: c.admin, Offsets: store, Counters: &Counters{}}
	r := runTask(t, a)
	waitFor(t, "the source to finish", a.Counters.Finished.Load)
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load(context.Background(), "source.test.skip")
	if err != nil || len(got) != 1 || got[0].Offset["next"] != float64(10) {
		t.Errorf("saved offsets %v (%v); want next=10, past the skipped records", got, err)
	}
	ends, err := kadm.NewClient(c.client(t)).ListEndOffsets(context.Background(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("out", 0); o.Offset != 6 {
		t.Errorf("out holds %d records, want the 6 not skipped", o.Offset)
	}
	if counts := [4]int64{a.Counters.In.Load(), a.Counters.Out.Load(), a.Counters.Filtered.Load(), a.Counters.Failed.Load()}; counts != [4]int64{10, 6, 4, 0} {
		t.Errorf("in/out/filtered/failed = %v, want [10 6 4 0]", counts)
	}
	if n := acked.Load(); n != 10 {
		t.Errorf("acked %d records, want 10", n)
	}
}
