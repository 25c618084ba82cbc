package sqlconn_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/sqlconn"
)

func rec(topic string, key, value any) connector.Record {
	return connector.Record{Topic: topic, Key: key, Value: value}
}

// failedIndexes returns the indexes of the records a Write error reports
// as failed on their own (connector.RecordFailed); ok is false when some
// part of err is not such a failure.
func failedIndexes(err error) (idx []int, ok bool) {
	if err == nil {
		return nil, true
	}
	var parts []error
	if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
		parts = j.Unwrap()
	} else {
		parts = []error{err}
	}
	for _, p := range parts {
		f, is := p.(interface{ FailedRecord() int })
		if !is {
			return nil, false
		}
		idx = append(idx, f.FailedRecord())
	}
	slices.Sort(idx)
	return idx, true
}

func TestSinkUpsertDelete(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		d.exec(t, "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(50), amount NUMERIC(10,2))")
		s := openSink(t, map[string]any{"dsn": d.dsn, "mode": "upsert", "primary_key": []string{"id"}, "delete_enabled": true}, nil)
		recs := []connector.Record{
			rec("orders", map[string]any{"id": int64(1)}, map[string]any{"id": int64(1), "name": "ann", "amount": "1.50"}),
			rec("orders", map[string]any{"id": int64(2)}, map[string]any{"id": int64(2), "name": "bob", "amount": "2.00"}),
			rec("orders", map[string]any{"id": int64(3)}, map[string]any{"id": int64(3), "name": "cy", "amount": "3.25"}),
			// The key alone gives the primary key when the value lacks it.
			rec("orders", int64(2), map[string]any{"name": "bob2", "amount": "20.00"}),
			rec("orders", map[string]any{"id": int64(3)}, nil),
		}
		if err := s.Write(ctx(t), recs); err != nil {
			t.Fatal(err)
		}
		if got := d.cli(t, "SELECT count(*) FROM orders"); !cmp.Equal(got, []string{"0"}) {
			t.Fatalf("before Flush another session sees %v rows, want 0: nothing is committed before Flush", got)
		}
		if err := s.Flush(ctx(t)); err != nil {
			t.Fatal(err)
		}
		want := []string{"1|ann|1.50", "2|bob2|20.00"}
		if diff := cmp.Diff(want, d.cli(t, "SELECT id, name, amount FROM orders ORDER BY id")); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		// JSON text values (the json converter's json.RawMessage) and
		// upserts of rows already there.
		if err := s.Write(ctx(t), []connector.Record{{Topic: "orders", Value: jsonRaw(`{"id": 1, "name": "ann2", "amount": 9.5}`)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx(t)); err != nil {
			t.Fatal(err)
		}
		want = []string{"1|ann2|9.50", "2|bob2|20.00"}
		if diff := cmp.Diff(want, d.cli(t, "SELECT id, name, amount FROM orders ORDER BY id")); diff != "" {
			t.Errorf("rows after the second flush (-want +got):\n%s", diff)
		}
	})
}

func TestSinkInsertRejectedRows(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		d.exec(t, "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL)")
		s := openSink(t, map[string]any{"dsn": d.dsn}, map[string]string{"table": "'people'"})
		recs := []connector.Record{
			rec("x", nil, map[string]any{"id": int64(1), "name": "ann"}),
			rec("x", nil, map[string]any{"id": int64(2), "name": "much too long"}),
			rec("x", nil, map[string]any{"id": int64(3), "name": "cy"}),
			rec("x", nil, map[string]any{"id": int64(1), "name": "dup"}),
			rec("x", nil, map[string]any{"id": int64(4), "name": nil}),
			rec("x", nil, "not a map"),
			rec("x", nil, map[string]any{"id": int64(5), "name": "eve"}),
		}
		err := s.Write(ctx(t), recs)
		idx, ok := failedIndexes(err)
		if !ok || !cmp.Equal(idx, []int{1, 3, 4, 5}) {
			t.Fatalf("Write: failed records %v (per-record: %v), want [1 3 4 5]; error: %v", idx, ok, err)
		}
		if err := s.Flush(ctx(t)); err != nil {
			t.Fatal(err)
		}
		want := []string{"1|ann", "3|cy", "5|eve"}
		if diff := cmp.Diff(want, d.cli(t, "SELECT id, name FROM people ORDER BY id")); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

// TestSinkFlushFailureCommitsNothing kills the sink's connection before
// Flush: the commit fails, another session sees none of the rows; the
// next Flush (the engine retries it) writes them all on a new connection.
func TestSinkFlushFailureCommitsNothing(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		d.exec(t, "CREATE TABLE events (id INT PRIMARY KEY, body VARCHAR(20))")
		s := openSink(t, map[string]any{"dsn": d.dsn, "mode": "upsert", "primary_key": []string{"id"}}, map[string]string{"table": "'events'"})
		var recs []connector.Record
		for i := range 50 {
			recs = append(recs, rec("events", nil, map[string]any{"id": int64(i), "body": "e"}))
		}
		if err := s.Write(ctx(t), recs); err != nil {
			t.Fatal(err)
		}
		killed := 0
		if d.name == "postgres" {
			row := d.db.QueryRow("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", d.schema)
			if err := row.Scan(&killed); err != nil {
				t.Fatal(err)
			}
		} else {
			rows, err := d.db.Query("SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", d.schema)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for rows.Next() {
				var id int64
				_ = rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			for _, id := range ids {
				d.exec(t, "KILL ?", id)
				killed++
			}
		}
		if killed == 0 {
			t.Fatal("found no connection of the sink to kill")
		}
		err := s.Flush(ctx(t))
		if err == nil {
			t.Fatal("Flush succeeded on a killed connection")
		}
		if !connector.IsRetriable(err) {
			t.Errorf("a lost connection should be retriable: %v", err)
		}
		if got := d.cli(t, "SELECT count(*) FROM events"); !cmp.Equal(got, []string{"0"}) {
			t.Fatalf("after the failed Flush the table holds %v rows, want 0", got)
		}
		if err := s.Flush(ctx(t)); err != nil {
			t.Fatalf("Flush retried: %v", err)
		}
		if got := d.cli(t, "SELECT count(*) FROM events"); !cmp.Equal(got, []string{"50"}) {
			t.Fatalf("after the retried Flush the table holds %v rows, want 50", got)
		}
	})
}

func TestSinkAutoCreateEvolve(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		s := openSink(t, map[string]any{"dsn": d.dsn, "mode": "upsert", "primary_key": []string{"id"}, "auto_create": true, "auto_evolve": true},
			map[string]string{"table": "'shop.' + value.kind"})
		sch := &connector.Schema{Type: connector.TypeStruct, Fields: []connector.Field{
			{Name: "id", Schema: &connector.Schema{Type: connector.TypeInt64}},
			{Name: "kind", Schema: &connector.Schema{Type: connector.TypeString}},
			{Name: "amount", Schema: &connector.Schema{Type: connector.TypeBytes, Logical: connector.LogicalDecimal, Precision: 10, Scale: 2, Optional: true}},
			{Name: "at", Schema: &connector.Schema{Type: connector.TypeInt64, Logical: connector.LogicalTimestampMicros, Optional: true}},
			{Name: "day", Schema: &connector.Schema{Type: connector.TypeInt32, Logical: connector.LogicalDate, Optional: true}},
		}}
		at := time.Date(2026, 12, 3, 10, 11, 12, 345678000, time.UTC)
		r := connector.Record{Topic: "t", ValueSchema: sch, Value: map[string]any{"id": int64(1), "kind": "orders", "amount": "12.34", "at": at, "day": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}}
		// Schemaless, with a field the table does not have yet.
		r2 := rec("t", nil, map[string]any{"id": int64(2), "kind": "orders", "note": "hello", "tags": []any{"a", "b"}})
		if err := s.Write(ctx(t), []connector.Record{r, r2}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx(t)); err != nil {
			t.Fatal(err)
		}
		q := `SELECT id, kind, amount, day, note FROM "shop.orders" ORDER BY id`
		if d.name == "mysql" {
			q = strings.ReplaceAll(q, `"`, "`")
		}
		want := []string{"1|orders|12.34|2026-01-02|NULL", "2|orders|NULL|NULL|hello"}
		got := d.cli(t, q)
		if d.name == "postgres" { // psql prints NULL as nothing
			for i := range got {
				got[i] = strings.ReplaceAll(strings.ReplaceAll(got[i], "||", "|NULL|"), "||", "|NULL|")
				if strings.HasSuffix(got[i], "|") {
					got[i] += "NULL"
				}
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		var back time.Time
		if err := d.db.QueryRow(strings.Replace(q, "id, kind, amount, day, note", "at", 1)).Scan(&back); err != nil {
			t.Fatal(err)
		}
		if !back.Equal(at) {
			t.Errorf("timestamp read back %v, want %v", back, at)
		}
		var pk int
		kq := "SELECT count(*) FROM information_schema.table_constraints WHERE constraint_type = 'PRIMARY KEY' AND table_name = 'shop.orders' AND table_schema = '" + d.schema + "'"
		if err := d.db.QueryRow(kq).Scan(&pk); err != nil || pk != 1 {
			t.Errorf("the created table has %d primary keys (%v), want 1", pk, err)
		}
	})
}

func TestSinkMissingTable(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		s := openSink(t, map[string]any{"dsn": d.dsn}, nil)
		err := s.Write(ctx(t), []connector.Record{rec("nowhere", nil, map[string]any{"id": int64(1)})})
		if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "auto_create") {
			t.Fatalf("Write to a missing table: %v; want an error naming the table and auto_create", err)
		}
		if _, perRecord := failedIndexes(err); perRecord {
			t.Error("a missing table should fail the batch, not one record")
		}
		d.exec(t, "CREATE TABLE nowhere (id INT)")
		err = s.Write(ctx(t), []connector.Record{rec("nowhere", nil, map[string]any{"id": int64(1), "extra": "x"})})
		if err == nil || !strings.Contains(err.Error(), "extra") || !strings.Contains(err.Error(), "auto_evolve") {
			t.Fatalf("Write of an unknown column: %v; want an error naming the column and auto_evolve", err)
		}
	})
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	newPostgres(t) // skips when the servers are down
	for _, dsn := range []string{
		"mysql://root:hunter2-secret@127.0.0.1:3306/test",
		"postgres://nobody:hunter2-secret@127.0.0.1:5432/test?sslmode=disable",
		"postgres://postgres:hunter2-secret@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
	} {
		s := sqlconn.Sink().NewSink()
		err := s.Open(ctx(t), taskContext(t, &sqlconn.SinkSchema, map[string]any{"dsn": dsn}, nil))
		if err == nil {
			s.Close()
			t.Errorf("Open with a wrong login succeeded")
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error quotes the password: %v", err)
		}
		refused := strings.Contains(dsn, ":1/")
		if connector.IsRetriable(err) != refused {
			t.Errorf("%v: retriable = %v, want %v (a server that is down is retried, a refused login is not)", err, connector.IsRetriable(err), refused)
		}
	}
}

func jsonRaw(s string) any { return json.RawMessage(s) }

// TestSinkUpsertSameKeyInBatch: rows of one shape go in multi-row
// statements, cut where a key comes again, so the last record of a key
// wins.
func TestSinkUpsertSameKeyInBatch(t *testing.T) {
	both(t, func(t *testing.T, d *testDB) {
		d.exec(t, "CREATE TABLE counters (id INT PRIMARY KEY, n INT)")
		s := openSink(t, map[string]any{"dsn": d.dsn, "mode": "upsert", "primary_key": []string{"id"}}, map[string]string{"table": "'counters'"})
		var recs []connector.Record
		for i := range 2500 {
			recs = append(recs, rec("x", nil, map[string]any{"id": int64(i % 7), "n": int64(i)}))
		}
		if err := s.Write(ctx(t), recs); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx(t)); err != nil {
			t.Fatal(err)
		}
		want := []string{"0|2499", "1|2493", "2|2494", "3|2495", "4|2496", "5|2497", "6|2498"}
		if diff := cmp.Diff(want, d.cli(t, "SELECT id, n FROM counters ORDER BY id")); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

// TestSinkUpsertEqualKeysOfOtherTypes: keys the database holds equal (an
// integer and a whole float, one instant in two zones) are one key to the
// batching too, so one upsert statement never updates a row twice
// (PostgreSQL refuses that, failing the batch).
func TestSinkUpsertEqualKeysOfOtherTypes(t *testing.T) {
	d := newPostgres(t)
	d.exec(t, "CREATE TABLE k (id INT, at TIMESTAMPTZ, n INT, PRIMARY KEY (id, at))")
	s := openSink(t, map[string]any{"dsn": d.dsn, "mode": "upsert", "primary_key": []string{"id", "at"}}, map[string]string{"table": "'k'"})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	recs := []connector.Record{
		rec("x", nil, map[string]any{"id": int64(1), "at": at, "n": int64(1)}),
		rec("x", nil, map[string]any{"id": float64(1), "at": at.In(time.FixedZone("X", 3600)), "n": int64(2)}),
	}
	if err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1|2"}, d.cli(t, "SELECT id, n FROM k")); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
