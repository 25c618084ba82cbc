//go:build long

package s3

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
	"github.com/minio/minio-go/v7"

	"github.com/pipectl/pipectl/internal/s3test"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/runtime/connector"
)

func openSink(t *testing.T, srv *s3test.Server, attrs map[string]any) *sink {
	t.Helper()
	values := map[string]any{"endpoint": srv.Endpoint, "bucket": "lake", "access_key_id": s3test.AccessKey, "secret_access_key": s3test.SecretKey}
	for k, v := range attrs {
		values[k] = v
	}
	s := new(sink)
	if err := s.Open(context.Background(), taskContext(t, &SinkSchema, values)); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLongRewriteAfterCrash writes a partition's records through the sink
// in batches, drops the sink as a crash would (nothing but the bucket
// survives), and writes again from the offset PreCommit answered: the
// objects made again are the same objects with the same bytes, and the
// bucket holds every record once. rotate_interval closes an object by
// record time, a schema change starts a new one.
func TestLongRewriteAfterCrash(t *testing.T) {
	srv := s3test.Start(t, "lake")
	ctx := context.Background()
	base := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	// 1 s apart up to 120, then a minute apart.
	at := func(i int64) time.Duration {
		if i < 120 {
			return time.Duration(i) * time.Second
		}
		return 120*time.Second + time.Duration(i-120)*time.Minute
	}
	var recs []connector.Record
	for i := range int64(230) {
		v := fmt.Sprintf(`{"id":%d,"name":"n%d"}`, i, i)
		if i >= 200 {
			v = fmt.Sprintf(`{"id":"text %d"}`, i) // another type: a new object
		}
		recs = append(recs, connector.Record{OriginalTopic: "orders", OriginalPartition: 0, Topic: "orders", Offset: i, Key: fmt.Sprint("k", i),
			Value: json.RawMessage(v), Timestamp: base.Add(at(i))})
	}
	tp := connector.TopicPartition{Topic: "orders", Partition: 0}
	attrs := map[string]any{"format": "parquet", "flush_records": int64(50), "rotate_interval": "10m", "prefix": "p"}
	run := func(s *sink, from, to int64) int64 {
		for i := from; i < to; i += 7 {
			end := min(i+7, to)
			if err := s.Write(ctx, recs[i:end]); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.PreCommit(ctx, map[connector.TopicPartition]int64{tp: to})
		if err != nil {
			t.Fatal(err)
		}
		return got[tp]
	}
	s := openSink(t, srv, attrs)
	committed := run(s, 0, 150)
	if committed != 140 {
		t.Fatalf("PreCommit answered %d after 150 records with an open object", committed)
	}
	first := map[string]string{}
	for _, n := range srv.Objects(t, "lake", "p/") {
		first[n] = string(srv.Get(t, "lake", n))
	}
	// The crash: the sink is gone, its open objects with it.
	_ = s.Close()
	s = openSink(t, srv, attrs)
	// As if the last commits were lost: from an older commit (the start
	// of an object), which rewrites the objects 50, 100 and 130.
	if got := run(s, 50, 230); got != 220 {
		t.Fatalf("PreCommit answered %d at the end, want 220 (the open object)", got)
	}
	names := srv.Objects(t, "lake", "p/")
	// 50 per object while records are a second apart (0, 50), then 10
	// minutes of record time each (100 to 129 — 120 s + 9 minutes —, 130,
	// 140 …); the text values start a new object at 200 (ended by time at
	// 210); 220 to 229 are still open.
	var want []string
	for _, start := range []int{0, 50, 100, 130, 140, 150, 160, 170, 180, 190, 200, 210} {
		want = append(want, fmt.Sprintf("p/orders/orders+0+%010d.parquet", start))
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	for n, body := range first {
		if string(srv.Get(t, "lake", n)) != body {
			t.Errorf("%s was rewritten with other bytes", n)
		}
	}
	seen := map[int64]int{}
	for _, n := range names {
		rs, err := decodeObject(n, srv.Get(t, "lake", n), 0, false, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			seen[r.Offset]++
			if r.Key != fmt.Sprint("k", r.Offset) || !strings.Contains(fmt.Sprint(r.Value), fmt.Sprint(r.Offset)) {
				t.Errorf("offset %d: key %v value %v", r.Offset, r.Key, r.Value)
			}
		}
	}
	for i := range int64(230) {
		if want := map[bool]int{true: 1, false: 0}[i < 220]; seen[i] != want {
			t.Errorf("offset %d is in the bucket %d times, want %d", i, seen[i], want)
		}
	}
}

// TestLongFormats writes records as JSON lines (zstd) and raw values
// (gzip) through the sink, checks the objects' names and bytes as
// minio-go reads them (decompressed with the standard library), and reads
// them back through the source: the same records (raw: the values, at
// positions that keep their order).
func TestLongFormats(t *testing.T) {
	srv := s3test.Start(t, "lake")
	ctx := context.Background()
	var recs []connector.Record
	for i := range int64(60) {
		recs = append(recs, connector.Record{OriginalTopic: "logs", OriginalPartition: 1, Offset: 10 + 2*i, Key: fmt.Sprint("k", i),
			Value: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), Timestamp: time.UnixMilli(1700000000000 + i).UTC(),
			Headers: []connector.Header{{Key: "h", Value: []byte{byte(i), 0xff}}}})
	}
	for _, c := range []struct{ format, compression, ext string }{{"jsonl", "zstd", ".jsonl.zst"}, {"raw", "gzip", ".bin.gz"}} {
		prefix := c.format
		s := openSink(t, srv, map[string]any{"format": c.format, "compression": c.compression, "flush_records": int64(20), "prefix": prefix})
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		// PreCommit waits for the uploads.
		if _, err := s.PreCommit(ctx, map[connector.TopicPartition]int64{{Topic: "logs", Partition: 1}: 130}); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, start := range []int{10, 50, 90} {
			want = append(want, fmt.Sprintf("%s/logs/logs+1+%010d%s", prefix, start, c.ext))
		}
		names := srv.Objects(t, "lake", prefix+"/")
		if diff := cmp.Diff(want, names); diff != "" {
			t.Fatalf("%s objects (-want +got):\n%s", c.format, diff)
		}
		body := srv.Get(t, "lake", names[0])
		var plain []byte
		if c.compression == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			plain, _ = io.ReadAll(zr)
		} else {
			zr, err := zstd.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			plain, _ = io.ReadAll(zr)
		}
		first := strings.SplitN(string(plain), "\n", 2)[0]
		wantFirst := map[string]string{
			"jsonl": `{"topic":"logs","partition":1,"offset":10,"timestamp":"2023-11-14T22:13:20Z","key":"k0","value":{"n":0},"headers":[{"key":"h","value_base64":"AP8="}]}`,
			"raw":   `{"n":0}`,
		}[c.format]
		if first != wantFirst {
			t.Errorf("%s: first line %s, want %s", c.format, first, wantFirst)
		}

		src := new(source)
		if err := src.Open(ctx, taskContext(t, &SourceSchema, map[string]any{"endpoint": srv.Endpoint, "bucket": "lake", "access_key_id": s3test.AccessKey, "secret_access_key": s3test.SecretKey,
			"format": c.format, "prefix": prefix, "poll_interval": "1s"})); err != nil {
			t.Fatal(err)
		}
		if got := src.TopicsNeeded(); !cmp.Equal(got, []connector.TopicRequest{{Name: "logs", Partitions: 2}}) {
			t.Errorf("topics needed %v", got)
		}
		var got []connector.Record
		for len(got) < 60 {
			rs, err := src.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) == 0 {
				t.Fatalf("%s: %d records restored, want 60", c.format, len(got))
			}
			got = append(got, rs...)
		}
		for i, r := range got {
			if r.Topic != "logs" || r.Partition != 1 {
				t.Fatalf("record %d to %s/%d", i, r.Topic, r.Partition)
			}
			if c.format == "raw" {
				if string(r.Value.([]byte)) != fmt.Sprintf(`{"n":%d}`, i) {
					t.Fatalf("raw record %d: %s", i, r.Value)
				}
				continue
			}
			w := recs[i]
			if r.Offset != w.Offset || r.Key != w.Key || !r.Timestamp.Equal(w.Timestamp) || !cmp.Equal(r.Headers, w.Headers) || !cmp.Equal(r.Value, map[string]any{"n": int64(i)}) {
				t.Fatalf("record %d: %+v, want %+v", i, r, w)
			}
		}
		_ = src.Close()
	}
}

// taskContext checks values against the schema as the worker does and
// compiles its expression attributes.
func taskContext(t *testing.T, s *configschema.Schema, values map[string]any) *connector.TaskContext {
	t.Helper()
	cfg, errs := s.Coerce(values)
	if len(errs) > 0 {
		t.Fatal(configschema.Errors(errs))
	}
	exprs := map[string]connector.Expr{}
	for _, a := range s.Attributes {
		src, ok := cfg[a.Name].(string)
		if !ok || a.Type != configschema.Expression {
			continue
		}
		vars := make([]expr.Var, len(a.ExprVars))
		for i, v := range a.ExprVars {
			vars[i] = expr.Var{Name: v.Name, Type: v.Type}
		}
		env, err := expr.NewEnv(vars)
		if err != nil {
			t.Fatal(err)
		}
		prog, issues := env.Compile(src, expr.Dyn)
		if len(issues) > 0 {
			t.Fatalf("compile %q: %v", src, issues)
		}
		exprs[a.Name] = prog
	}
	return &connector.TaskContext{Config: cfg, Exprs: exprs, Tasks: 1}
}

// TestLongPathsCloseTogether spreads a partition over two paths (by a
// field) and crashes after PreCommit: the records written again from
// the commit land in the bucket once, because the partition's objects
// close together and the commit is a boundary of both paths.
func TestLongPathsCloseTogether(t *testing.T) {
	srv := s3test.Start(t, "lake")
	ctx := context.Background()
	var recs []connector.Record
	for i := range int64(40) {
		kind := "a"
		if i == 3 || i > 20 {
			kind = "b"
		}
		recs = append(recs, connector.Record{OriginalTopic: "ev", Offset: i, Key: fmt.Sprint("k", i),
			Value: json.RawMessage(fmt.Sprintf(`{"kind":%q,"n":%d}`, kind, i)), Encoded: true, Timestamp: time.UnixMilli(1700000000000 + i).UTC()})
	}
	tp := connector.TopicPartition{Topic: "ev", Partition: 0}
	attrs := map[string]any{"format": "jsonl", "flush_records": int64(5), "path": "string(value.kind)", "prefix": "p"}
	s := openSink(t, srv, attrs)
	if err := s.Write(ctx, recs[0:12]); err != nil {
		t.Fatal(err)
	}
	got, err := s.PreCommit(ctx, map[connector.TopicPartition]int64{tp: 12})
	if err != nil {
		t.Fatal(err)
	}
	committed := got[tp]
	_ = s.Close() // the crash
	s = openSink(t, srv, attrs)
	if err := s.Write(ctx, recs[committed:]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PreCommit(ctx, map[connector.TopicPartition]int64{tp: 40}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	seen := map[int64]int{}
	for _, n := range srv.Objects(t, "lake", "p/") {
		rs, err := decodeObject(n, srv.Get(t, "lake", n), 0, false, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			seen[r.Offset]++
		}
	}
	for off, n := range seen {
		if n > 1 {
			t.Errorf("offset %d is in the bucket %d times (commit %d)", off, n, committed)
		}
	}
}

// TestLongLateObjectAfterRestart restores a partition, restarts the
// source from its saved offset, and uploads meanwhile an object of the
// partition (another path) that starts before that offset: the first
// listing after the restart fails with its name instead of skipping its
// records.
func TestLongLateObjectAfterRestart(t *testing.T) {
	srv := s3test.Start(t, "lake")
	ctx := context.Background()
	var recs []connector.Record
	for i := range int64(10) {
		recs = append(recs, connector.Record{OriginalTopic: "ev", Offset: i, Value: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), Encoded: true, Timestamp: time.UnixMilli(1700000000000 + i).UTC()})
	}
	tp := connector.TopicPartition{Topic: "ev", Partition: 0}
	write := func(attrs map[string]any, rs []connector.Record) {
		s := openSink(t, srv, attrs)
		if err := s.Write(ctx, rs); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PreCommit(ctx, map[connector.TopicPartition]int64{tp: 100}); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
	}
	write(map[string]any{"format": "jsonl", "flush_records": int64(5), "prefix": "p"}, recs)
	srcAttrs := map[string]any{"endpoint": srv.Endpoint, "bucket": "lake", "access_key_id": s3test.AccessKey, "secret_access_key": s3test.SecretKey, "format": "jsonl", "prefix": "p", "poll_interval": "1s"}
	src := new(source)
	if err := src.Open(ctx, taskContext(t, &SourceSchema, srcAttrs)); err != nil {
		t.Fatal(err)
	}
	var saved map[string]any
	for n := 0; n < 10; {
		rs, err := src.Poll(ctx)
		if err != nil || len(rs) == 0 {
			t.Fatalf("after %d records: %v", n, err)
		}
		n += len(rs)
		saved = rs[len(rs)-1].SourceOffset
	}
	_ = src.Close()
	// The late object: records 7 and 8 again under another path.
	late := append([]connector.Record{}, recs[7:9]...)
	write(map[string]any{"format": "jsonl", "flush_records": int64(2), "prefix": "p", "path": "'late'"}, late)
	tc := taskContext(t, &SourceSchema, srcAttrs)
	tc.Offset = func(map[string]any) map[string]any { return saved }
	src = new(source)
	err := src.Open(ctx, tc)
	if err == nil || !strings.Contains(err.Error(), "p/late/ev+0+0000000007.jsonl") {
		t.Fatalf("Open after a late object: %v, want it named", err)
	}
}

// TestLongRawOverlap puts two raw objects of one partition whose
// positions overlap (as a path by field made them before the sink refused
// it): the source fails with both names instead of losing records.
func TestLongRawOverlap(t *testing.T) {
	srv := s3test.Start(t, "lake")
	ctx := context.Background()
	src := new(source)
	attrs := map[string]any{"endpoint": srv.Endpoint, "bucket": "lake", "access_key_id": s3test.AccessKey, "secret_access_key": s3test.SecretKey, "format": "raw", "prefix": "p", "poll_interval": "1s"}
	if err := src.Open(ctx, taskContext(t, &SourceSchema, attrs)); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for name, body := range map[string]string{"p/a/ev+0+0000000000.bin": "a0\na1\na2\na4\n", "p/b/ev+0+0000000003.bin": "b3\nb5\n"} {
		if _, err := src.st.c.PutObject(ctx, "lake", name, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	src.listed = time.Time{}.Add(time.Second) // list at the next Poll
	var err error
	for range 3 {
		if _, err = src.Poll(ctx); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "p/a/ev+0+0000000000.bin") || !strings.Contains(err.Error(), "p/b/ev+0+0000000003.bin") {
		t.Fatalf("overlapping raw objects: %v, want both named", err)
	}
}
