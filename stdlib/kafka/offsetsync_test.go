package kafka

import (
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
)

// TestSyncHistoryTranslate checks the translation of a group's offset: exact
// at a sync, one past the sync before it otherwise, never past what the
// syncs prove; after a task restart (upstream offsets again from an earlier
// point) the newest sync at or before the offset wins.
func TestSyncHistoryTranslate(t *testing.T) {
	h := newSyncHistory()
	for _, s := range []syncValue{{Upstream: 0, Downstream: 10}, {Upstream: 100, Downstream: 110}, {Upstream: 150, Downstream: 160},
		// restarted from 120: copies again after 160
		{Upstream: 120, Downstream: 161}} {
		s.Topic = "t"
		h.add(s)
	}
	for _, c := range []struct {
		offset, want int64
		ok           bool
	}{
		{0, 10, true}, {1, 11, true}, {99, 11, true}, {100, 110, true}, {119, 111, true},
		{120, 161, true}, {130, 162, true}, {150, 161 + 1, true}, {1000, 162, true},
	} {
		got, ok := h.translate(c.offset)
		if got != c.want || ok != c.ok {
			t.Errorf("translate(%d) = %d, %v; want %d, %v", c.offset, got, ok, c.want, c.ok)
		}
	}
	if _, ok := (&syncHistory{syncs: []syncValue{{Upstream: 5, Downstream: 5}}}).translate(4); ok {
		t.Error("translated an offset before every sync")
	}
}

// TestSyncHistoryThins checks what a full history keeps: every sync from
// the floor (the oldest group offset) on, fewer before it, always the
// oldest and the newest; and at most maxKept without a floor.
func TestSyncHistoryThins(t *testing.T) {
	const floor = 30_000
	h := newSyncHistory()
	h.floor = floor
	for i := range int64(1000) {
		h.add(syncValue{Upstream: i * 100, Downstream: i * 100})
	}
	for i := 1; i < len(h.syncs); i++ {
		if h.syncs[i].Upstream <= h.syncs[i-1].Upstream {
			t.Fatalf("syncs out of order at %d: %v", i, h.syncs)
		}
	}
	if h.syncs[0].Upstream != 0 || h.syncs[len(h.syncs)-1].Upstream != 99_900 {
		t.Errorf("oldest %d and newest %d; want 0 and 99900 kept", h.syncs[0].Upstream, h.syncs[len(h.syncs)-1].Upstream)
	}
	before := 0
	for _, s := range h.syncs {
		if s.Upstream < floor {
			before++
		}
	}
	if after := len(h.syncs) - before; after != 700 || before > maxSyncs/2+1 {
		t.Errorf("%d syncs before the floor and %d from it; want at most %d, and all 700", before, after, maxSyncs/2+1)
	}
	// The sync just before the floor is kept: the oldest group, at the
	// floor, reads again fewer than one sync interval.
	if got, _ := h.translate(floor + 50); got <= floor+50-100 {
		t.Errorf("offset %d just after the floor translated to %d", floor+50, got)
	}
	h2 := newSyncHistory()
	h2.floor = 30_050
	for i := range int64(1000) {
		h2.add(syncValue{Upstream: i * 100, Downstream: i * 100})
	}
	if got, _ := h2.translate(30_050); got != 30_001 {
		t.Errorf("the floor's own offset translated to %d, want 30001 (the sync at 30000 kept)", got)
	}
	for o := int64(floor); o < 100_000; o += 37 {
		if got, _ := h.translate(o); got > o || got <= o-100 {
			t.Fatalf("offset %d after the floor translated to %d; want within one sync interval", o, got)
		}
	}

	h = newSyncHistory()
	for i := range int64(3 * maxKept) {
		h.add(syncValue{Upstream: i, Downstream: i})
	}
	if len(h.syncs) > maxKept || h.syncs[0].Upstream != 0 {
		t.Errorf("without a floor: %d syncs from %d; want at most %d from 0", len(h.syncs), h.syncs[0].Upstream, maxKept)
	}
}

// TestMirrorInternal checks that the names of a mirror's own topics are
// recognised, and ordinary topics are not.
func TestMirrorInternal(t *testing.T) {
	for _, name := range []string{OffsetSyncsTopic("dr", "source.kafka.orders"), CheckpointsTopic("", `source.kafka.dr["eu"]`), "B." + OffsetSyncsTopic("f", "source.kafka.x")} {
		if !mirrorInternal(name) {
			t.Errorf("%s is not recognised as a mirror's own topic", name)
		}
	}
	for _, name := range []string{"orders", "mirror.checkpoints", "orders.offset-syncs", "dr.mirror.orders"} {
		if mirrorInternal(name) {
			t.Errorf("%s is taken for a mirror's own topic", name)
		}
	}
}

// TestSyncerFindsItsPolls checks how the syncer finds the origin offsets of
// acknowledged records: by the slice Poll returned, forgetting the polls
// before it (acknowledgements come in poll order) and never matching
// another slice; polls never acknowledged are dropped after maxPolls.
func TestSyncerFindsItsPolls(t *testing.T) {
	s := &syncer{}
	var batches [][]connector.Record
	for i := range 3 {
		recs := make([]connector.Record, 2)
		batches = append(batches, recs)
		s.polled(poll{first: &recs[0], n: len(recs), at: []int64{int64(10 * i), int64(10*i + 1)}})
	}
	s.polled(poll{}) // an empty Poll is not kept
	if len(s.polls) != 3 {
		t.Fatalf("%d polls kept, want 3", len(s.polls))
	}
	if _, ok := s.take(make([]connector.Record, 2)); ok {
		t.Error("took the poll of another slice")
	}
	if _, ok := s.take(batches[1][:1]); ok {
		t.Error("took a poll for part of its slice")
	}
	p, ok := s.take(batches[1])
	if !ok || p.at[0] != 10 {
		t.Fatalf("take(second poll) = %v, %v; want its offsets from 10", p, ok)
	}
	if len(s.polls) != 1 || s.polls[0].first != &batches[2][0] {
		t.Errorf("after taking the second poll, %d kept; want only the third", len(s.polls))
	}
	if _, ok := s.take(batches[0]); ok {
		t.Error("took the first poll after a later one was acknowledged")
	}
	for range maxPolls + 5 {
		recs := make([]connector.Record, 1)
		s.polled(poll{first: &recs[0], n: 1, at: []int64{0}})
	}
	if len(s.polls) != maxPolls {
		t.Errorf("%d polls kept, want at most %d", len(s.polls), maxPolls)
	}
}

// TestFleetTopic checks the targets a mirror never writes into: the
// fleet's internal topics and any mirror's own.
func TestFleetTopic(t *testing.T) {
	for _, c := range []struct {
		fleet, topic string
		want         bool
	}{
		{"dr", "dr.configs", true}, {"dr", "dr.offsets", true}, {"dr", "dr.status", true},
		{"dr", "dr.mirror.x.checkpoints", true}, {"", "f.mirror.x.offset-syncs", true},
		{"dr", "other.configs", false}, {"dr", "dr.orders", false}, {"", "dr.configs", false}, {"dr", "orders.status", false},
	} {
		if got := fleetTopic(c.fleet, c.topic); got != c.want {
			t.Errorf("fleetTopic(%q, %q) = %v, want %v", c.fleet, c.topic, got, c.want)
		}
	}
}
