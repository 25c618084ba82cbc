package kafka

import "testing"

// TestSyncHistoryTranslate checks the translation of a group's offset: exact
// at a sync, one past the sync before it otherwise, never past what the
// syncs prove; after a task restart (upstream offsets again from an earlier
// point) the newest sync at or before the offset wins.
func TestSyncHistoryTranslate(t *testing.T) {
	h := &syncHistory{}
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

// TestSyncHistoryThins checks that a full history keeps its newest syncs
// and reaches back to its oldest with fewer points.
func TestSyncHistoryThins(t *testing.T) {
	h := &syncHistory{}
	for i := range int64(10 * maxSyncs) {
		h.add(syncValue{Upstream: i * 100, Downstream: i * 100})
	}
	if len(h.syncs) > maxSyncs {
		t.Fatalf("%d syncs kept; want at most %d", len(h.syncs), maxSyncs)
	}
	newest := h.syncs[len(h.syncs)-1].Upstream
	if newest != (10*maxSyncs-1)*100 {
		t.Errorf("newest sync %d dropped", newest)
	}
	if got, _ := h.translate(newest - 100); got != newest-100 {
		t.Errorf("recent offset translated to %d; want %d", got, newest-100)
	}
	if oldest := h.syncs[0].Upstream; oldest != 0 {
		t.Errorf("oldest sync kept is %d: the history does not reach back", oldest)
	}
	for i := 1; i < len(h.syncs); i++ {
		if h.syncs[i].Upstream <= h.syncs[i-1].Upstream {
			t.Fatalf("syncs out of order at %d: %v", i, h.syncs)
		}
	}
}
