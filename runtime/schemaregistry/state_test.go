package schemaregistry

import (
	"context"
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
)

// TestCompactedLog replays a log as compaction leaves it (the last record
// of each key, in offset order, withdrawn claims gone) and checks that it
// builds the same state as the whole log.
func TestCompactedLog(t *testing.T) {
	ctx := context.Background()
	r := NewMemory()
	rec := &recordingLog{inner: r.log}
	r.log = rec
	_ = r.SetCompatibility(ctx, "", None)
	for i := range 5 {
		if _, err := r.Register(ctx, "s", connector.RegistrySchema{Schema: `{"type":"fixed","name":"F","size":` + string(rune('1'+i)) + `}`}); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = r.Register(ctx, "t", connector.RegistrySchema{Schema: `"int"`})
	_ = r.SetCompatibility(ctx, "t", Full)
	_ = r.SetMode(ctx, "t", ReadOnly)
	_, _ = r.DeleteCompatibility(ctx, "t")
	for _, v := range []int{2, 4} {
		if _, err := r.DeleteVersion(ctx, "s", v, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.DeleteVersion(ctx, "s", 2, true); err != nil {
		t.Fatal(err)
	}
	// A lost claim and its withdrawal, as a race leaves them.
	lost := []byte(`{"kind":"claim","nonce":"x"}`)
	_, _ = rec.append(ctx, lost, []byte(`{"subject":"s","version":3,"id":3,"schema":"\"long\"","fingerprint":"f"}`))
	_, _ = rec.append(ctx, lost, []byte(`{}`))

	last := map[string]int{}
	for i, e := range rec.entries {
		last[string(e.key)] = i
	}
	compacted := newState()
	for i, e := range rec.entries {
		if last[string(e.key)] == i && e.value != nil {
			compacted.apply(int64(i), e.key, e.value)
		}
	}
	whole := r.st
	for _, subj := range []string{"s", "t"} {
		a, b := whole.subjects[subj], compacted.subjects[subj]
		if len(a.versions) != len(b.versions) || a.max != b.max {
			t.Fatalf("%s: %d versions (max %d) from the whole log, %d (max %d) compacted", subj, len(a.versions), a.max, len(b.versions), b.max)
		}
		for i := range a.versions {
			x, y := *a.versions[i], *b.versions[i]
			if x != y {
				t.Errorf("%s: version %+v from the whole log, %+v compacted", subj, x, y)
			}
		}
	}
	if whole.maxID != compacted.maxID || len(whole.config) != len(compacted.config) || whole.modeOf("t") != compacted.modeOf("t") {
		t.Errorf("ids/config/mode differ: %d %v %v, compacted %d %v %v", whole.maxID, whole.config, whole.mode, compacted.maxID, compacted.config, compacted.mode)
	}
	if !compacted.subjects["s"].find(2).permanent || !compacted.subjects["s"].find(4).deleted {
		t.Error("the deletes did not survive compaction")
	}
}

type logEntry struct{ key, value []byte }

type recordingLog struct {
	inner   log
	entries []logEntry
}

func (l *recordingLog) append(ctx context.Context, key, value []byte) (int64, error) {
	l.entries = append(l.entries, logEntry{key, value})
	return l.inner.append(ctx, key, value)
}

func (l *recordingLog) end(ctx context.Context) (int64, error) { return l.inner.end(ctx) }
