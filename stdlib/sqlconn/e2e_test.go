package sqlconn_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// TestPostgresToMariaDB runs a real worker on an in-process broker:
// PostgreSQL table → source "sql" → Kafka (json with schemas) → sink "sql"
// → MariaDB table (created from the record schema), then rows updated in
// PostgreSQL (timestamp+incrementing) arrive as upserts. Both tables are
// read back with psql and mariadb and must be equal.
func TestPostgresToMariaDB(t *testing.T) {
	pg, my := newPostgres(t), newMySQL(t)
	pg.exec(t, `CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(8,2), day DATE,
		updated TIMESTAMP(6) NOT NULL DEFAULT now())`)
	pg.exec(t, `INSERT INTO items (name, price, day, updated) SELECT 'item ' || i, i * 1.5, DATE '2026-01-01' + i, TIMESTAMP '2026-01-01' + i * INTERVAL '1 minute' FROM generate_series(1, 300) AS i`)
	t.Setenv("E2E_PG_DSN", pg.dsn)
	t.Setenv("E2E_MY_DSN", my.dsn)

	fleet := "sqle2e"
	w := runWorker(t, fleet, fmt.Sprintf(`fleet {
  name = %q
}
converter "typed" {
  type           = "json"
  schemas_enable = true
}
topic "items" {
  name       = "pg.items"
  partitions = 3
}
source "sql" "pg" {
  dsn                 = env("E2E_PG_DSN")
  table               = "items"
  mode                = "timestamp+incrementing"
  timestamp_column    = "updated"
  incrementing_column = "id"
  topic_prefix        = "pg."
  poll_interval       = "200ms"
  batch_size          = 64
  key_converter       = converter.typed
  value_converter     = converter.typed
}
sink "sql" "my" {
  topics          = [topic.items.name]
  dsn             = env("E2E_MY_DSN")
  table           = "'items_copy'"
  mode            = "upsert"
  primary_key     = ["id"]
  auto_create     = true
  key_converter   = converter.typed
  value_converter = converter.typed
}
`, fleet))

	pgQ := `SELECT id, name, price, day, to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US') FROM items ORDER BY id`
	myQ := `SELECT id, name, price, day, DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f') FROM items_copy ORDER BY id`
	converge := func(what string) {
		t.Helper()
		want := pg.cli(t, pgQ)
		var got []string
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			if tableExists(t, my, "items_copy") {
				got = my.cli(t, myQ)
				if cmp.Equal(want, got) {
					return
				}
			}
			time.Sleep(300 * time.Millisecond)
		}
		for _, addr := range []string{"source.sql.pg", "sink.sql.my"} {
			if resp, err := http.Get(w.URL() + "/connectors/" + addr + "/status"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("%s: %s", addr, b)
			}
		}
		t.Fatalf("%s: MariaDB never matched PostgreSQL (%d rows vs %d); diff (-postgres +mariadb):\n%s", what, len(want), len(got), cmp.Diff(want, got))
	}
	converge("initial rows")
	if len(pg.cli(t, pgQ)) != 300 {
		t.Fatal("PostgreSQL should hold 300 rows")
	}
	pg.exec(t, `UPDATE items SET name = name || ' (sold)', price = price * 2, updated = TIMESTAMP '2026-06-01' + id * INTERVAL '1 second' WHERE id % 10 = 0`)
	pg.exec(t, `INSERT INTO items (name, price, day, updated) VALUES ('late', 0.01, '2026-12-31', TIMESTAMP '2026-07-01')`)
	converge("updates and a new row")
	if got := my.cli(t, "SELECT name FROM items_copy WHERE id = 20"); !cmp.Equal(got, []string{"item 20 (sold)"}) {
		t.Errorf("row 20 in MariaDB: %v", got)
	}
	if got := strings.Join(my.cli(t, "SELECT DATA_TYPE FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'items_copy' ORDER BY ORDINAL_POSITION"), ","); got != "int,longtext,decimal,date,datetime" {
		t.Errorf("MariaDB column types %s, want them from the record schema", got)
	}
}

func tableExists(t *testing.T, d *testDB, name string) bool {
	var n int
	if err := d.db.QueryRow("SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// worker is a worker of its own fleet on an in-process broker.
type testWorker struct {
	*worker.Worker
	kcfg  kafka.Config
	fleet string
	reg   *connector.Registry
	keys  *control.Keys
	stop  func()
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
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: reg})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res, err := control.Resources(cfg, keys)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.EnsureTopicResources(c, res); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ctl.Sync(c, res, control.CommitInfo{By: "test"}); err != nil {
		t.Fatal(err)
	}
	tw := &testWorker{kcfg: kcfg, fleet: fleet, reg: reg, keys: keys}
	tw.start(t)
	return tw
}

// start runs a worker of the fleet until stop or the end of the test.
func (tw *testWorker) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: tw.fleet, Kafka: tw.kcfg, Registry: tw.reg, Listener: ln, Keys: tw.keys, StatusInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tw.Worker = w
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	stopped := false
	tw.stop = func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the worker did not stop within 30 s")
		}
	}
	t.Cleanup(tw.stop)
}

// TestRejectedRowsToDeadLetterTopic runs sink "sql" in a worker with
// tolerance = "all": the rows PostgreSQL refuses (a name too long for its
// column) reach the dead-letter topic with the error headers, every other
// row is in the table, and the pipeline keeps running.
func TestRejectedRowsToDeadLetterTopic(t *testing.T) {
	pg := newPostgres(t)
	pg.exec(t, "CREATE TABLE people (id BIGINT PRIMARY KEY, name VARCHAR(8) NOT NULL)")
	t.Setenv("E2E_PG_DSN", pg.dsn)
	fleet := "sqldlq"
	w := runWorker(t, fleet, fmt.Sprintf(`fleet {
  name = %q
}
topic "people" {
  name = "people"
}
source "generator" "people" {
  topic = topic.people.name
  count = 100
  value = "{'id': seq, 'name': seq %% 10 == 3 ? 'a name much too long' : 'p' + string(seq)}"
}
sink "sql" "people" {
  topics = [topic.people.name]
  dsn    = env("E2E_PG_DSN")
  mode   = "upsert"
  primary_key = ["id"]
  errors {
    tolerance         = "all"
    dead_letter_topic = "people.dlq"
  }
}
`, fleet))
	deadline := time.Now().Add(90 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		got = pg.cli(t, "SELECT count(*), count(*) FILTER (WHERE id % 10 = 3) FROM people")
		if cmp.Equal(got, []string{"90|0"}) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !cmp.Equal(got, []string{"90|0"}) {
		t.Fatalf("rows (all, refused ones) = %v, want 90|0", got)
	}
	cl, err := kafka.NewClient(w.kcfg, kgo.ConsumeTopics("people.dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var dead []*kgo.Record
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(dead) < 10 && c.Err() == nil {
		cl.PollFetches(c).EachRecord(func(r *kgo.Record) { dead = append(dead, r) })
	}
	if len(dead) != 10 {
		t.Fatalf("%d records in the dead-letter topic, want 10", len(dead))
	}
	for _, r := range dead {
		h := map[string]string{}
		for _, hd := range r.Headers {
			h[hd.Key] = string(hd.Value)
		}
		if h["pipectl.error.stage"] != "sink" || !strings.Contains(h["pipectl.error.message"], "too long") {
			t.Errorf("dead letter %s: headers %v", r.Value, h)
		}
		if !strings.Contains(string(r.Value), "a name much too long") {
			t.Errorf("dead letter %s is not a refused record", r.Value)
		}
	}
}

// TestSourceRestartThroughWorker stops the worker as soon as records flow
// (usually in the middle of the table), adds rows, and starts another: the
// topic ends with every row once (the offsets were saved after the
// acknowledgements, and the stop was clean).
func TestSourceRestartThroughWorker(t *testing.T) {
	pg := newPostgres(t)
	pg.exec(t, "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, body TEXT)")
	pg.exec(t, "INSERT INTO events (body) SELECT 'e' || i FROM generate_series(1, 20000) AS i")
	t.Setenv("E2E_PG_DSN", pg.dsn)
	fleet := "sqlrestart"
	tw := runWorker(t, fleet, fmt.Sprintf(`fleet {
  name = %q
}
topic "events" {
  name = "db.events"
}
source "sql" "events" {
  dsn                 = env("E2E_PG_DSN")
  table               = "events"
  mode                = "incrementing"
  incrementing_column = "id"
  topic_prefix        = "db."
  batch_size          = 10
  poll_interval       = "100ms"
  key_converter       = "json"
}
`, fleet))
	cl, err := kafka.NewClient(tw.kcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	count := func() int64 {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ends, err := adm.ListEndOffsets(c, "db.events")
		if err != nil {
			return -1
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n
	}
	waitFor := func(what string, ok func(int64) bool) int64 {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			if n := count(); ok(n) {
				return n
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: the topic holds %d records", what, count())
		return 0
	}
	waitFor("some records", func(n int64) bool { return n > 0 })
	tw.stop()
	first := count()
	t.Logf("%d records before the restart", first)
	pg.exec(t, "INSERT INTO events (body) SELECT 'late' || i FROM generate_series(1, 500) AS i")
	tw.start(t)
	waitFor("every row", func(n int64) bool { return n >= 20500 })
	time.Sleep(time.Second) // a duplicate would show up now
	if n := count(); n != 20500 {
		t.Errorf("the topic holds %d records, want 20500 (20000 + 500, each once; %d before the restart)", n, first)
	}
}
