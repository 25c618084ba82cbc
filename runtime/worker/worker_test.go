package worker_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
	"github.com/pipectl/pipectl/runtime/worker"
	"github.com/pipectl/pipectl/stdlib"
)

// fixture is a broker, a fleet and a configuration directory.
type fixture struct {
	t     *testing.T
	kcfg  kafka.Config
	fleet string
	dir   string
	ctl   *control.Control
	reg   *connector.Registry
	keys  *control.Keys
}

func newFixture(t *testing.T, fleet string) *fixture {
	t.Helper()
	_, kcfg := kafkatest.Start(t)
	return newFixtureAt(t, fleet, kcfg)
}

// newFixtureAt is newFixture on a broker the test runs itself.
func newFixtureAt(t *testing.T, fleet string, kcfg kafka.Config) *fixture {
	t.Helper()
	opts, err := kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := control.New(fleet, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)
	if err := ctl.EnsureTopics(ctxFor(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	keys, err := control.NewKeys(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, kcfg: kcfg, fleet: fleet, dir: t.TempDir(), ctl: ctl, reg: reg, keys: keys}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// apply writes src as the configuration and applies it as pipectl dev does.
func (f *fixture) apply(src string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(fmt.Sprintf("fleet {\n  name = %q\n}\n%s", f.fleet, src)), 0o644); err != nil {
		f.t.Fatal(err)
	}
	cfg, diags := lang.Load(f.dir, lang.Options{Plugins: f.reg})
	if diags.HasErrors() {
		f.t.Fatal(diags)
	}
	res, err := control.Resources(cfg, f.keys)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx := ctxFor(f.t, 30*time.Second)
	if err := f.ctl.EnsureTopicResources(ctx, res); err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := f.ctl.Sync(ctx, res, control.CommitInfo{By: "test"}); err != nil {
		f.t.Fatal(err)
	}
}

// startWorker runs a worker until the test ends and returns its REST URL.
func (f *fixture) startWorker() (string, func()) {
	f.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: f.fleet, Kafka: f.kcfg, Registry: f.reg, Listener: ln, Keys: f.keys, StatusInterval: 500 * time.Millisecond})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				f.t.Errorf("worker: %v", err)
			}
		case <-time.After(20 * time.Second):
			f.t.Error("the worker did not stop within 20 s")
		}
	}
	f.t.Cleanup(stop)
	return w.URL(), stop
}

// eventually retries cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not reached within %s (last: %s)", what, d, last)
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		_ = json.NewDecoder(resp.Body).Decode(into)
	}
	return resp.StatusCode
}

func send(t *testing.T, method, url string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type status struct {
	Connector struct{ State, Trace string }
	Tasks     []struct {
		ID    int
		State string
		Trace string
	}
}

func pipelineState(t *testing.T, base, addr string) string {
	var s status
	if getJSON(t, base+"/connectors/"+addr+"/status", &s) != 200 {
		return "(no status)"
	}
	return s.Connector.State
}

// TestGeneratorTransformFile runs the quickstart's shape end to end: a
// generator with a filter and a masking transform into a topic, a file
// sink out of it; every surviving record arrives transformed.
func TestGeneratorTransformFile(t *testing.T) {
	f := newFixture(t, "shop")
	f.apply(`
topic "orders" {
  name       = "orders"
  partitions = 3
}
predicate "external" {
  expr = "!value.email.endsWith('@corp.example')"
}
transform "drop_small" {
  filter = "value.amount >= 10"
}
transform "mask_pii" {
  when = predicate.external
  set  = { "value.email" = "sha256(value.email)" }
  drop = ["value.card"]
}
source "generator" "orders" {
  topic      = topic.orders.name
  count      = 200
  value      = "{'id': seq, 'email': 'u' + string(seq) + (seq % 3 == 0 ? '@corp.example' : '@example.com'), 'amount': seq % 100, 'card': '4111'}"
  transforms = [transform.drop_small, transform.mask_pii]
}
sink "file" "out" {
  topics = [topic.orders.name]
  path   = "out/orders.jsonl"
}
`)
	base, _ := f.startWorker()
	out := filepath.Join(f.dir, "out", "orders.jsonl")
	eventually(t, 60*time.Second, "180 records in the file", func() (bool, string) {
		n := len(readLines(out))
		return n >= 180, fmt.Sprintf("%d lines", n)
	})
	seen := map[int]bool{}
	for _, line := range readLines(out) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		id := int(rec["id"].(float64))
		seen[id] = true
		if id%100 < 10 {
			t.Errorf("record %d should have been filtered out", id)
		}
		email := rec["email"].(string)
		if id%3 == 0 {
			if !strings.HasSuffix(email, "@corp.example") || rec["card"] != "4111" {
				t.Errorf("internal record %d was changed: %v", id, rec)
			}
		} else if len(email) != 64 || rec["card"] != nil {
			t.Errorf("external record %d was not masked: %v", id, rec)
		}
	}
	if len(seen) != 180 {
		t.Errorf("%d distinct records, want 180", len(seen))
	}
	for _, addr := range []string{"source.generator.orders", "sink.file.out"} {
		if st := pipelineState(t, base, addr); st != "RUNNING" {
			t.Errorf("%s is %s, want RUNNING", addr, st)
		}
	}
}

// TestPauseResumeRestart pauses a pipeline over REST, checks that nothing
// flows while it is paused, resumes it, then restarts a failed task.
func TestPauseResumeRestart(t *testing.T) {
	f := newFixture(t, "ops")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  rate  = 200
  value = "{'id': seq}"
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "out.jsonl"
}
`)
	base, _ := f.startWorker()
	out := filepath.Join(f.dir, "out.jsonl")
	eventually(t, 30*time.Second, "records flowing", func() (bool, string) {
		return len(readLines(out)) > 20, ""
	})
	if code := send(t, http.MethodPut, base+"/connectors/source.generator.g/pause"); code != 202 {
		t.Fatalf("pause: %d, want 202", code)
	}
	eventually(t, 30*time.Second, "PAUSED", func() (bool, string) {
		var s status
		getJSON(t, base+"/connectors/source.generator.g/status", &s)
		return s.Connector.State == "PAUSED" && len(s.Tasks) == 1 && s.Tasks[0].State == "PAUSED", fmt.Sprint(s)
	})
	// A task's PAUSED is written once it flushed: nothing more reaches the
	// topic. Counted in the topic, not in the sink's file, which may still
	// be catching up on a loaded machine.
	produced := func() int64 {
		t.Helper()
		ends, err := f.ctl.Admin().ListEndOffsets(ctxFor(t, 30*time.Second), "t")
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n
	}
	paused := produced()
	time.Sleep(2 * time.Second)
	if after := produced(); after != paused {
		t.Errorf("records kept flowing while paused: %d → %d in the topic", paused, after)
	}
	eventually(t, 30*time.Second, "the sink has every record produced before the pause", func() (bool, string) {
		n := len(readLines(out))
		return int64(n) == paused, fmt.Sprintf("%d lines, %d records", n, paused)
	})
	before := int(paused)
	if code := send(t, http.MethodPut, base+"/connectors/source.generator.g/resume"); code != 202 {
		t.Fatalf("resume: %d", code)
	}
	eventually(t, 30*time.Second, "flowing again after resume", func() (bool, string) {
		n := len(readLines(out))
		return n > before+20, fmt.Sprintf("%d lines", n)
	})

	// A sink whose file cannot be written fails; restart brings it back
	// once the cause is gone.
	blocker := filepath.Join(f.dir, "blocked")
	if err := os.WriteFile(blocker, []byte("a file where a directory should be"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  rate  = 200
  value = "{'id': seq}"
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "blocked/out.jsonl"
}
`)
	eventually(t, 30*time.Second, "the sink fails", func() (bool, string) {
		var s status
		getJSON(t, base+"/connectors/sink.file.out/status", &s)
		return len(s.Tasks) == 1 && s.Tasks[0].State == "FAILED" && s.Tasks[0].Trace != "", fmt.Sprint(s)
	})
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if code := send(t, http.MethodPost, base+"/connectors/sink.file.out/restart?includeTasks=true&onlyFailed=true"); code != 202 {
		t.Fatalf("restart: %d, want 202", code)
	}
	eventually(t, 30*time.Second, "the restarted sink writes", func() (bool, string) {
		return len(readLines(filepath.Join(blocker, "out.jsonl"))) > 0, pipelineState(t, base, "sink.file.out")
	})
}

// TestDeadLetterWithKcat produces good and malformed JSON with kcat (a
// librdkafka client) into a topic; a file sink with tolerance = "all"
// writes every good record and sends every bad one, unchanged and with
// its reason, to the dead-letter topic.
func TestDeadLetterWithKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not on PATH (apt-get install kcat; .ci/run installs it)")
	}
	f := newFixture(t, "dlq")
	f.apply(`
topic "in" {}
sink "file" "out" {
  topics = [topic.in.name]
  path   = "good.jsonl"
  errors {
    tolerance         = "all"
    dead_letter_topic = "in.dlq"
  }
}
`)
	var input bytes.Buffer
	var bad []string
	for i := range 50 {
		if i%5 == 0 {
			line := fmt.Sprintf(`{"id": %d, "broken": `, i)
			bad = append(bad, line)
			input.WriteString(line + "\n")
			continue
		}
		fmt.Fprintf(&input, "{\"id\": %d}\n", i)
	}
	cmd := exec.Command(kcat, "-P", "-b", f.kcfg.Brokers[0], "-t", "in")
	cmd.Stdin = &input
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	f.startWorker()
	good := filepath.Join(f.dir, "good.jsonl")
	eventually(t, 60*time.Second, "40 good records", func() (bool, string) {
		n := len(readLines(good))
		return n >= 40, fmt.Sprintf("%d", n)
	})
	if n := len(readLines(good)); n != 40 {
		t.Errorf("%d good records, want 40", n)
	}
	cl, err := kafka.NewClient(f.kcfg, kgo.ConsumeTopics("in.dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var dead []*kgo.Record
	ctx := ctxFor(t, 30*time.Second)
	for len(dead) < len(bad) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { dead = append(dead, r) })
	}
	if len(dead) != len(bad) {
		t.Fatalf("%d dead-letter records, want %d", len(dead), len(bad))
	}
	for i, r := range dead {
		if string(r.Value) != bad[i] {
			t.Errorf("dead-letter record %d = %q, want the original %q", i, r.Value, bad[i])
		}
		h := map[string]string{}
		for _, hd := range r.Headers {
			h[hd.Key] = string(hd.Value)
		}
		for _, k := range []string{"pipectl.error.class", "pipectl.error.message", "pipectl.source.topic", "pipectl.source.partition", "pipectl.source.offset"} {
			if h[k] == "" {
				t.Errorf("dead-letter record %d lacks header %s: %v", i, k, h)
			}
		}
		if h["pipectl.error.stage"] != "converter" || h["pipectl.pipeline"] != "sink.file.out" || h["pipectl.source.topic"] != "in" {
			t.Errorf("dead-letter record %d headers: %v", i, h)
		}
	}
	// kcat reads the good records pipectl's worker could also write back:
	// here it checks that the DLQ is readable by librdkafka too.
	out, err := exec.Command(kcat, "-C", "-b", f.kcfg.Brokers[0], "-t", "in.dlq", "-e", "-o", "beginning", "-f", "%h\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -C: %v\n%s", err, out)
	}
	if c := strings.Count(string(out), "pipectl.error.stage=converter"); c != len(bad) {
		t.Errorf("kcat saw %d records with the stage header, want %d:\n%s", c, len(bad), out)
	}
}

// TestFileSourceRestart tails a file into a topic, stops the worker,
// appends lines, starts a new worker: every line arrives, none is lost.
func TestFileSourceRestart(t *testing.T) {
	f := newFixture(t, "logs")
	log := filepath.Join(f.dir, "app.log")
	appendLines := func(from, to int) {
		fh, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			fmt.Fprintf(fh, "line %d\n", i)
		}
		fh.Close()
	}
	appendLines(0, 100)
	f.apply(`
topic "logs" {}
source "file" "app" {
  paths           = ["*.log"]
  topic           = topic.logs.name
  value_converter = "string"
  poll_interval   = "100ms"
}
`)
	count := func() (map[string]int, error) {
		cl, err := kafka.NewClient(f.kcfg)
		if err != nil {
			return nil, err
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		ends, err := adm.ListEndOffsets(context.Background(), "logs")
		if err != nil {
			return nil, err
		}
		parts := map[int32]kgo.Offset{}
		want := map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) {
			parts[o.Partition] = kgo.NewOffset().AtStart()
			want[o.Partition] = o.Offset
		})
		c, err := kafka.NewClient(f.kcfg, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"logs": parts}))
		if err != nil {
			return nil, err
		}
		defer c.Close()
		got := map[string]int{}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		remaining := 0
		for _, e := range want {
			remaining += int(e)
		}
		for remaining > 0 && ctx.Err() == nil {
			c.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				got[string(r.Value)]++
				remaining--
			})
		}
		return got, nil
	}
	_, stop := f.startWorker()
	eventually(t, 30*time.Second, "100 lines", func() (bool, string) {
		got, err := count()
		return err == nil && len(got) == 100, fmt.Sprint(len(got), err)
	})
	stop()
	appendLines(100, 150)
	f.startWorker()
	eventually(t, 30*time.Second, "150 lines after the restart", func() (bool, string) {
		got, err := count()
		return err == nil && len(got) == 150, fmt.Sprint(len(got), err)
	})
	got, _ := count()
	for i := range 150 {
		if got[fmt.Sprintf("line %d", i)] != 1 {
			t.Errorf("line %d arrived %d times, want once (a clean stop commits its offsets)", i, got[fmt.Sprintf("line %d", i)])
		}
	}
}

// TestMirror mirrors a topic of a second broker into the fleet's broker,
// keeping keys, headers and partitions, adding the provenance header (the
// origin's cluster id), and creating the target topic.
func TestMirror(t *testing.T) {
	f := newFixture(t, "dr")
	_, origin := kafkatest.Start(t)
	ocl, err := kafka.NewClient(origin, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer ocl.Close()
	ctx := ctxFor(t, 60*time.Second)
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(ocl), kafka.Topic{Name: "orders.eu", Partitions: 4}); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := range 200 {
		recs = append(recs, &kgo.Record{Topic: "orders.eu", Partition: int32(i % 4), Key: []byte(fmt.Sprint("k", i)),
			Value: []byte(fmt.Sprintf(`{"id":%d}`, i)), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte(fmt.Sprint(i))}}})
	}
	if err := ocl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	meta, err := kadm.NewClient(ocl).BrokerMetadata(ctx)
	if err != nil || meta.Cluster == "" {
		t.Fatalf("origin's cluster id %q: %v", meta.Cluster, err)
	}
	f.apply(fmt.Sprintf(`
source "kafka" "mirror" {
  brokers         = [%q]
  topics          = ["orders.eu"]
  topic_prefix    = "backup."
  key_converter   = "bytes"
  value_converter = "bytes"
  tasks           = 2
}
`, origin.Brokers[0]))
	f.startWorker()
	cl, err := kafka.NewClient(f.kcfg, kgo.ConsumeTopics("backup.orders.eu"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]*kgo.Record{}
	for len(got) < 200 && ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got[string(r.Key)] = r })
		cancel()
	}
	if len(got) != 200 {
		t.Fatalf("mirrored %d records, want 200", len(got))
	}
	for i := range 200 {
		r := got[fmt.Sprint("k", i)]
		if r == nil || r.Partition != int32(i%4) || string(r.Value) != fmt.Sprintf(`{"id":%d}`, i) ||
			len(r.Headers) != 2 || string(r.Headers[0].Value) != fmt.Sprint(i) ||
			r.Headers[1].Key != "pipectl.mirror.origin" || string(r.Headers[1].Value) != meta.Cluster {
			t.Fatalf("record %d mirrored as %+v", i, r)
		}
	}
}

// TestMirrorFollowsTheSource checks, through the worker, that partitions
// added to a mirrored topic are mirrored into the same partitions of the
// target, which grows first, without an apply: the fleet's producer must
// learn the new partitions before it gets their records.
func TestMirrorFollowsTheSource(t *testing.T) {
	f := newFixture(t, "dr")
	_, origin := kafkatest.Start(t)
	ocl, err := kafka.NewClient(origin, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer ocl.Close()
	ctx := ctxFor(t, 60*time.Second)
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(ocl), kafka.Topic{Name: "orders.eu", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	produce := func(partitions ...int32) {
		t.Helper()
		pcl, err := kafka.NewClient(origin, kgo.RecordPartitioner(kgo.ManualPartitioner())) // fresh metadata
		if err != nil {
			t.Fatal(err)
		}
		defer pcl.Close()
		var recs []*kgo.Record
		for _, p := range partitions {
			recs = append(recs, &kgo.Record{Topic: "orders.eu", Partition: p, Key: []byte(fmt.Sprint("k", p)), Value: []byte("v")})
		}
		if err := pcl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(0, 1)
	f.apply(fmt.Sprintf(`
source "kafka" "mirror" {
  brokers          = [%q]
  topics           = ["orders.eu"]
  topic_prefix     = "backup."
  refresh_interval = "200ms"
  key_converter    = "bytes"
  value_converter  = "bytes"
  tasks            = 2
}
`, origin.Brokers[0]))
	f.startWorker()
	got := map[string]int32{}
	wait := func(n int) {
		t.Helper()
		// A consumer that looks for new partitions often.
		cl, err := kafka.NewClient(f.kcfg, kgo.ConsumeTopics("backup.orders.eu"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.MetadataMinAge(10*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for len(got) < n && ctx.Err() == nil {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got[string(r.Key)] = r.Partition })
			cancel()
		}
	}
	wait(2)
	if _, err := kadm.NewClient(ocl).UpdatePartitions(ctx, 4, "orders.eu"); err != nil {
		t.Fatal(err)
	}
	produce(2, 3)
	wait(4)
	want := map[string]int32{"k0": 0, "k1": 1, "k2": 2, "k3": 3}
	if !maps.Equal(want, got) {
		t.Fatalf("backup.orders.eu holds %v (key: partition), want %v", got, want)
	}
}

// stateKeyB64 is the fixture's state key as PIPECTL_STATE_KEY holds it.
var stateKeyB64 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "pipectl-bin-") }

// TestAutomaticRestart runs a generator that fails at its sixth record:
// with restart { max_attempts = 2 } the task runs three times in all,
// each time from its saved offset, then stays FAILED.
func TestAutomaticRestart(t *testing.T) {
	f := newFixture(t, "restarts")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  value = "seq == 5 ? int(string(seq) + ' is not a number') : seq"
  restart {
    max_attempts = 2
    backoff      = "200ms"
  }
}
`)
	starts := map[time.Time]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var last control.TaskStatus
	go func() {
		_ = f.ctl.WatchStatus(ctx, func(v *control.StatusView) {
			mu.Lock()
			defer mu.Unlock()
			if ts, ok := v.Tasks["source.generator.g"][0]; ok {
				last = ts
				if !ts.Started.IsZero() {
					starts[ts.Started] = true
				}
			}
		})
	}()
	f.startWorker()
	eventually(t, 30*time.Second, "FAILED after three runs", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return last.State == control.Failed && len(starts) == 3, fmt.Sprintf("%s after %d runs", last.State, len(starts))
	})
	time.Sleep(time.Second) // no fourth run
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 3 || !strings.Contains(last.Trace, "value for seq 5") {
		t.Errorf("%d runs, last %s %q; want 3 runs ending FAILED with the error", len(starts), last.State, last.Trace)
	}
}
