//go:build long

package s3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/internal/s3test"
	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
	"github.com/pipectl/pipectl/runtime/worker"
	"github.com/pipectl/pipectl/stdlib"
)

// produced is a record as the test wrote it to Kafka and reads it back.
type produced struct {
	Partition int32
	Key       string
	Value     any // decoded JSON
	Headers   []kgo.RecordHeader
	Time      int64 // milliseconds
}

// TestLongRoundTripParquet produces records with keys, headers and
// timestamps over two hours into a topic of two partitions; sink "s3"
// writes them as Parquet to versitygw, partitioned by hour; the objects'
// names are checked with minio-go, their rows with hyparquet (a reader
// pipectl did not write), and source "s3" restores them into another
// topic, which must hold the same records, partition by partition, in
// order.
func TestLongRoundTripParquet(t *testing.T) {
	srv := s3test.Start(t, "lake")
	t.Setenv("E2E_S3_ENDPOINT", srv.Endpoint)
	t.Setenv("E2E_S3_KEY", s3test.AccessKey)
	t.Setenv("E2E_S3_SECRET", s3test.SecretKey)
	const perPartition = 100 // 50 in hour 10, 50 in hour 11
	w := runWorker(t, "s3e2e", `fleet {
  name = "s3e2e"
}
topic "orders" {
  name       = "orders"
  partitions = 2
}
topic "restored" {
  name       = "orders.restored"
  partitions = 2
}
sink "s3" "lake" {
  topics            = [topic.orders.name]
  endpoint          = env("E2E_S3_ENDPOINT")
  bucket            = "lake"
  access_key_id     = env("E2E_S3_KEY")
  secret_access_key = env("E2E_S3_SECRET")
  prefix            = "raw"
  path              = "topic + '/dt=' + year + '-' + month + '-' + day + '/hour=' + hour"
  format            = "parquet"
  compression       = "snappy"
  flush_records     = 25
  commit_interval   = "500ms"
}
`)
	base := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	var want []produced
	var recs []*kgo.Record
	for p := range int32(2) {
		for i := range perPartition {
			ts := base.Add(time.Duration(i) * 72 * time.Second) // 50 per hour
			v := map[string]any{"id": int64(int(p)*1000 + i), "name": fmt.Sprintf("order %d", i), "total": float64(i) + 0.5,
				"lines": []any{map[string]any{"sku": "a", "qty": int64(i % 3)}}, "note": nil}
			if i%10 == 0 {
				v["note"] = "gift"
			}
			vb, _ := json.Marshal(v)
			hs := []kgo.RecordHeader{{Key: "trace", Value: []byte(fmt.Sprintf("t-%d", i))}}
			if i%7 == 0 {
				hs = append(hs, kgo.RecordHeader{Key: "bin", Value: []byte{0xff, 0x00, byte(i)}}, kgo.RecordHeader{Key: "trace", Value: []byte("again")})
			}
			key := fmt.Sprintf("k%d", i)
			recs = append(recs, &kgo.Record{Topic: "orders", Partition: p, Key: []byte(key), Value: vb, Headers: hs, Timestamp: ts})
			want = append(want, produced{Partition: p, Key: key, Value: decode(t, vb), Headers: hs, Time: ts.UnixMilli()})
		}
	}
	produce(t, w.kcfg, recs)

	// 2 partitions × 2 hours × 2 objects of 25 records.
	names := waitObjects(t, srv, "lake", "raw/", 8)
	var wantNames []string
	for p := range 2 {
		for _, h := range []struct {
			hour  string
			start int
		}{{"10", 0}, {"10", 25}, {"11", 50}, {"11", 75}} {
			wantNames = append(wantNames, fmt.Sprintf("raw/orders/dt=2026-03-14/hour=%s/orders+%d+%010d.parquet", h.hour, p, h.start))
		}
	}
	sort.Strings(wantNames)
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}

	// Every row, read by hyparquet.
	var got []produced
	for _, name := range names {
		body := srv.Get(t, "lake", name)
		for _, row := range hyparquet(t, body) {
			got = append(got, rowRecord(t, row))
		}
	}
	sortProduced(got)
	if diff := cmp.Diff(sortedCopy(want), got); diff != "" {
		t.Fatalf("rows read by hyparquet (-produced +read):\n%s", diff)
	}

	// Restore into orders.restored.
	w.apply(t, `
source "s3" "restore" {
  endpoint          = env("E2E_S3_ENDPOINT")
  bucket            = "lake"
  access_key_id     = env("E2E_S3_KEY")
  secret_access_key = env("E2E_S3_SECRET")
  prefix            = "raw"
  format            = "parquet"
  topic             = "'orders.restored'"
  poll_interval     = "1s"
}
`)
	restored := consume(t, w.kcfg, "orders.restored", len(want))
	if diff := cmp.Diff(want, restored); diff != "" {
		t.Fatalf("restored records (-produced +restored), in partition order:\n%s", diff)
	}
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return normalize(v)
}

// normalize makes JSON numbers float64 and drops null fields, so that
// values compare by meaning (a restored value has no null fields of its
// own, and 1 and 1.0 are the same JSON number).
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case float64:
		return x
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e != nil {
				out[k] = normalize(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	}
	return v
}

func sortProduced(ps []produced) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Partition != ps[j].Partition {
			return ps[i].Partition < ps[j].Partition
		}
		return ps[i].Time < ps[j].Time
	})
}

func sortedCopy(ps []produced) []produced {
	out := append([]produced(nil), ps...)
	sortProduced(out)
	return out
}

// hyparquet reads a Parquet object with the npm package hyparquet (in
// PIPECTL_KAFKAJS_DIR, as .ci/run installs it) and returns its rows as
// JSON objects (bytes as {"bytes": [...]}, BigInts as numbers).
func hyparquet(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	f := filepath.Join(t.TempDir(), "o.parquet")
	if err := os.WriteFile(f, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return hyparquetFiles(t, f)[0]
}

// hyparquetFiles reads Parquet files with hyparquet: the rows of each.
func hyparquetFiles(t *testing.T, files ...string) [][]map[string]any {
	t.Helper()
	dir := os.Getenv("PIPECTL_KAFKAJS_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "pipectl-kafkajs")
	}
	mod := filepath.Join(dir, "node_modules", "hyparquet")
	if _, err := os.Stat(mod); err != nil {
		if os.Getenv("PIPECTL_REQUIRE_S3") == "1" {
			t.Fatalf("hyparquet is not installed in %s (PIPECTL_REQUIRE_S3=1)", dir)
		}
		t.Skipf("hyparquet is not installed in %s: npm install hyparquet there to read the Parquet objects", dir)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	script := `
const fs = require('fs');
import(process.argv[1] + '/src/index.js').then(async (h) => {
  const out = [];
  for (const f of process.argv.slice(2)) {
    const buf = fs.readFileSync(f);
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    out.push(await h.parquetReadObjects({ file, utf8: false }));
  }
  const fix = (v) => typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? { bytes: Array.from(v) } : v;
  process.stdout.write(JSON.stringify(out, (k, v) => fix(v)));
}).catch((e) => { console.error(e); process.exit(1); });
`
	cmd := exec.Command("node", append([]string{"-e", script, mod}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hyparquet: %v\n%s", err, stderr.String())
	}
	var rows [][]map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("hyparquet output: %v\n%s", err, out)
	}
	return rows
}

// rowRecord turns a hyparquet row into a produced record.
func rowRecord(t *testing.T, row map[string]any) produced {
	t.Helper()
	p := produced{Partition: int32(row["partition"].(float64))}
	p.Key = string(bytesOf(t, row["key"]))
	if ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(row["timestamp"])); err == nil {
		p.Time = ts.UnixMilli()
	} else {
		t.Fatalf("timestamp column: %v", row["timestamp"])
	}
	for _, h := range row["headers"].([]any) {
		m := h.(map[string]any)
		hd := kgo.RecordHeader{Key: stringOf(t, m["key"])}
		if m["value"] != nil {
			hd.Value = bytesOf(t, m["value"])
		}
		p.Headers = append(p.Headers, hd)
	}
	p.Value = normalize(strings2(t, row["value"]))
	return p
}

// strings2 turns hyparquet's byte arrays of STRING columns (read with
// utf8 false) back into strings, inside a value.
func strings2(t *testing.T, v any) any {
	switch x := v.(type) {
	case map[string]any:
		if b, ok := x["bytes"]; ok && len(x) == 1 {
			return string(bytesOf(t, map[string]any{"bytes": b}))
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = strings2(t, e)
		}
		return out
	case []any:
		for i := range x {
			x[i] = strings2(t, x[i])
		}
	}
	return v
}

func stringOf(t *testing.T, v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(bytesOf(t, v))
}

func bytesOf(t *testing.T, v any) []byte {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not bytes", v)
	}
	var b []byte
	for _, n := range m["bytes"].([]any) {
		b = append(b, byte(n.(float64)))
	}
	return b
}

func waitObjects(t *testing.T, srv *s3test.Server, bucket, prefix string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var names []string
	for time.Now().Before(deadline) {
		names = srv.Objects(t, bucket, prefix)
		if len(names) >= n {
			time.Sleep(time.Second) // none beyond n
			return srv.Objects(t, bucket, prefix)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%d objects under %s after 90 s, want %d: %v", len(names), prefix, n, names)
	return nil
}

func produce(t *testing.T, kcfg kafka.Config, recs []*kgo.Record) {
	t.Helper()
	opts, err := kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// consume reads n records of a topic, partition by partition in order.
func consume(t *testing.T, kcfg kafka.Config, topic string, n int) []produced {
	t.Helper()
	opts, err := kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	byPart := map[int32][]produced{}
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for got < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%d of %d records in %s after 90 s", got, n, topic)
		}
		fs.EachRecord(func(r *kgo.Record) {
			byPart[r.Partition] = append(byPart[r.Partition], produced{Partition: r.Partition, Key: string(r.Key), Value: decode(t, r.Value), Headers: r.Headers, Time: r.Timestamp.UnixMilli()})
			got++
		})
	}
	var out []produced
	for p := range int32(len(byPart)) {
		out = append(out, byPart[p]...)
	}
	return out
}

// testWorker is a worker of its own fleet on an in-process broker.
type testWorker struct {
	*worker.Worker
	kcfg  kafka.Config
	fleet string
	reg   *connector.Registry
	keys  *control.Keys
	ctl   *control.Control
	dir   string
	hcl   string
}

// runWorker applies hcl (a whole configuration, fleet block included) to
// a new broker and runs a worker on it until the test ends.
func runWorker(t *testing.T, fleet, hcl string) *testWorker {
	t.Helper()
	_, kcfg := kafkatest.Start(t)
	opts, err := kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := control.New(fleet, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := ctl.EnsureTopics(c); err != nil {
		t.Fatal(err)
	}
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	keys, err := control.NewKeys(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	tw := &testWorker{kcfg: kcfg, fleet: fleet, reg: reg, keys: keys, ctl: ctl, dir: t.TempDir()}
	tw.apply(t, hcl)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: fleet, Kafka: kcfg, Registry: reg, Listener: ln, Keys: keys, StatusInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tw.Worker = w
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the worker did not stop within 30 s")
		}
	})
	return tw
}

// apply adds more to the configuration and applies the whole.
func (tw *testWorker) apply(t *testing.T, more string) {
	t.Helper()
	tw.hcl += more
	if err := os.WriteFile(filepath.Join(tw.dir, "main.hcl"), []byte(tw.hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.Load(tw.dir, lang.Options{Plugins: tw.reg})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res, err := control.Resources(cfg, tw.keys)
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := tw.ctl.EnsureTopicResources(c, res); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tw.ctl.Sync(c, res, control.CommitInfo{By: "test"}); err != nil {
		t.Fatal(err)
	}
}

// status returns a pipeline's status document.
func (tw *testWorker) status(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get(tw.URL() + "/connectors/" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestLongBadCredentialsAndMissingBucket: a wrong secret and a missing bucket
// fail the sink's task with a status that says so, without the secret.
func TestLongBadCredentialsAndMissingBucket(t *testing.T) {
	srv := s3test.Start(t, "lake")
	t.Setenv("E2E_S3_ENDPOINT", srv.Endpoint)
	t.Setenv("E2E_S3_KEY", s3test.AccessKey)
	t.Setenv("E2E_S3_SECRET", s3test.SecretKey)
	t.Setenv("E2E_S3_BAD", "not-the-secret-4242")
	w := runWorker(t, "s3bad", `fleet {
  name = "s3bad"
}
topic "orders" {
  name = "orders"
}
sink "s3" "badkey" {
  topics            = [topic.orders.name]
  endpoint          = env("E2E_S3_ENDPOINT")
  bucket            = "lake"
  access_key_id     = env("E2E_S3_KEY")
  secret_access_key = env("E2E_S3_BAD")
}
sink "s3" "nobucket" {
  topics            = [topic.orders.name]
  endpoint          = env("E2E_S3_ENDPOINT")
  bucket            = "no-such-bucket"
  access_key_id     = env("E2E_S3_KEY")
  secret_access_key = env("E2E_S3_SECRET")
}
`)
	_ = w
	for addr, want := range map[string]string{"sink.s3.badkey": "refused the credentials", "sink.s3.nobucket": `bucket \"no-such-bucket\" does not exist`} {
		deadline := time.Now().Add(60 * time.Second)
		var st string
		for time.Now().Before(deadline) {
			st = w.status(t, addr)
			if strings.Contains(st, want) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		if !strings.Contains(st, want) {
			t.Errorf("%s status, want %q in it:\n%s", addr, want, st)
		}
		if strings.Contains(st, "not-the-secret-4242") || strings.Contains(st, s3test.SecretKey) {
			t.Errorf("%s status holds a secret:\n%s", addr, st)
		}
	}
}
