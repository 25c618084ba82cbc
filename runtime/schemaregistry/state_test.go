package schemaregistry

import (
	"context"
	"encoding/json"
	"fmt"
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

// compact replays entries as compaction may leave them: the last record of
// each key, in offset order.
func compact(entries []logEntry) *state {
	last := map[string]int{}
	for i, e := range entries {
		last[string(e.key)] = i
	}
	st := newState()
	for i, e := range entries {
		if last[string(e.key)] == i && e.value != nil {
			st.apply(int64(i), e.key, e.value)
		}
	}
	return st
}

// sameState reports how a and b differ in subjects, versions and ids, or "".
func sameState(a, b *state) string {
	if a.maxID != b.maxID {
		return fmt.Sprintf("max id %d, %d compacted", a.maxID, b.maxID)
	}
	if len(a.subjects) != len(b.subjects) {
		return fmt.Sprintf("%d subjects, %d compacted", len(a.subjects), len(b.subjects))
	}
	for name, x := range a.subjects {
		y := b.subjects[name]
		if y == nil || x.max != y.max || len(x.versions) != len(y.versions) {
			return fmt.Sprintf("subject %s differs", name)
		}
		for i := range x.versions {
			if *x.versions[i] != *y.versions[i] {
				return fmt.Sprintf("%s: version %+v, %+v compacted", name, *x.versions[i], *y.versions[i])
			}
		}
	}
	for id, s := range a.ids {
		t := b.ids[id]
		if t == nil || t.fp != s.fp || t.uses != s.uses {
			return fmt.Sprintf("id %d differs", id)
		}
	}
	return ""
}

// TestCompactionKeepsClaims is the reviewer's case: a hard delete replaces
// the soft delete before it, moving it after a re-registration of the same
// schema. The claims must win on the compacted log as on the whole one,
// else a fresh worker gives id 2 again.
func TestCompactionKeepsClaims(t *testing.T) {
	var entries []logEntry
	st := newState()
	add := func(key, value string) {
		entries = append(entries, logEntry{[]byte(key), []byte(value)})
		st.apply(int64(len(entries)-1), []byte(key), []byte(value))
	}
	add(`{"kind":"claim","nonce":"a"}`, `{"subject":"x","version":1,"id":1,"schema":"\"string\"","fingerprint":"S"}`)
	add(`{"kind":"version","subject":"x","version":1}`, `{"deleted":true}`)
	add(`{"kind":"claim","nonce":"b"}`, `{"subject":"x","version":2,"id":1,"schema":"\"string\"","fingerprint":"S"}`)
	add(`{"kind":"version","subject":"x","version":1}`, `{"deleted":true,"permanent":true}`)
	add(`{"kind":"claim","nonce":"c"}`, `{"subject":"x","version":3,"id":2,"schema":"\"int\"","fingerprint":"T"}`)
	if n := len(st.subjects["x"].versions); n != 3 || st.maxID != 2 {
		t.Fatalf("whole log: %d versions, max id %d; want 3, 2", n, st.maxID)
	}
	if d := sameState(st, compact(entries)); d != "" {
		t.Fatal(d)
	}
}

// TestDuplicateClaimWins: two writers racing with the same schema into one
// subject both win, with the same id (harmless: a lookup finds the latest).
func TestDuplicateClaimWins(t *testing.T) {
	st := newState()
	st.apply(0, []byte(`{"kind":"claim","nonce":"a"}`), []byte(`{"subject":"x","version":1,"id":1,"schema":"\"string\"","fingerprint":"S"}`))
	st.apply(1, []byte(`{"kind":"claim","nonce":"b"}`), []byte(`{"subject":"x","version":2,"id":1,"schema":"\"string\"","fingerprint":"S"}`))
	if n := len(st.subjects["x"].versions); n != 2 || st.maxID != 1 || st.subjects["x"].versions[1].id != 1 {
		t.Fatalf("%d versions, max id %d", n, st.maxID)
	}
}

// FuzzCompaction applies a random sequence of operations, then replays
// the records compaction may keep (the last per key, in offset order) and
// checks that they build the same subjects, versions and ids.
func FuzzCompaction(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 2, 0, 0, 1})
	f.Add([]byte{0, 1, 4, 0, 5, 1, 0, 1, 6, 0, 7})
	f.Add([]byte{0, 0, 0, 1, 1, 0, 2, 0, 3, 0, 0, 4, 0})
	schemas := []string{`"string"`, `"int"`, `"long"`, `{"type":"fixed","name":"F","size":2}`}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 300 {
			ops = ops[:300]
		}
		ctx := context.Background()
		r := NewMemory()
		rec := &recordingLog{inner: r.log}
		r.log = rec
		_ = r.SetCompatibility(ctx, "", None)
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%8, ops[i+1]
			subj := []string{"x", "y"}[arg%2]
			v := int(arg/2)%6 + 1
			switch op {
			case 0, 1, 2:
				_, _ = r.Register(ctx, subj, connector.RegistrySchema{Schema: schemas[int(arg/2)%len(schemas)]})
			case 3:
				_, _ = r.DeleteVersion(ctx, subj, v, false)
			case 4:
				_, _ = r.DeleteVersion(ctx, subj, v, true)
			case 5:
				_, _ = r.DeleteSubject(ctx, subj, false)
			case 6:
				_, _ = r.DeleteSubject(ctx, subj, true)
			case 7:
				// A racing writer's duplicate claim: the subject's next
				// version with the schema's id.
				s := schemas[int(arg/2)%len(schemas)]
				fp := fingerprint(normalize(connector.RegistrySchema{Schema: s}))
				r.mu.Lock()
				next, id := 1, r.st.maxID+1
				if sub := r.st.subjects[subj]; sub != nil {
					next = sub.max + 1
				}
				if x, ok := r.st.byFP[fp]; ok {
					id = x
				}
				r.mu.Unlock()
				c, _ := json.Marshal(claimValue{Subject: subj, Version: next, ID: id, Schema: s, Fingerprint: fp})
				_, _ = rec.append(ctx, []byte(`{"kind":"claim","nonce":"`+nonce()+`"}`), c)
			}
		}
		if d := sameState(r.st, compact(rec.entries)); d != "" {
			t.Fatal(d)
		}
	})
}
