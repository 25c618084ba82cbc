package file_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/file"
)

type sourceArgs struct {
	paths       []string
	readFrom    string
	task, tasks int
	saved       map[string]map[string]any // saved offsets by file
}

func openSource(t *testing.T, a sourceArgs) connector.Source {
	t.Helper()
	if a.readFrom == "" {
		a.readFrom = "beginning"
	}
	tc := &connector.TaskContext{
		Pipeline: "source.file.test", Task: a.task, Tasks: max(a.tasks, 1),
		Config: map[string]any{"paths": a.paths, "topic": "lines", "read_from": a.readFrom, "poll_interval": "10ms"},
		Offset: func(p map[string]any) map[string]any { return a.saved[p["file"].(string)] },
	}
	src := file.Source().NewSource()
	if err := src.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := src.Close(); err != nil {
			t.Error(err)
		}
	})
	return src
}

// poll polls until n records came (failing after 10s), then checks that
// one more Poll has nothing.
func poll(t *testing.T, src connector.Source, n int) []connector.Record {
	t.Helper()
	var got []connector.Record
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d: %v", len(got), n, values(got))
		}
		recs, err := src.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, recs...)
	}
	if extra, err := src.Poll(context.Background()); err != nil || len(extra) > 0 {
		t.Fatalf("got %d more records than the %d wanted (%v), error %v", len(extra), n, values(extra), err)
	}
	return got
}

func values(recs []connector.Record) []any {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r.Value
	}
	return out
}

type line struct {
	Value    any
	File     any
	Position any
}

func lines(recs []connector.Record) []line {
	out := make([]line, len(recs))
	for i, r := range recs {
		out[i] = line{r.Value, r.SourcePartition["file"], r.SourceOffset["position"]}
	}
	return out
}

func inodeOf(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(fi.Sys().(*syscall.Stat_t).Ino)
}

func write(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSourceLinesAndPartialLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	write(t, path, "first\r\n\nthird\npart")
	src := openSource(t, sourceArgs{paths: []string{filepath.Join(dir, "*.log")}})

	got := poll(t, src, 3)
	want := []line{{"first", path, int64(7)}, {"", path, int64(8)}, {"third", path, int64(14)}}
	if diff := cmp.Diff(want, lines(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ino := inodeOf(t, path)
	for _, r := range got {
		if r.Topic != "lines" || r.Key != nil || r.Partition != -1 || r.Timestamp.IsZero() || r.SourceOffset["inode"] != ino {
			t.Errorf("record %+v: want topic lines, no key, partition -1, a timestamp and inode %d", r, ino)
		}
	}

	write(t, path, "ial\nlast\n")
	want = []line{{"partial", path, int64(22)}, {"last", path, int64(27)}}
	if diff := cmp.Diff(want, lines(poll(t, src, 2))); diff != "" {
		t.Errorf("after the rest of the partial line (-want +got):\n%s", diff)
	}
}

func TestSourceRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	write(t, path, "a\nb\n")
	src := openSource(t, sourceArgs{paths: []string{path}})
	got := poll(t, src, 2)
	saved := got[len(got)-1].SourceOffset
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	write(t, path, "c\n")

	// The offset as the worker saved it, as it comes back from JSON, and
	// without an inode, as one imported from Kafka Connect's
	// FileStreamSource ({"position": N} only).
	asJSON := map[string]any{"position": float64(saved["position"].(int64)), "inode": float64(saved["inode"].(int64))}
	imported := map[string]any{"position": float64(saved["position"].(int64))}
	for name, off := range map[string]map[string]any{"as saved": saved, "as JSON": asJSON, "imported without inode": imported} {
		src := openSource(t, sourceArgs{paths: []string{path}, readFrom: "end", saved: map[string]map[string]any{path: off}})
		if diff := cmp.Diff([]line{{"c", path, int64(6)}}, lines(poll(t, src, 1))); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", name, diff)
		}
	}

	// An offset of another inode, or past the end, means the file was
	// rotated or truncated while the task was down: read it all again.
	for name, off := range map[string]map[string]any{
		"other inode":                {"position": int64(4), "inode": saved["inode"].(int64) + 1},
		"past the end":               {"position": int64(100), "inode": saved["inode"]},
		"past the end without inode": {"position": int64(100)},
	} {
		src := openSource(t, sourceArgs{paths: []string{path}, readFrom: "end", saved: map[string]map[string]any{path: off}})
		if diff := cmp.Diff([]any{"a", "b", "c"}, values(poll(t, src, 3))); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", name, diff)
		}
	}
}

func TestSourceRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	write(t, path, "1\n2\n")
	src := openSource(t, sourceArgs{paths: []string{filepath.Join(dir, "*.log")}})
	poll(t, src, 2)
	oldIno := inodeOf(t, path)

	// Lines written just before the rotation, the last without a newline,
	// then a new file under the same name.
	write(t, path, "3\n4")
	if err := os.Rename(path, filepath.Join(dir, "app.log.1")); err != nil {
		t.Fatal(err)
	}
	write(t, path, "5\n")
	newIno := inodeOf(t, path)
	if newIno == oldIno {
		t.Fatal("the new file has the old inode")
	}
	got := poll(t, src, 3)
	if diff := cmp.Diff([]line{{"3", path, int64(6)}, {"4", path, int64(7)}, {"5", path, int64(2)}}, lines(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if inos := []any{got[0].SourceOffset["inode"], got[1].SourceOffset["inode"], got[2].SourceOffset["inode"]}; !cmp.Equal(inos, []any{oldIno, oldIno, newIno}) {
		t.Errorf("inodes %v, want old, old, new (%d, %d)", inos, oldIno, newIno)
	}
}

func TestSourceTruncation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	write(t, path, "aaaa\nbbbb\n")
	src := openSource(t, sourceArgs{paths: []string{path}})
	poll(t, src, 2)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	write(t, path, "c\n")
	if diff := cmp.Diff([]line{{"c", path, int64(2)}}, lines(poll(t, src, 1))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSourceNewFilesAndReadFromEnd(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "a.log")
	write(t, old, "before start\n")
	src := openSource(t, sourceArgs{paths: []string{filepath.Join(dir, "*.log")}, readFrom: "end"})
	if recs, err := src.Poll(context.Background()); err != nil || len(recs) > 0 {
		t.Fatalf("read_from end: got %v, %v", values(recs), err)
	}
	// A file that appears later is new: read from its start.
	added := filepath.Join(dir, "b.log")
	write(t, added, "b1\nb2\n")
	write(t, old, "after start\n")
	write(t, filepath.Join(dir, "c.txt"), "not matched\n")
	got := lines(poll(t, src, 3))
	slices.SortFunc(got, func(x, y line) int { return strings.Compare(x.Value.(string), y.Value.(string)) })
	want := []line{{"after start", old, int64(25)}, {"b1", added, int64(3)}, {"b2", added, int64(6)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSourceTasksSplitFiles(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		write(t, filepath.Join(dir, name+".log"), name+"\n")
		want = append(want, name)
	}
	var all []string
	for task := range 2 {
		src := openSource(t, sourceArgs{paths: []string{filepath.Join(dir, "*.log")}, task: task, tasks: 2})
		var got []connector.Record
		for {
			recs, err := src.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			got = append(got, recs...)
		}
		if len(got) == 0 || len(got) == len(want) {
			t.Errorf("task %d of 2 read %d of %d files; want a share", task, len(got), len(want))
		}
		for _, r := range got {
			all = append(all, r.Value.(string))
		}
	}
	slices.Sort(all)
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("each file must be read by exactly one task (-want +got):\n%s", diff)
	}
}

func TestSourceLongLineAndBatches(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.log")
	long := strings.Repeat("x", 1<<20+10)
	write(t, path, long+"\n"+strings.Repeat("l\n", 700))
	src := openSource(t, sourceArgs{paths: []string{path}})
	first, err := src.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 500 {
		t.Fatalf("first Poll returned %d records, want a full batch of 500", len(first))
	}
	got := append(first, poll(t, src, 702-500)...)
	if len(got[0].Value.(string)) != 1<<20 || got[1].Value != strings.Repeat("x", 10) || got[2].Value != "l" {
		t.Errorf("a line over 1 MiB is cut in two: got %d and %q, then %q", len(got[0].Value.(string)), got[1].Value, got[2].Value)
	}
	if pos := got[len(got)-1].SourceOffset["position"]; pos != int64(len(long)+1+1400) {
		t.Errorf("last position %v, want the file size %d", pos, len(long)+1+1400)
	}
}

func TestSourceOpenErrors(t *testing.T) {
	for name, config := range map[string]map[string]any{
		"no paths":     {"topic": "t"},
		"bad glob":     {"topic": "t", "paths": []string{"/tmp/[x"}},
		"no topic":     {"paths": []string{"/tmp/x"}},
		"bad interval": {"topic": "t", "paths": []string{"/tmp/x"}, "poll_interval": "soon"},
		"bad start":    {"topic": "t", "paths": []string{"/tmp/x"}, "read_from": "middle"},
	} {
		err := file.Source().NewSource().Open(context.Background(), &connector.TaskContext{Tasks: 1, Config: config})
		if err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}
