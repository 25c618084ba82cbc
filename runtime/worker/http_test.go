package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/worker"
)

// freePort returns a TCP address on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// topicRecords reads every record of a topic from its start until n have
// come or the deadline passes, with a franz-go consumer of the test's own.
func topicRecords(t *testing.T, cfg kafka.Config, topic string, n int, d time.Duration) []*kgo.Record {
	t.Helper()
	c, err := kafka.NewClient(cfg, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n && ctx.Err() == nil {
		c.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// postUntil POSTs body until the source answers (it starts with the task).
func postUntil(t *testing.T, url, body string, header ...string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("POST %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHTTPSourceToKafka POSTs NDJSON to a source "http" on a worker and
// reads the records back from Kafka with franz-go: a 200 means they are
// there, with the mapped header and the key from the request header.
func TestHTTPSourceToKafka(t *testing.T) {
	addr := freePort(t)
	f := newFixture(t, "httpsrc")
	f.apply(fmt.Sprintf(`
topic "hooks" {
  partitions = 2
}
source "http" "in" {
  listen       = %q
  path         = "/hooks"
  topic        = topic.hooks.name
  format       = "ndjson"
  bearer_token = "t0ken"
  key_header   = "X-Tenant"
  headers      = { "X-Event" = "event" }
}
`, addr))
	f.startWorker()
	url := "http://" + addr + "/hooks"
	if code, _ := postUntil(t, url, `{"id":-1}`, "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d, want 401", code)
	}
	if code, body := postUntil(t, url, "{\"id\":1}\n{\"id\":", "Authorization", "Bearer t0ken"); code != http.StatusBadRequest {
		t.Fatalf("a torn NDJSON body: %d %q, want 400", code, body)
	}
	const requests, per = 20, 50
	for r := range requests {
		var b bytes.Buffer
		for i := range per {
			fmt.Fprintf(&b, "{\"id\":%d}\n", r*per+i)
		}
		if code, body := postUntil(t, url, b.String(), "Authorization", "Bearer t0ken", "X-Tenant", "acme", "X-Event", "order"); code != http.StatusOK {
			t.Fatalf("request %d: %d %q", r, code, body)
		}
	}
	recs := topicRecords(t, f.kcfg, "hooks", requests*per+1, 3*time.Second)
	ids := map[int]int{}
	for _, r := range recs {
		var v struct{ ID int }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("value %q: %v", r.Value, err)
		}
		ids[v.ID]++
		if string(r.Key) != "acme" || len(r.Headers) != 1 || r.Headers[0].Key != "event" || string(r.Headers[0].Value) != "order" {
			t.Fatalf("record key %q headers %v, want acme and event=order", r.Key, r.Headers)
		}
	}
	for id := range requests * per {
		if ids[id] != 1 {
			t.Fatalf("id %d is in Kafka %d times, want once", id, ids[id])
		}
	}
	if len(ids) != requests*per {
		t.Fatalf("%d ids in Kafka, want %d (the refused requests wrote something?)", len(ids), requests*per)
	}
}

// remote is a test HTTP endpoint for the sink: it fails every tenth
// request with 503 (Retry-After: 0), refuses a batch that holds a record
// with bad = true with 400, and keeps the ids of the batches it accepts.
type remote struct {
	mu       sync.Mutex
	requests int
	ids      map[int]int
	auth     []string
}

func (rm *remote) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.requests++
	rm.auth = append(rm.auth, r.Header.Get("Authorization"))
	if rm.requests%10 == 0 {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	var batch []struct {
		ID  int
		Bad bool
	}
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
		http.Error(w, "not a JSON array: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	for _, rec := range batch {
		if rec.Bad {
			http.Error(w, fmt.Sprintf("record %d is bad", rec.ID), http.StatusBadRequest)
			return
		}
	}
	for _, rec := range batch {
		rm.ids[rec.ID]++
	}
	w.WriteHeader(http.StatusNoContent)
}

// TestHTTPSinkRetriesAndDeadLetters runs generator → topic → sink "http"
// against an endpoint that fails one request in ten with 503 and refuses
// records with 400: every good record arrives, and each refused one is in
// the dead-letter topic with the endpoint's status and body in headers.
func TestHTTPSinkRetriesAndDeadLetters(t *testing.T) {
	rm := &remote{ids: map[int]int{}}
	srv := httptest.NewServer(rm)
	defer srv.Close()
	const n = 2000
	f := newFixture(t, "httpsink")
	f.apply(fmt.Sprintf(`
topic "events" {
  partitions = 2
}
topic "dlq" {}
source "generator" "g" {
  topic = topic.events.name
  count = %d
  value = "{'id': seq, 'bad': seq %% 97 == 5}"
}
sink "http" "out" {
  topics       = [topic.events.name]
  url          = "'%s/in'"
  batch_size   = 100
  bearer_token = "hunter2"
  errors {
    tolerance         = "all"
    dead_letter_topic = topic.dlq.name
  }
}
`, n, srv.URL))
	f.startWorker()
	var bad []int
	for id := range n {
		if id%97 == 5 {
			bad = append(bad, id)
		}
	}
	dead := topicRecords(t, f.kcfg, "dlq", len(bad), 90*time.Second)
	eventually(t, 60*time.Second, "every good record at the endpoint", func() (bool, string) {
		rm.mu.Lock()
		defer rm.mu.Unlock()
		return len(rm.ids) == n-len(bad), fmt.Sprintf("%d of %d ids, %d requests", len(rm.ids), n-len(bad), rm.requests)
	})
	rm.mu.Lock()
	for id := range n {
		want := 1
		if id%97 == 5 {
			want = 0
		}
		if rm.ids[id] < want || (want == 0 && rm.ids[id] > 0) {
			t.Errorf("id %d delivered %d times", id, rm.ids[id])
		}
	}
	for _, a := range rm.auth {
		if a != "Bearer hunter2" {
			t.Fatalf("a request carried Authorization %q", a)
		}
	}
	t.Logf("%d requests for %d records (%d refused)", rm.requests, n, len(bad))
	rm.mu.Unlock()
	var deadIDs []int
	for _, r := range dead {
		var v struct{ ID int }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("dead letter %q: %v", r.Value, err)
		}
		deadIDs = append(deadIDs, v.ID)
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		if h["pipectl.http.status"] != "400" || h["pipectl.http.response_body"] != fmt.Sprintf("record %d is bad\n", v.ID) || h["pipectl.error.stage"] != "sink" {
			t.Errorf("dead letter of %d has headers %v", v.ID, h)
		}
		if bytes.Contains([]byte(fmt.Sprint(h)), []byte("hunter2")) {
			t.Errorf("a dead-letter header shows the token: %v", h)
		}
	}
	slices.Sort(deadIDs)
	if !slices.Equal(deadIDs, bad) {
		t.Fatalf("dead-lettered ids %v, want %v", deadIDs, bad)
	}
}

// pager is a cursor-paginated endpoint over a growing list of items:
// GET ?cursor=C gives up to 10 items after position C and the cursor
// after them (the same cursor when there are none yet).
type pager struct {
	mu      sync.Mutex
	items   int
	cursors []string // the cursor of every request, "" for none
}

func (p *pager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := r.URL.Query().Get("cursor")
	p.cursors = append(p.cursors, c)
	pos := 0
	if c != "" {
		var err error
		if pos, err = strconv.Atoi(c); err != nil {
			http.Error(w, "bad cursor", http.StatusBadRequest)
			return
		}
	}
	items := []map[string]any{}
	for i := pos; i < min(pos+10, p.items); i++ {
		items = append(items, map[string]any{"id": i})
	}
	json.NewEncoder(w).Encode(map[string]any{"items": items, "cursor": strconv.Itoa(pos + len(items))})
}

// TestHTTPPollResumesFromCursor polls a paginated endpoint, stops the
// worker, adds items and starts another: its first request carries the
// saved cursor, and every item is in the topic exactly once.
func TestHTTPPollResumesFromCursor(t *testing.T) {
	pg := &pager{items: 45}
	srv := httptest.NewServer(pg)
	defer srv.Close()
	f := newFixture(t, "httppoll")
	f.apply(fmt.Sprintf(`
topic "items" {}
source "http_poll" "legacy" {
  url          = "%s/items"
  topic        = topic.items.name
  interval     = "200ms"
  records      = "body.items"
  next         = "body.cursor"
  cursor_param = "cursor"
  key          = "string(item.id)"
}
`, srv.URL))
	_, stop := f.startWorker()
	if got := topicRecords(t, f.kcfg, "items", 45, 60*time.Second); len(got) != 45 {
		t.Fatalf("%d records after the first run, want 45", len(got))
	}
	// Let the source save the cursor of the last page and poll it again.
	eventually(t, 30*time.Second, "a poll past the end", func() (bool, string) {
		pg.mu.Lock()
		defer pg.mu.Unlock()
		return slices.Contains(pg.cursors, "45"), fmt.Sprint(pg.cursors)
	})
	stop()
	pg.mu.Lock()
	pg.items = 63
	before := len(pg.cursors)
	pg.mu.Unlock()
	f.startWorker()
	recs := topicRecords(t, f.kcfg, "items", 63, 60*time.Second)
	pg.mu.Lock()
	first := pg.cursors[before]
	pg.mu.Unlock()
	if first != "45" {
		t.Fatalf("the restarted source asked for cursor %q first, want the saved 45", first)
	}
	ids := map[int]int{}
	for _, r := range recs {
		var v struct{ ID int }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		ids[v.ID]++
		if string(r.Key) != strconv.Itoa(v.ID) {
			t.Errorf("record %d has key %q", v.ID, r.Key)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if more := topicRecords(t, f.kcfg, "items", 64, 2*time.Second); len(more) != 63 {
		t.Fatalf("%d records in the topic, want 63", len(more))
	}
	for id := range 63 {
		if ids[id] != 1 {
			t.Fatalf("item %d is in the topic %d times, want once", id, ids[id])
		}
	}
}

// TestHTTPSourceRecordTooLarge POSTs a raw body over the producer's
// largest record (franz-go refuses it with MESSAGE_TOO_LARGE, which fails
// the task) but under max_body_bytes: the source answers 413 and writes
// nothing, and the task goes on taking requests.
func TestHTTPSourceRecordTooLarge(t *testing.T) {
	addr := freePort(t)
	f := newFixture(t, "httpbig")
	f.apply(fmt.Sprintf(`
topic "blobs" {}
source "http" "in" {
  listen         = %q
  topic          = topic.blobs.name
  format         = "raw"
  max_body_bytes = 10485760
  ack_timeout    = "5s"
}
`, addr))
	f.startWorker()
	url := "http://" + addr + "/"
	if code, body := postUntil(t, url, string(bytes.Repeat([]byte("x"), 1500000))); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 1.5 MB record: %d %q, want 413", code, body)
	}
	if code, body := postUntil(t, url, "small"); code != http.StatusOK {
		t.Fatalf("a small record after the large one: %d %q, want 200 (the task still running)", code, body)
	}
	recs := topicRecords(t, f.kcfg, "blobs", 2, 3*time.Second)
	if len(recs) != 1 {
		t.Fatalf("the topic holds %d records, want only the small one", len(recs))
	}
	// raw bytes through the default json converter: a base64 string.
	if string(recs[0].Value) != `"c21hbGw="` {
		t.Fatalf("the record is %.60q, want the small one", recs[0].Value)
	}
}

// TestHTTPSinkWrongTokenFails runs a sink "http" against an endpoint that
// answers 401 to everything (a wrong token): the task fails with the
// status in its problem, and no record goes to the dead-letter topic,
// although errors.tolerance is "all".
func TestHTTPSinkWrongTokenFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad token", http.StatusUnauthorized)
	}))
	defer srv.Close()
	f := newFixture(t, "httpauth")
	f.apply(fmt.Sprintf(`
topic "events" {}
topic "dlq" {}
source "generator" "g" {
  topic = topic.events.name
  count = 50
  value = "{'id': seq}"
}
sink "http" "out" {
  topics       = [topic.events.name]
  url          = "'%s/in'"
  bearer_token = "wrong"
  errors {
    tolerance         = "all"
    dead_letter_topic = topic.dlq.name
  }
}
`, srv.URL))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: f.fleet, Kafka: f.kcfg, Registry: f.reg, Listener: ln, Keys: f.keys, StatusInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually(t, 60*time.Second, "the sink's task FAILED with 401", func() (bool, string) {
		c := w.Counts()["sink.http.out"]
		return strings.HasPrefix(c.Problem, "task 0 FAILED: ") && strings.Contains(c.Problem, "401"), fmt.Sprintf("%+v", c)
	})
	if dead := topicRecords(t, f.kcfg, "dlq", 1, 2*time.Second); len(dead) != 0 {
		t.Fatalf("%d records in the dead-letter topic, want none", len(dead))
	}
}
