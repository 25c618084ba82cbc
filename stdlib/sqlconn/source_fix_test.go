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

// TestSourceConnectionLostMidCycle: the source's backend is terminated
// while a cycle is being read; the batch the error drops is read again
// from the next Poll (as the engine retries it), so every row arrives.
func TestSourceConnectionLostMidCycle(t *testing.T) {
	d := newPostgres(t)
	// Enough rows that the result cannot sit whole in the client's
	// buffers: the read of some later batch meets the dead connection.
	const n = 300000
	d.exec(t, `CREATE TABLE big (id BIGINT PRIMARY KEY, pad TEXT NOT NULL)`)
	d.exec(t, fmt.Sprintf(`INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, %d) g`, n))
	src := openSource(t, map[string]any{"dsn": d.dsn, "table": "big", "mode": "incrementing", "incrementing_column": "id",
		"batch_size": int64(1000), "poll_interval": "50ms"}, nil, nil)

	seen := make(map[int64]bool, n)
	retried, terminated, empty := 0, false, 0
	deadline := time.Now().Add(5 * time.Minute)
	for len(seen) < n {
		// Five empty polls in a row (about a second each): the table is
		// read to its end.
		if time.Now().After(deadline) || empty >= 5 {
			t.Fatalf("got %d distinct ids of %d after %d retried errors", len(seen), n, retried)
		}
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		recs, err := src.Poll(c)
		cancel()
		if err != nil {
			if !connector.IsRetriable(err) {
				t.Fatalf("Poll: %v (not retriable)", err)
			}
			retried++
			continue // the engine polls the same instance again
		}
		if len(recs) == 0 {
			empty++
		} else {
			empty = 0
		}
		for _, r := range recs {
			seen[r.Value.(map[string]any)["id"].(int64)] = true
		}
		if !terminated && len(seen) > 0 {
			var killed int
			if err := d.db.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, d.schema).Scan(&killed); err != nil {
				t.Fatal(err)
			}
			if killed == 0 {
				t.Fatal("no backend of the source to terminate")
			}
			terminated = true
		}
	}
	if retried == 0 {
		t.Fatal("no Poll met the terminated connection: the test did not test anything")
	}
	for id := int64(1); id <= n; id++ {
		if !seen[id] {
			t.Fatalf("id %d never arrived (%d retried errors)", id, retried)
		}
	}
}

// TestSourceUnsignedIncrementing: a BIGINT UNSIGNED AUTO_INCREMENT column
// (decimal text in records) moves the offset like a signed one; a value
// above the int64 range fails clearly.
func TestSourceUnsignedIncrementing(t *testing.T) {
	d := newMySQL(t)
	d.exec(t, `CREATE TABLE u (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL)`)
	d.exec(t, `INSERT INTO u (name) VALUES ('a'), ('b'), ('c')`)
	cfg := map[string]any{"dsn": d.dsn, "table": "u", "mode": "incrementing", "incrementing_column": "id", "batch_size": int64(2), "poll_interval": "50ms"}
	src := openSource(t, cfg, nil, nil)
	if diff := cmp.Diff([]string{"1", "2", "3"}, values(src.poll(t, 3), "id")); diff != "" {
		t.Fatalf("ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"incrementing": int64(3)}, src.saved[fmt.Sprint(map[string]any{"table": "u"})]); diff != "" {
		t.Fatalf("saved offset (-want +got):\n%s", diff)
	}
	src.quiet(t, 500*time.Millisecond)
	d.exec(t, `INSERT INTO u (name) VALUES ('d')`)
	if diff := cmp.Diff([]string{"4"}, values(src.poll(t, 1), "id")); diff != "" {
		t.Fatalf("ids after an insert (-want +got):\n%s", diff)
	}
	src.Close()

	// A restart resumes after the saved offset.
	src = openSource(t, cfg, nil, src.saved)
	d.exec(t, `INSERT INTO u (name) VALUES ('e')`)
	if diff := cmp.Diff([]string{"5"}, values(src.poll(t, 1), "id")); diff != "" {
		t.Fatalf("ids after a restart (-want +got):\n%s", diff)
	}

	d.exec(t, `INSERT INTO u (id, name) VALUES (9223372036854775808, 'huge')`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("no error for an id above the int64 range")
		}
		recs, err := src.Poll(ctx(t))
		if err != nil {
			if !strings.Contains(err.Error(), "does not fit a 64-bit signed integer") || connector.IsRetriable(err) {
				t.Fatalf("Poll: %v; want a non-retriable error saying the id does not fit", err)
			}
			break
		}
		if len(recs) > 0 {
			t.Fatalf("records %v for an id above the int64 range", values(recs, "id"))
		}
	}
}

// TestSourceModeColumnTypes: an incrementing column that is not an integer
// or a timestamp column that is neither a timestamp nor a date fails Open
// with a clear error, instead of an offset that never moves.
func TestSourceModeColumnTypes(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		d.exec(t, `CREATE TABLE w (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL, amount DECIMAL(8,2) NOT NULL, at VARCHAR(30) NOT NULL, n INT NOT NULL, day DATE NOT NULL)`)
		d.exec(t, `INSERT INTO w VALUES (1, 'a', 1.5, '2026-01-01', 1, '2026-01-01')`)
		for _, c := range []struct {
			cfg  map[string]any
			want string
		}{
			{map[string]any{"mode": "incrementing", "incrementing_column": "code"}, "the incrementing column " + quote(d, "code") + " is of type"},
			{map[string]any{"mode": "incrementing", "incrementing_column": "amount"}, "not an integer"},
			{map[string]any{"mode": "timestamp", "timestamp_column": "at"}, "the timestamp column " + quote(d, "at") + " is of type"},
			{map[string]any{"mode": "timestamp+incrementing", "timestamp_column": "n", "incrementing_column": "id"}, "not a timestamp or a date"},
			{map[string]any{"mode": "incrementing", "incrementing_column": "code", "query": "SELECT code FROM w"}, "not an integer"},
		} {
			c.cfg["dsn"] = d.dsn
			if c.cfg["query"] == nil {
				c.cfg["table"] = "w"
			}
			s := sqlconn.Source().NewSource()
			var exprs map[string]string
			if c.cfg["query"] != nil {
				exprs = map[string]string{"topic": "'t'"}
			}
			err := s.Open(ctx(t), taskContext(t, &sqlconn.SourceSchema, c.cfg, exprs))
			if err == nil {
				s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || connector.IsRetriable(err) {
				t.Errorf("Open %v: %v; want a non-retriable error with %q", c.cfg, err, c.want)
			}
		}
		// A date is a timestamp column; an int an incrementing one.
		src := openSource(t, map[string]any{"dsn": d.dsn, "table": "w", "mode": "timestamp+incrementing", "timestamp_column": "day", "incrementing_column": "n", "poll_interval": "50ms"}, nil, nil)
		if diff := cmp.Diff([]string{"1"}, values(src.poll(t, 1), "id")); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		src.quiet(t, 300*time.Millisecond)
	})
}

func quote(d *testDB, name string) string {
	if d.name == "mysql" {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

// TestSourceBadSavedOffset: a saved offset that cannot be read fails Open
// instead of starting over from the first row.
func TestSourceBadSavedOffset(t *testing.T) {
	d := newPostgres(t)
	itemsTable(t, d)
	for _, c := range []struct {
		cfg   map[string]any
		saved map[string]any
		want  string
	}{
		{map[string]any{"mode": "timestamp", "timestamp_column": "updated"}, map[string]any{"timestamp": "yesterday"}, "is not an RFC 3339 time"},
		{map[string]any{"mode": "timestamp", "timestamp_column": "updated"}, map[string]any{"timestamp": int64(5)}, "is not an RFC 3339 time"},
		{map[string]any{"mode": "incrementing", "incrementing_column": "id"}, map[string]any{"incrementing": "x"}, "is not an integer"},
	} {
		c.cfg["dsn"], c.cfg["table"] = d.dsn, "items"
		tc := taskContext(t, &sqlconn.SourceSchema, c.cfg, nil)
		tc.Offset = func(map[string]any) map[string]any { return c.saved }
		s := sqlconn.Source().NewSource()
		err := s.Open(ctx(t), tc)
		if err == nil {
			s.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open with the saved offset %v: %v; want an error with %q", c.saved, err, c.want)
		}
	}
}
