package file_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/file"
)

func openSink(t *testing.T, path, format string, task, tasks int) connector.Sink {
	t.Helper()
	s := file.Sink().NewSink()
	tc := &connector.TaskContext{Pipeline: "sink.file.test", Task: task, Tasks: tasks,
		Config: map[string]any{"path": path, "format": format}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var ts = time.Date(2026, 11, 24, 10, 30, 0, 123456789, time.FixedZone("CET", 3600))

func TestSinkFormats(t *testing.T) {
	records := []connector.Record{
		{Value: json.RawMessage(`{"b": 1, "a": [1.0]}`)},
		{Value: json.RawMessage("{\n  \"pretty\": true\n}")},
		{Value: map[string]any{"z": int64(1), "a": 2.5, "s": "x\ny", "n": nil}},
		{Value: "just a string"},
		{Value: nil},
		{Value: []byte("bin")},
		{Value: []byte(`{"wire": 1}`), Key: []byte("k1"), Encoded: true},
		{Value: []byte("not json"), Encoded: true},
		{
			Key: "key-1", Value: json.RawMessage(`{"id":7}`), Topic: "orders", Partition: 3, Offset: 42, Timestamp: ts,
			Headers: []connector.Header{{Key: "trace", Value: []byte("abc")}, {Key: "bin", Value: []byte{0xff, 0}}, {Key: "trace", Value: []byte("last")}, {Key: "nil", Value: nil}},
		},
	}
	for _, tc := range []struct {
		format, want string
	}{
		{"value", `{"b": 1, "a": [1.0]}
{"pretty":true}
{"a":2.5,"n":null,"s":"x\ny","z":1}
"just a string"
null
"Ymlu"
{"wire": 1}
"not json"
{"id":7}
`},
		{"raw", `{"b": 1, "a": [1.0]}
{
  "pretty": true
}
{"a":2.5,"n":null,"s":"x\ny","z":1}
just a string

bin
{"wire": 1}
not json
{"id":7}
`},
		{"envelope", `{"topic":"","partition":0,"offset":0,"timestamp":null,"key":null,"value":{"b": 1, "a": [1.0]},"headers":{}}
{"topic":"","partition":0,"offset":0,"timestamp":null,"key":null,"value":{"pretty":true},"headers":{}}
{"topic":"","partition":0,"offset":0,"timestamp":null,"key":null,"value":{"a":2.5,"n":null,"s":"x\ny","z":1},"headers":{}}
{"topic":"","partition":0,"offset":0,"timestamp":null,"key":null,"value":"just a string","headers":{}}
{"topic":"","partition":0,"offset":0,"timestamp":null,"key":null,"value":null,"headers":{}}
{"topic":"","partition":0,"offset":0,"timestamp":null,"key":null,"value":"Ymlu","headers":{}}
{"topic":"","partition":0,"offset":0,"timestamp":null,"key":"k1","value":{"wire": 1},"headers":{}}
{"topic":"","partition":0,"offset":0,"timestamp":null,"key":null,"value":"not json","headers":{}}
{"topic":"orders","partition":3,"offset":42,"timestamp":"2026-11-24T09:30:00.123456789Z","key":"key-1","value":{"id":7},"headers":{"bin":"/wA=","trace":"last","nil":null},"headers_base64":["bin"]}
`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.jsonl")
			s := openSink(t, path, tc.format, 0, 1)
			if err := s.Write(context.Background(), records); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != "" {
				t.Errorf("the file holds %d bytes before Flush; writes should be buffered", len(got))
			}
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, readFile(t, path)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSinkAppendsAndTaskFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", "deeper", "out.jsonl")
	for round, v := range []string{"one", "two"} {
		s := openSink(t, path, "raw", 1, 3)
		if err := s.Write(context.Background(), []connector.Record{{Value: v}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		want := []string{"one\n", "one\ntwo\n"}[round]
		if diff := cmp.Diff(want, readFile(t, filepath.Join(dir, "nested", "deeper", "out-1.jsonl"))); diff != "" {
			t.Errorf("round %d (-want +got):\n%s", round, diff)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("task 1 of 3 wrote %s itself (%v)", path, err)
	}
}

func TestTaskPath(t *testing.T) {
	for _, tc := range []struct {
		path        string
		task, tasks int
		want        string
	}{
		{"/out/orders.jsonl", 0, 1, "/out/orders.jsonl"},
		{"/out/orders.jsonl", 2, 3, "/out/orders-2.jsonl"},
		{"/out/orders", 0, 2, "/out/orders-0"},
		{"/out.d/orders", 1, 2, "/out.d/orders-1"},
		{"/out/archive.tar.gz", 1, 2, "/out/archive.tar-1.gz"},
	} {
		if got := file.TaskPath(tc.path, tc.task, tc.tasks); got != tc.want {
			t.Errorf("TaskPath(%q, %d, %d) = %q, want %q", tc.path, tc.task, tc.tasks, got, tc.want)
		}
	}
}

func TestSinkErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := openSink(t, path, "value", 0, 1)
	err := s.Write(context.Background(), []connector.Record{{Value: map[string]any{"x": func() {}}, Topic: "t", Partition: 1, Offset: 9}})
	if err == nil {
		t.Fatal("Write of a value JSON cannot hold succeeded")
	}
	if want := "sink file: record at t/1 offset 9: "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("error %q does not name the record", err)
	}
	for name, config := range map[string]map[string]any{
		"no path":    {"format": "value"},
		"bad format": {"path": path, "format": "xml"},
	} {
		if err := file.Sink().NewSink().Open(context.Background(), &connector.TaskContext{Tasks: 1, Config: config}); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// TestSinkLinesAcrossTheBuffer writes lines of many lengths, some longer
// than the write buffer, so that lines are built both in the buffer and
// outside it; a record that cannot be encoded must leave nothing behind.
func TestSinkLinesAcrossTheBuffer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := openSink(t, path, "raw", 0, 1)
	var want strings.Builder
	for batch, sizes := range [][]int{
		{0, 1, 200, 5000, 70_000, 3, 130_000, 90_000},
		{600_000, 10, 200, 300_000, 1},
		{250_000, 250_000, 7, 262_143, 262_144, 262_145, 2},
	} {
		var records []connector.Record
		for i, n := range sizes {
			v := strings.Repeat(string(rune('a'+(batch*10+i)%26)), n)
			records = append(records, connector.Record{Value: v})
			want.WriteString(v + "\n")
		}
		if err := s.Write(context.Background(), records); err != nil {
			t.Fatal(err)
		}
	}
	bad := []connector.Record{{Value: "good"}, {Value: map[string]any{"x": func() {}}}, {Value: "never"}}
	if err := s.Write(context.Background(), bad); err == nil {
		t.Fatal("Write of a value JSON cannot hold succeeded")
	}
	want.WriteString("good\n")
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != want.String() {
		t.Errorf("the file holds %d bytes, want %d (first difference at byte %d)", len(got), want.Len(), firstDiff(got, want.String()))
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestSinkCutsATornTail opens the sink on files a killed worker left
// behind: a last line without its newline is cut before the sink appends
// (also when the torn line is longer than a read block, or the only
// line), and a file of whole lines is left as it is.
func TestSinkCutsATornTail(t *testing.T) {
	long := strings.Repeat("y", 200_000)
	for _, tc := range []struct{ name, before, want string }{
		{"whole lines", "a\nb\n", "a\nb\nc\n"},
		{"torn last line", "a\nb\n{\"pad\"", "a\nb\nc\n"},
		{"torn line longer than a block", "a\n" + long, "a\nc\n"},
		{"only a torn line", long, "c\n"},
		{"empty", "", "c\n"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.jsonl")
			if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			s := openSink(t, path, "raw", 0, 1)
			if err := s.Write(context.Background(), []connector.Record{{Value: "c"}}); err != nil {
				t.Fatal(err)
			}
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != tc.want {
				t.Errorf("the file holds %.40q (%d bytes), want %.40q (%d bytes)", got, len(got), tc.want, len(tc.want))
			}
		})
	}
}

// TestSinkWritesWholeLines checks what reaches the file before a flush:
// only whole lines, however the lines fall across the write buffer, so
// that a worker killed between two writes leaves no torn line.
func TestSinkWritesWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := openSink(t, path, "raw", 0, 1)
	for i := range 1000 {
		v := strings.Repeat(string(rune('a'+i%26)), 700+i*37%1000)
		if err := s.Write(context.Background(), []connector.Record{{Value: v}}); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, path); got != "" && !strings.HasSuffix(got, "\n") {
			t.Fatalf("after record %d the file ends inside a line (%d bytes)", i, len(got))
		}
	}
}

// TestSinkCutsWhatCameAfterTheLastFlush writes records after a Flush and
// closes the sink without flushing them, as a worker that fails or is
// killed between two commits does: the next Open cuts them (they are
// consumed again), unless the file was replaced or truncated by hand.
func TestSinkCutsWhatCameAfterTheLastFlush(t *testing.T) {
	ctx := context.Background()
	write := func(s connector.Sink, values ...string) {
		t.Helper()
		var recs []connector.Record
		for _, v := range values {
			recs = append(recs, connector.Record{Value: v})
		}
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	s := openSink(t, path, "raw", 0, 1)
	write(s, "a", "b")
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	write(s, "uncommitted")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "a\nb\nuncommitted\n" {
		t.Fatalf("after Close the file holds %q", got)
	}
	s = openSink(t, path, "raw", 0, 1)
	write(s, "c")
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got, want := readFile(t, path), "a\nb\nc\n"; got != want {
		t.Errorf("after a reopen the file holds %q, want %q", got, want)
	}

	// Replaced by hand (another inode): nothing of it is cut.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x\ny\nz\nw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = openSink(t, path, "raw", 0, 1)
	s.Close()
	if got, want := readFile(t, path), "x\ny\nz\nw\n"; got != want {
		t.Errorf("a replaced file holds %q after Open, want %q", got, want)
	}
	// Truncated by hand below the mark: nothing is cut either.
	if err := os.Truncate(path, 2); err != nil {
		t.Fatal(err)
	}
	s = openSink(t, path, "raw", 0, 1)
	write(s, "v")
	s.Flush(ctx)
	s.Close()
	if got, want := readFile(t, path), "x\nv\n"; got != want {
		t.Errorf("a truncated file holds %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, ".out.jsonl.flushed")); err != nil {
		t.Errorf("no flush mark beside the output: %v", err)
	}
}

// TestSinkCopyTruncate: the output truncated under a running sink (as
// logrotate's copytruncate does) is flushed and recovered by its real
// length. Before, the sink kept counting from the old length: its next
// Flush failed (reading the tail past the end) and failed the task.
func TestSinkCopyTruncate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := openSink(t, path, "raw", 0, 1)
	write := func(values ...string) {
		t.Helper()
		var recs []connector.Record
		for _, v := range values {
			recs = append(recs, connector.Record{Value: v})
		}
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	write("first record, long enough", "second record, long enough")
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil { // rotated: copied away, then cut
		t.Fatal(err)
	}
	write("a")
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush after the output was truncated: %v", err)
	}
	write("not flushed")
	s.Close()
	s = openSink(t, path, "raw", 0, 1)
	s.Close()
	if got, want := readFile(t, path), "a\n"; got != want {
		t.Errorf("after a reopen the file holds %q, want %q (what came after the last flush cut)", got, want)
	}
}

// TestSinkOneWriterAFile: a second task opening a file another one writes
// is refused with a retriable error (it may be the task's old owner
// closing), and opens once the first one closed.
func TestSinkOneWriterAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	first := openSink(t, path, "raw", 0, 1)
	second := file.Sink().NewSink()
	tc := &connector.TaskContext{Pipeline: "sink.file.other", Tasks: 1, Config: map[string]any{"path": path, "format": "raw"}}
	err := second.Open(context.Background(), tc)
	if err == nil || !connector.IsRetriable(err) || !strings.Contains(err.Error(), "another task writes this file") {
		t.Fatalf("a second Open of the file: %v; want a retriable error saying another task writes it", err)
	}
	first.Close()
	if err := second.Open(context.Background(), tc); err != nil {
		t.Fatalf("Open once the first task closed: %v", err)
	}
	second.Close()
}
