package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// unreadable is a record a source read but could not parse
// (connector.Record.Err), between two good ones.
func unreadableRecords() []connector.Record {
	return []connector.Record{
		{Key: "k0", Value: map[string]any{"seq": int64(0)}, Topic: "out", Partition: -1, Timestamp: baseTime},
		{Key: []byte("k1"), Value: []byte("<999>not syslog\xff"), Topic: "out", Partition: -1, Timestamp: baseTime,
			Headers: []connector.Header{{Key: "sender", Value: []byte("10.0.0.1:514")}}, Err: errors.New("expecting a priority value")},
		{Key: "k2", Value: map[string]any{"seq": int64(2)}, Topic: "out", Partition: -1, Timestamp: baseTime},
	}
}

// TestSourceRecordErr sends a record the source marks failed to the
// dead-letter topic with the bytes it read, at stage source, without a
// transform or converter seeing it.
func TestSourceRecordErr(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "out", 1)
	reg := testRegistry(t, func() connector.Source { return &listSource{recs: unreadableRecords()} }, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test",
		Transforms: []control.TransformSpec{{Name: "add", Set: []control.SetSpec{{Path: "value.x", Expr: "1"}}}},
		Errors:     control.ErrorsSpec{Tolerance: "all", DeadLetterTopic: "out.dlq"}}
	a := TaskArgs{Pipeline: mustCompile(t, "source.test.unreadable", spec, reg), Producer: c.producer, Admin: c.admin, Offsets: newMemOffsets(), Counters: &Counters{}}
	r := runTask(t, a)
	waitFor(t, "the source to finish", a.Counters.Finished.Load)
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	var good []string
	for _, r := range c.readTopic(t, "out", 2) {
		good = append(good, string(r.Value))
	}
	if d := cmp.Diff([]string{`{"seq":0,"x":1}`, `{"seq":2,"x":1}`}, good); d != "" {
		t.Errorf("good records (-want +got):\n%s", d)
	}
	dead := c.readTopic(t, "out.dlq", 1)[0]
	if string(dead.Key) != "k1" || string(dead.Value) != "<999>not syslog\xff" {
		t.Errorf("dead-letter record %q=%q, want the bytes the source read", dead.Key, dead.Value)
	}
	hs := map[string]string{}
	for _, h := range dead.Headers {
		hs[h.Key] = string(h.Value)
	}
	if hs[HeaderErrorStage] != "source" || hs[HeaderErrorMessage] != "expecting a priority value" || hs["sender"] != "10.0.0.1:514" {
		t.Errorf("dead-letter headers %v, want stage source, the source's error and the record's own headers", hs)
	}
	counts := [4]int64{a.Counters.In.Load(), a.Counters.Out.Load(), a.Counters.Filtered.Load(), a.Counters.Failed.Load()}
	if counts != [4]int64{3, 2, 0, 1} {
		t.Errorf("in/out/filtered/failed = %v, want [3 2 0 1]", counts)
	}
}

// TestSourceRecordErrToleranceNone fails the task at stage source.
func TestSourceRecordErrToleranceNone(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "out", 1)
	reg := testRegistry(t, func() connector.Source { return &listSource{recs: unreadableRecords()} }, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test"}
	a := TaskArgs{Pipeline: mustCompile(t, "source.test.unreadable", spec, reg), Producer: c.producer, Admin: c.admin, Offsets: newMemOffsets(), Counters: &Counters{}}
	err := runTask(t, a).wait(t)
	var te *TaskError
	if !errors.As(err, &te) || te.Stage != StageSource || !strings.Contains(te.Message, "expecting a priority value") {
		t.Fatalf("Run = %v, want a *TaskError at stage source with the source's error", err)
	}
}
