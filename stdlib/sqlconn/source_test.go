package sqlconn_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/sqlconn"
)

type openedSource struct {
	connector.Source
	saved map[string]map[string]any // the last offset of each source partition, as the worker saves them
}

// openSource opens a source "sql" task; saved holds the offsets a previous
// run left (by the table's name).
func openSource(t *testing.T, config map[string]any, exprs map[string]string, saved map[string]map[string]any) *openedSource {
	t.Helper()
	tc := taskContext(t, &sqlconn.SourceSchema, config, exprs)
	if saved == nil {
		saved = map[string]map[string]any{}
	}
	tc.Offset = func(p map[string]any) map[string]any { return saved[fmt.Sprint(p)] }
	s := sqlconn.Source().NewSource()
	if err := s.Open(ctx(t), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &openedSource{Source: s, saved: saved}
}

// poll polls until n records came (or fails after a generous deadline),
// saving offsets as the worker does once records are acknowledged.
func (s *openedSource) poll(t *testing.T, n int) []connector.Record {
	t.Helper()
	var out []connector.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(out) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d", len(out), n)
		}
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		recs, err := s.Poll(c)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.SourceOffset != nil {
				s.saved[fmt.Sprint(r.SourcePartition)] = r.SourceOffset
			}
		}
		out = append(out, recs...)
	}
	return out
}

// quiet polls for a while and fails on any record.
func (s *openedSource) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		recs, err := s.Poll(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 0 {
			t.Fatalf("unexpected records: %v", values(recs, "id"))
		}
	}
}

func values(recs []connector.Record, col string) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = fmt.Sprint(r.Value.(map[string]any)[col])
	}
	return out
}

func itemsTable(t *testing.T, d *testDB) {
	if d.name == "postgres" {
		d.exec(t, `CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(8,2), doc JSONB, data BYTEA, day DATE,
			updated TIMESTAMP NOT NULL DEFAULT '2026-01-01 00:00:00')`)
	} else {
		d.exec(t, `CREATE TABLE items (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, price DECIMAL(8,2), doc JSON, data BLOB, day DATE,
			updated DATETIME(6) NOT NULL DEFAULT '2026-01-01 00:00:00')`)
	}
}

func TestSourceIncrementingResumes(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		itemsTable(t, d)
		for i := 1; i <= 5; i++ {
			d.exec(t, fmt.Sprintf(`INSERT INTO items (name, price, doc, data, day) VALUES ('n%d', %d.25, '{"a": %d}', 'xy', '2026-02-0%d')`, i, i, i, i))
		}
		cfg := map[string]any{"dsn": d.dsn, "table": "items", "mode": "incrementing", "incrementing_column": "id", "batch_size": int64(2), "poll_interval": "50ms", "topic_prefix": "db."}
		src := openSource(t, cfg, nil, nil)
		recs := src.poll(t, 5)
		if diff := cmp.Diff([]string{"1", "2", "3", "4", "5"}, values(recs, "id")); diff != "" {
			t.Fatalf("ids (-want +got):\n%s", diff)
		}
		r := recs[2]
		if r.Topic != "db.items" {
			t.Errorf("topic %q, want db.items", r.Topic)
		}
		if diff := cmp.Diff(map[string]any{"id": int64(3)}, r.Key); diff != "" {
			t.Errorf("key (-want +got):\n%s", diff)
		}
		want := map[string]any{"id": int64(3), "name": "n3", "price": "3.25", "doc": map[string]any{"a": int64(3)}, "data": []byte("xy"),
			"day": time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), "updated": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		if diff := cmp.Diff(want, r.Value); diff != "" {
			t.Errorf("value (-want +got):\n%s", diff)
		}
		if err := r.ValueSchema.CheckValue(r.Value); err != nil {
			t.Errorf("the value does not fit its schema: %v\n%s", err, r.ValueSchema)
		}
		if err := r.KeySchema.CheckValue(r.Key); err != nil {
			t.Errorf("the key does not fit its schema: %v", err)
		}
		price, _ := r.ValueSchema.Field("price")
		if price == nil || price.Schema.Logical != connector.LogicalDecimal || price.Schema.Precision != 8 || price.Schema.Scale != 2 {
			t.Errorf("price schema %+v, want decimal(8,2)", price)
		}
		if recs[0].ValueSchema != recs[4].ValueSchema {
			t.Error("records of one table should share one *Schema")
		}
		src.quiet(t, 300*time.Millisecond)
		src.Close()

		// A restart from the saved offset: only the rows added since.
		d.exec(t, `INSERT INTO items (name) VALUES ('n6'), ('n7')`)
		again := openSource(t, cfg, nil, src.saved)
		recs = again.poll(t, 2)
		if diff := cmp.Diff([]string{"6", "7"}, values(recs, "id")); diff != "" {
			t.Fatalf("ids after the restart (-want +got):\n%s", diff)
		}
		again.quiet(t, 300*time.Millisecond)
	})
}

// TestSourceTimestampIncrementing restarts in the middle of rows that
// share a timestamp: the rest come, once each.
func TestSourceTimestampIncrementing(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		itemsTable(t, d)
		for i := 1; i <= 6; i++ {
			ts := "2026-03-01 10:00:00"
			if i > 4 {
				ts = "2026-03-01 11:00:00"
			}
			d.exec(t, fmt.Sprintf(`INSERT INTO items (name, updated) VALUES ('n%d', '%s')`, i, ts))
		}
		cfg := map[string]any{"dsn": d.dsn, "table": "items", "mode": "timestamp+incrementing", "incrementing_column": "id", "timestamp_column": "updated",
			"batch_size": int64(3), "poll_interval": "50ms"}
		src := openSource(t, cfg, map[string]string{"topic": "'t_' + table"}, nil)
		first := src.poll(t, 3)
		if diff := cmp.Diff([]string{"1", "2", "3"}, values(first, "id")); diff != "" {
			t.Fatalf("first batch (-want +got):\n%s", diff)
		}
		if first[0].Topic != "t_items" {
			t.Errorf("topic %q, want t_items", first[0].Topic)
		}
		src.Close()
		// An update moves a row to a later timestamp: it comes again.
		d.exec(t, `UPDATE items SET name = 'n2b', updated = '2026-03-02 00:00:00' WHERE id = 2`)
		again := openSource(t, cfg, map[string]string{"topic": "'t_' + table"}, src.saved)
		rest := again.poll(t, 4)
		if diff := cmp.Diff([]string{"4", "5", "6", "2"}, values(rest, "id")); diff != "" {
			t.Fatalf("after the restart (-want +got):\n%s", diff)
		}
		if rest[3].Value.(map[string]any)["name"] != "n2b" {
			t.Errorf("the updated row came as %v", rest[3].Value)
		}
		again.quiet(t, 300*time.Millisecond)
	})
}

// TestSourceTimestampDelay: a row newer than the database's clock minus
// timestamp_delay waits; rows of one timestamp are never split across
// batches in timestamp mode.
func TestSourceTimestampDelay(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		itemsTable(t, d)
		for i := 1; i <= 3; i++ {
			d.exec(t, fmt.Sprintf(`INSERT INTO items (name, updated) VALUES ('old%d', '2026-01-05 00:00:00')`, i))
		}
		now := "now()"
		if d.name == "mysql" {
			now = "UTC_TIMESTAMP(6)"
		}
		d.exec(t, `INSERT INTO items (name, updated) VALUES ('fresh', `+now+`)`)
		cfg := map[string]any{"dsn": d.dsn, "table": "items", "mode": "timestamp", "timestamp_column": "updated", "timestamp_delay": "1h",
			"batch_size": int64(2), "poll_interval": "50ms"}
		src := openSource(t, cfg, nil, nil)
		recs, err := src.Poll(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"old1", "old2", "old3"}, values(recs, "name")); diff != "" {
			t.Errorf("one batch, grown past batch_size through equal timestamps (-want +got):\n%s", diff)
		}
		src.quiet(t, 300*time.Millisecond)
	})
}

func TestSourceBulk(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		itemsTable(t, d)
		d.exec(t, `INSERT INTO items (name) VALUES ('a'), ('b')`)
		src := openSource(t, map[string]any{"dsn": d.dsn, "table": "items", "mode": "bulk", "poll_interval": "50ms"}, nil, nil)
		recs := src.poll(t, 4)
		if diff := cmp.Diff([]string{"a", "b", "a", "b"}, values(recs[:4], "name")); diff != "" {
			t.Errorf("two cycles of the whole table (-want +got):\n%s", diff)
		}
	})
}

func TestSourceQueryAndErrors(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		itemsTable(t, d)
		d.exec(t, `INSERT INTO items (name, price) VALUES ('a', 1), ('b', 50), ('c', 99)`)
		src := openSource(t, map[string]any{"dsn": d.dsn, "query": "SELECT id, name FROM items WHERE price > 10", "mode": "incrementing",
			"incrementing_column": "id", "key_columns": []string{"id"}, "poll_interval": "50ms"}, map[string]string{"topic": "'expensive'"}, nil)
		recs := src.poll(t, 2)
		if diff := cmp.Diff([]string{"b", "c"}, values(recs, "name")); diff != "" {
			t.Errorf("query rows (-want +got):\n%s", diff)
		}

		s := sqlconn.Source().NewSource()
		err := s.Open(ctx(t), taskContext(t, &sqlconn.SourceSchema, map[string]any{"dsn": d.dsn, "table": "missing", "mode": "bulk"}, nil))
		if err == nil || !strings.Contains(err.Error(), "does not exist") || connector.IsRetriable(err) {
			t.Errorf("Open on a missing table: %v; want a clear, non-retriable error", err)
		}
		s = sqlconn.Source().NewSource()
		err = s.Open(ctx(t), taskContext(t, &sqlconn.SourceSchema, map[string]any{"dsn": d.dsn, "table": "items", "mode": "incrementing", "incrementing_column": "nope"}, nil))
		if err == nil || !strings.Contains(err.Error(), "no column") {
			t.Errorf("Open with a missing column: %v", err)
		}
	})
}

// TestSourceTablesOverTasks: tables are spread over the tasks, each
// table read by exactly one.
func TestSourceTablesOverTasks(t *testing.T) {
	d := newPostgres(t)
	for _, name := range []string{"a", "b", "c"} {
		d.exec(t, "CREATE TABLE "+name+" (id INT PRIMARY KEY)")
		d.exec(t, "INSERT INTO "+name+" VALUES (1), (2)")
	}
	topics := map[string]int{}
	for task := range 2 {
		tc := taskContext(t, &sqlconn.SourceSchema, map[string]any{"dsn": d.dsn, "tables": []string{"a", "b", "c"}, "mode": "incrementing", "incrementing_column": "id", "poll_interval": "50ms"}, nil)
		tc.Task, tc.Tasks = task, 2
		s := sqlconn.Source().NewSource()
		if err := s.Open(ctx(t), tc); err != nil {
			t.Fatal(err)
		}
		src := &openedSource{Source: s, saved: map[string]map[string]any{}}
		want := 4 - 2*task // task 0: a and c; task 1: b
		for _, r := range src.poll(t, want) {
			topics[r.Topic]++
		}
		for _, n := range s.(connector.TopicsNeeder).TopicsNeeded() {
			if n.Partitions != 1 {
				t.Errorf("topic %s asked with %d partitions", n.Name, n.Partitions)
			}
		}
		s.Close()
	}
	if diff := cmp.Diff(map[string]int{"a": 2, "b": 2, "c": 2}, topics); diff != "" {
		t.Errorf("records per topic (-want +got):\n%s", diff)
	}
}
