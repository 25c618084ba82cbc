package batchfile_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/examples/plugins/batchfile"
	"github.com/pipectl/pipectl/runtime/connector"
)

// open opens a task of the sink on dir, as the worker does.
func open(t *testing.T, dir string, n int) connector.Sink {
	t.Helper()
	s := batchfile.Sink().NewSink()
	tc := &connector.TaskContext{Pipeline: "sink.batchfile.test", Tasks: 1,
		Config: map[string]any{"dir": dir, "records_per_file": int64(n)}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	return s
}

func records(topic string, partition int32, from, to int64) []connector.Record {
	var out []connector.Record
	for o := from; o < to; o++ {
		out = append(out, connector.Record{Topic: topic, Partition: partition, Offset: o,
			OriginalTopic: topic, OriginalPartition: partition,
			Value: json.RawMessage(fmt.Sprintf(`{"id":%d}`, o))})
	}
	return out
}

// files lists the directory's files with their line counts.
func files(t *testing.T, dir string) map[string]int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = strings.Count(string(b), "\n")
	}
	return out
}

// TestRegister: the plugin's configuration struct agrees with its schema,
// as the registry checks.
func TestRegister(t *testing.T) {
	reg := connector.NewRegistry()
	if err := batchfile.Register(reg); err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Schema("sink", "batchfile"); !ok {
		t.Fatal("sink batchfile is not registered")
	}
}

// TestBatches writes full files only, says how far each partition is
// durable, and drops a revoked partition's batch.
func TestBatches(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, 3)
	type committer interface {
		PreCommit(context.Context, map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error)
	}
	c, ok := s.(committer)
	if !ok {
		t.Fatal("the sink is not a Committer")
	}
	p0, p1 := connector.TopicPartition{Topic: "t", Partition: 0}, connector.TopicPartition{Topic: "t", Partition: 1}
	if err := s.Write(ctx, append(records("t", 0, 10, 17), records("t", 1, 0, 2)...)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"t+0+10.jsonl": 3, "t+0+13.jsonl": 3}, files(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	got, err := c.PreCommit(ctx, map[connector.TopicPartition]int64{p0: 17, p1: 2})
	if err != nil {
		t.Fatal(err)
	}
	// p0: 16 is buffered; p1: nothing is in a file yet.
	if diff := cmp.Diff(map[connector.TopicPartition]int64{p0: 16, p1: 0}, got); diff != "" {
		t.Errorf("PreCommit (-want +got):\n%s", diff)
	}
	// p1 moves away: its two records are dropped, and come again from
	// offset 0 to its next owner.
	if err := s.(connector.PartitionsAware).Revoked(ctx, []connector.TopicPartition{p1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, records("t", 1, 5, 8)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"t+0+10.jsonl": 3, "t+0+13.jsonl": 3, "t+1+5.jsonl": 3}, files(t, dir)); diff != "" {
		t.Errorf("files after the revocation (-want +got):\n%s", diff)
	}
	// A value JSON cannot hold fails that record alone.
	err = s.Write(ctx, []connector.Record{{Topic: "t", Partition: 2, Value: json.RawMessage(`{`)}})
	var fr interface{ FailedRecord() int }
	if !errors.As(err, &fr) || fr.FailedRecord() != 0 {
		t.Errorf("Write of a bad value = %v, want a failure of record 0", err)
	}
}

// TestBadRecordAmongOthers: a value JSON cannot hold fails that record
// alone, and the records after it in the same Write are kept (the worker
// counts them as written).
func TestBadRecordAmongOthers(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 3)
	recs := records("t", 0, 0, 4)
	recs[1].Value = json.RawMessage(`{`)
	err := s.Write(context.Background(), recs)
	var fr interface{ FailedRecord() int }
	if !errors.As(err, &fr) || fr.FailedRecord() != 1 {
		t.Fatalf("Write = %v, want a failure of record 1 alone", err)
	}
	if diff := cmp.Diff(map[string]int{"t+0+0.jsonl": 3}, files(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

// TestRoutedRecords: records a transform routed to another topic are kept
// by the partition they were read from, the one PreCommit is asked about,
// so that their offsets are not committed before they are in a file.
func TestRoutedRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, 3)
	recs := records("in", 0, 0, 4)
	for i := range recs {
		recs[i].Topic = "routed"
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	in0 := connector.TopicPartition{Topic: "in", Partition: 0}
	got, err := s.(connector.Committer).PreCommit(ctx, map[connector.TopicPartition]int64{in0: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Offset 3 is buffered: durable up to it.
	if diff := cmp.Diff(map[connector.TopicPartition]int64{in0: 3}, got); diff != "" {
		t.Errorf("PreCommit (-want +got):\n%s", diff)
	}
}

// TestCustomBinary builds the custom pipectl, which knows the plugin, and
// runs the example with it on an embedded broker: every generated record
// is in the files once.
func TestCustomBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a binary")
	}
	bin := filepath.Join(t.TempDir(), "pipectl-batchfile")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/pipectl-batchfile").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	src, err := os.ReadFile("example/main.hcl")
	if err != nil {
		t.Fatal(err)
	}
	// As fast as possible, so that the run is short.
	src = []byte(strings.Replace(string(src), "rate  = 200", "rate  = 0", 1))
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "validate", dir).CombinedOutput(); err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "dev", "-http", "127.0.0.1:0", "-duration", "10s", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("dev: %v\n%s", err, out)
	}
	ids := readIDs(t, filepath.Join(dir, "out"))
	if len(ids) != 2000 {
		t.Fatalf("the files hold %d distinct ids, want 2000; dev printed:\n%s", len(ids), out)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("id %d is in the files %d times", id, n)
		}
	}
}

// readIDs counts the ids of every line of every file of dir.
func readIDs(t *testing.T, dir string) map[int]int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	ids := map[int]int{}
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var v struct{ ID *int }
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil || v.ID == nil {
				t.Fatalf("%s: a line that is not a record: %q", name, sc.Text())
			}
			ids[*v.ID]++
		}
		f.Close()
	}
	return ids
}
