//go:build long

package postgrescdc

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// task drives one run of the source as the worker does: Poll, then Acked
// with the offsets saved as the worker saves them.
type task struct {
	t     *testing.T
	src   *source
	saved map[string]any // the last saved offset of the slot's partition
}

func openTask(t *testing.T, cfg map[string]any, saved map[string]any) (*task, error) {
	tk := &task{t: t, src: new(source), saved: saved}
	tc := &connector.TaskContext{Pipeline: "source.postgres_cdc.test", Tasks: 1, Config: cfg,
		Offset: func(map[string]any) map[string]any { return tk.saved }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tk.src.Open(ctx, tc); err != nil {
		return nil, err
	}
	t.Cleanup(func() { tk.src.Close() })
	return tk, nil
}

// poll polls until want records that are not skipped came (or fails after
// a minute); with ack it acknowledges every Poll's records.
func (tk *task) poll(want int, ack bool) []connector.Record {
	tk.t.Helper()
	var got []connector.Record
	deadline := time.Now().Add(time.Minute)
	for len(got) < want {
		if time.Now().After(deadline) {
			tk.t.Fatalf("got %d records in a minute, want %d: %v", len(got), want, got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		recs, err := tk.src.Poll(ctx)
		cancel()
		if err != nil {
			tk.t.Fatalf("Poll: %v", err)
		}
		for _, r := range recs {
			if r.Err != nil {
				tk.t.Fatalf("record failed: %v", r.Err)
			}
			if !r.Skip {
				if r.ValueSchema != nil {
					if err := r.ValueSchema.CheckValue(r.Value); err != nil {
						tk.t.Fatalf("value %v does not fit its schema: %v", r.Value, err)
					}
				}
				if r.KeySchema != nil {
					if err := r.KeySchema.CheckValue(r.Key); err != nil {
						tk.t.Fatalf("key %v does not fit its schema: %v", r.Key, err)
					}
				}
				got = append(got, r)
			}
		}
		if ack && len(recs) > 0 {
			for _, r := range recs {
				if r.SourceOffset != nil {
					tk.saved = r.SourceOffset
				}
			}
			tk.src.Acked(recs)
		}
	}
	return got
}

func baseConfig(c *cluster, tables ...string) map[string]any {
	return map[string]any{"dsn": c.dsn("test"), "tables": tables, "slot": "pipectl_test", "heartbeat_interval": "500ms"}
}

// describe writes a record as op:key:after-name, for comparisons.
func describe(r connector.Record) string {
	if r.Value == nil {
		return fmt.Sprintf("tombstone:%v", r.Key.(map[string]any)["id"])
	}
	v := r.Value.(map[string]any)
	s := fmt.Sprintf("%s:%v", v["op"], r.Key.(map[string]any)["id"])
	if a, ok := v["after"].(map[string]any); ok {
		s += fmt.Sprintf(":%v", a["name"])
	}
	return s
}

func TestLongSnapshotThenStream(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test",
		"CREATE TABLE orders (id int PRIMARY KEY, name text, amount numeric(10,2), at timestamptz, day date, tags text[], doc jsonb, uid uuid, raw bytea)",
		"INSERT INTO orders VALUES (1, 'a', 1.50, '2026-01-02 03:04:05.123456+00', '2026-01-02', '{x,y}', '{\"k\": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x0102')",
		"INSERT INTO orders (id, name) VALUES (2, 'b'), (3, 'c')")
	tk, err := openTask(t, baseConfig(c, "public.orders"), nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := tk.poll(3, true)
	var names []string
	for _, r := range snap {
		names = append(names, describe(r))
	}
	if strings.Join(names, " ") != "r:1:a r:2:b r:3:c" {
		t.Fatalf("snapshot = %v", names)
	}
	first := snap[0]
	if first.Topic != "public.orders" {
		t.Errorf("topic = %q", first.Topic)
	}
	after := first.Value.(map[string]any)["after"].(map[string]any)
	if after["amount"] != "1.50" || after["at"].(time.Time).UnixMicro() != time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC).UnixMicro() ||
		after["uid"] != "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" || string(after["raw"].([]byte)) != "\x01\x02" || after["tags"] != "{x,y}" {
		t.Errorf("after = %#v", after)
	}
	if doc, _ := after["doc"].(map[string]any); fmt.Sprint(doc["k"]) != "[1 2]" {
		t.Errorf("doc = %#v", after["doc"])
	}

	c.exec(t, "test",
		"INSERT INTO orders (id, name, at, amount) VALUES (4, 'd', '2026-01-02 03:04:05.5+02', 7.25)",
		"UPDATE orders SET name = 'b2' WHERE id = 2",
		"DELETE FROM orders WHERE id = 3",
		"BEGIN", "UPDATE orders SET name = 'd2' WHERE id = 4", "UPDATE orders SET name = 'd3' WHERE id = 4", "COMMIT",
		"TRUNCATE orders")
	got := tk.poll(7, true)
	var ops []string
	for _, r := range got {
		if v, ok := r.Value.(map[string]any); ok && v["op"] == "t" {
			ops = append(ops, "t")
			continue
		}
		ops = append(ops, describe(r))
	}
	want := "c:4:d u:2:b2 d:3 tombstone:3 u:4:d2 u:4:d3 t"
	if strings.Join(ops, " ") != want {
		t.Fatalf("changes = %v, want %s", ops, want)
	}
	ins := got[0].Value.(map[string]any)["after"].(map[string]any)
	if at, _ := ins["at"].(time.Time); !at.Equal(time.Date(2026, 1, 2, 1, 4, 5, 500000000, time.UTC)) || ins["amount"] != "7.25" {
		t.Errorf("streamed insert = %#v", ins)
	}
	del := got[2].Value.(map[string]any)
	if before, _ := del["before"].(map[string]any); before["id"] != int64(3) {
		t.Errorf("delete before = %#v", del["before"])
	}
	src := got[1].Value.(map[string]any)["source"].(map[string]any)
	if src["schema"] != "public" || src["table"] != "orders" || src["txid"].(int64) == 0 || src["lsn"] == "" {
		t.Errorf("source = %#v", src)
	}
	// What was acknowledged is confirmed to PostgreSQL.
	waitConfirmed(t, c, tk.saved["lsn"].(string))
}

// waitConfirmed waits until the slot's confirmed_flush_lsn reaches lsn.
func waitConfirmed(t *testing.T, c *cluster, lsn string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := pgxConnect(ctx, c.dsn("test"))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		var ok bool
		err = conn.QueryRow(ctx, "SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = 'pipectl_test'", lsn).Scan(&ok)
		conn.Close(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot's confirmed_flush_lsn did not reach %s", lsn)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestLongCrashReplays(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE items (id int PRIMARY KEY, name text)")
	cfg := baseConfig(c, "items")
	cfg["snapshot"] = "never"
	cfg["tables"] = []string{"item*"} // a pattern: public.items
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.exec(t, "test", "INSERT INTO items VALUES (1, 'a')", "INSERT INTO items VALUES (2, 'b')")
	tk.poll(2, true)
	saved := tk.saved
	waitConfirmed(t, c, saved["lsn"].(string))
	// Records polled but never acknowledged: the task dies with them.
	c.exec(t, "test", "INSERT INTO items VALUES (3, 'c')", "UPDATE items SET name = 'a2' WHERE id = 1", "DELETE FROM items WHERE id = 2")
	lost := tk.poll(4, false)
	if len(lost) != 4 {
		t.Fatalf("polled %d", len(lost))
	}
	tk.src.Close()

	tk2, err := openTask(t, cfg, saved)
	if err != nil {
		t.Fatal(err)
	}
	c.exec(t, "test", "INSERT INTO items VALUES (4, 'd')")
	got := tk2.poll(5, true)
	var ops []string
	for _, r := range got {
		ops = append(ops, describe(r))
	}
	want := "c:3:c u:1:a2 d:2 tombstone:2 c:4:d"
	if strings.Join(ops, " ") != want {
		t.Fatalf("after the restart: %v, want %s", ops, want)
	}
}

func TestLongColumnAddedAndToast(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE docs (id int PRIMARY KEY, name text, body text)", "ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL")
	cfg := baseConfig(c, "public.docs")
	cfg["snapshot"] = "never"
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 100000)
	c.exec(t, "test", "INSERT INTO docs VALUES (1, 'a', '"+big+"')")
	got := tk.poll(1, true)
	s1 := got[0].ValueSchema
	if a := got[0].Value.(map[string]any)["after"].(map[string]any); a["body"] != big {
		t.Fatalf("insert body has %d bytes", len(fmt.Sprint(a["body"])))
	}
	// An update that leaves the TOASTed body alone does not carry it.
	c.exec(t, "test", "UPDATE docs SET name = 'a2' WHERE id = 1")
	got = tk.poll(1, true)
	v := got[0].Value.(map[string]any)
	a := v["after"].(map[string]any)
	if _, ok := a["body"]; ok {
		t.Errorf("after holds body %v; want it left out", a["body"])
	}
	if fmt.Sprint(v["unchanged_toast"]) != "[body]" || a["name"] != "a2" {
		t.Errorf("update = %#v", v)
	}
	// A column added mid-stream: the next record's schema has it.
	c.exec(t, "test", "ALTER TABLE docs ADD COLUMN qty int", "INSERT INTO docs (id, name, qty) VALUES (2, 'b', 7)")
	got = tk.poll(1, true)
	a = got[0].Value.(map[string]any)["after"].(map[string]any)
	if a["qty"] != int64(7) {
		t.Errorf("after = %#v", a)
	}
	if got[0].ValueSchema == s1 {
		t.Error("the value schema did not change")
	}
	if f, _ := got[0].ValueSchema.Field("after"); f == nil {
		t.Fatal("no after field")
	} else if q, _ := f.Schema.Field("qty"); q == nil || q.Schema.Type != connector.TypeInt32 {
		t.Errorf("after schema = %v", f.Schema)
	}
}

func TestLongBadInput(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE t1 (id int PRIMARY KEY)", "CREATE ROLE pwuser LOGIN REPLICATION PASSWORD 'right-secret'")
	cfg := baseConfig(c, "public.t1")
	cfg["dsn"] = fmt.Sprintf("postgres://pwuser:wrong-secret@127.0.0.1:%d/test?sslmode=disable", c.port)
	_, err := openTask(t, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("wrong password: %v", err)
	}
	cfg = baseConfig(c, "public.t1", "nomatch_*")
	_, err = openTask(t, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), `the table pattern "nomatch_*" matches no table`) {
		t.Errorf("pattern matching nothing: %v", err)
	}
	cfg = baseConfig(c, "public.t1", "public.nope")
	_, err = openTask(t, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "table public.nope does not exist") {
		t.Errorf("missing table: %v", err)
	}
	// An error from past the connection (here the catalog's, for a table
	// named like the password; trust auth ignores the password) never
	// quotes it either.
	cfg = baseConfig(c, "public.t1", "public.hunter2secret")
	cfg["dsn"] = fmt.Sprintf("postgres://postgres:hunter2secret@127.0.0.1:%d/test?sslmode=disable", c.port)
	_, err = openTask(t, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "hunter2secret") {
		t.Errorf("an error quoting the password: %v", err)
	}
}

// An idle source (its tables do not change while others do) moves the
// slot on with its heartbeats, so that the slot does not hold WAL.
func TestLongHeartbeatAdvancesIdleSlot(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE quiet (id int PRIMARY KEY)", "CREATE TABLE busy (id int PRIMARY KEY, pad text)")
	cfg := baseConfig(c, "public.quiet")
	cfg["snapshot"] = "never"
	cfg["heartbeat_interval"] = "200ms"
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.exec(t, "test", "INSERT INTO busy SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	conn, err := pgxConnect(ctx, c.dsn("test"))
	if err != nil {
		t.Fatal(err)
	}
	var target string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&target); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	cancel()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		recs, err := tk.src.Poll(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !r.Skip {
				t.Fatalf("a record of a table not captured: %v", r)
			}
			tk.saved = r.SourceOffset
		}
		if len(recs) > 0 {
			tk.src.Acked(recs)
		}
		if l, ok := tk.saved["lsn"].(string); ok && lsnAtLeast(t, c, l, target) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the saved position %v did not pass %s in a minute", tk.saved, target)
		}
	}
	waitConfirmed(t, c, target)
}

func lsnAtLeast(t *testing.T, c *cluster, a, b string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgxConnect(ctx, c.dsn("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT $1::pg_lsn >= $2::pg_lsn", a, b).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// A task that stops during the snapshot takes it again from the start
// (the slot's exported snapshot is gone), then streams.
func TestLongSnapshotInterrupted(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE big (id int PRIMARY KEY, name text)", "INSERT INTO big SELECT g, 'n' || g FROM generate_series(1, 2500) g")
	cfg := baseConfig(c, "public.big")
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := tk.poll(1, true)
	if len(first) >= 2500 {
		t.Fatalf("the first Poll returned the whole snapshot (%d records)", len(first))
	}
	if tk.saved["snapshot"] != "running" {
		t.Fatalf("saved offset during the snapshot = %v", tk.saved)
	}
	tk.src.Close()
	c.exec(t, "test", "UPDATE big SET name = 'changed' WHERE id = 1")

	tk2, err := openTask(t, cfg, tk.saved)
	if err != nil {
		t.Fatal(err)
	}
	got := tk2.poll(2500, true)
	seen := map[int64]string{}
	for _, r := range got {
		v := r.Value.(map[string]any)
		if v["op"] != "r" {
			t.Fatalf("op %v during the snapshot", v["op"])
		}
		a := v["after"].(map[string]any)
		seen[a["id"].(int64)] = a["name"].(string)
	}
	if len(seen) != 2500 || seen[1] != "changed" || seen[2500] != "n2500" {
		t.Fatalf("snapshot has %d rows, row 1 %q", len(seen), seen[1])
	}
	c.exec(t, "test", "INSERT INTO big VALUES (2501, 'new')")
	got = tk2.poll(1, true)
	if d := describe(got[0]); d != "c:2501:new" {
		t.Fatalf("after the snapshot: %s", d)
	}
}

// A transaction larger than one Poll: the records of its first Polls carry
// the previous transaction's end, so a task that dies after acknowledging
// part of it replays all of it.
func TestLongCrashInsideTransaction(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE items (id int PRIMARY KEY)")
	cfg := baseConfig(c, "items")
	cfg["snapshot"] = "never"
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.exec(t, "test", "INSERT INTO items SELECT g FROM generate_series(1, 2500) g")
	part := tk.poll(1, true)
	if len(part) >= 2500 {
		t.Fatalf("one Poll returned the whole transaction (%d records)", len(part))
	}
	tk.src.Close()
	tk2, err := openTask(t, cfg, tk.saved)
	if err != nil {
		t.Fatal(err)
	}
	got := tk2.poll(2500, true)
	seen := map[int64]bool{}
	for _, r := range got {
		seen[r.Key.(map[string]any)["id"].(int64)] = true
	}
	if len(seen) != 2500 {
		t.Fatalf("after the restart %d of 2500 rows", len(seen))
	}
}

// A row that cannot be converted (NaN in a numeric(10,2), which a decimal
// cannot hold) is a failed record naming the table and column, followed by
// the next change: never skipped in silence.
func TestLongUnconvertibleRow(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE prices (id int PRIMARY KEY, amount numeric(10,2))")
	cfg := baseConfig(c, "prices")
	cfg["snapshot"] = "never"
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.exec(t, "test", "INSERT INTO prices VALUES (1, 'NaN')", "INSERT INTO prices VALUES (2, 3.5)")
	var got []connector.Record
	deadline := time.Now().Add(time.Minute)
	for len(got) < 2 && time.Now().Before(deadline) {
		recs, err := tk.src.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, recs...)
		if len(recs) > 0 {
			tk.src.Acked(recs)
		}
	}
	if len(got) < 2 {
		t.Fatalf("got %d records", len(got))
	}
	if got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "public.prices") || !strings.Contains(got[0].Err.Error(), "column amount") {
		t.Errorf("first record: err %v", got[0].Err)
	}
	if v, _ := got[0].Value.(string); !strings.Contains(v, `amount="NaN"`) {
		t.Errorf("failed record's value = %q", got[0].Value)
	}
	if got[1].Err != nil || describe(got[1]) != "c:2:<nil>" {
		t.Errorf("second record: %v %v", got[1].Err, got[1].Value)
	}
}

// A slot dropped while the pipeline was stopped fails the next start with
// a clear error instead of streaming from a new slot past a gap.
func TestLongDroppedSlot(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE items (id int PRIMARY KEY)")
	cfg := baseConfig(c, "items")
	cfg["snapshot"] = "never"
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.exec(t, "test", "INSERT INTO items VALUES (1)")
	tk.poll(1, true)
	tk.src.Close()
	// The walsender may take a moment to go after Close: retry the drop.
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := pgxConnect(ctx, c.dsn("test"))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, "SELECT pg_drop_replication_slot('pipectl_test')")
		conn.Close(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drop the slot: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.exec(t, "test", "INSERT INTO items VALUES (2)")
	_, err = openTask(t, cfg, tk.saved)
	if err == nil || !strings.Contains(err.Error(), "replication slot pipectl_test does not exist") || !strings.Contains(err.Error(), "reset its offsets") {
		t.Fatalf("Open after the slot was dropped: %v", err)
	}
}

// snapshot = "initial_only" reads the rows once, with no slot, and is
// finished (io.EOF); a restart after it reads nothing.
func TestLongSnapshotOnly(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test", "CREATE TABLE items (id int PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 1500) g")
	cfg := baseConfig(c, "items")
	cfg["snapshot"] = "initial_only"
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for {
		recs, err := tk.src.Poll(context.Background())
		for _, r := range recs {
			if r.SourceOffset != nil {
				tk.saved = r.SourceOffset
			}
			if !r.Skip {
				rows++
			}
		}
		if len(recs) > 0 {
			tk.src.Acked(recs)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if rows != 1500 || tk.saved["snapshot"] != "done" {
		t.Fatalf("%d rows, saved %v", rows, tk.saved)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgxConnect(ctx, c.dsn("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var slots int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots").Scan(&slots); err != nil || slots != 0 {
		t.Errorf("%d slots (%v), want none", slots, err)
	}
	tk2, err := openTask(t, cfg, tk.saved)
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := tk2.src.Poll(context.Background()); err != io.EOF || len(recs) != 0 {
		t.Errorf("after a finished snapshot: %d records, %v", len(recs), err)
	}
}

// A publication with more tables than tables names (the user's own, FOR
// ALL TABLES, or a table dropped from tables): only the named tables'
// changes arrive, and the position still moves past the others'.
func TestLongPublicationExtraTable(t *testing.T) {
	c := startCluster(t)
	c.exec(t, "test",
		"CREATE TABLE wanted (id int PRIMARY KEY, name text)",
		"CREATE TABLE extra (id int PRIMARY KEY, name text)",
		"CREATE PUBLICATION mine FOR TABLE wanted, extra")
	cfg := baseConfig(c, "public.wanted")
	cfg["snapshot"] = "never"
	cfg["publication"] = "mine"
	tk, err := openTask(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.exec(t, "test",
		"INSERT INTO extra VALUES (1, 'x1')",
		"INSERT INTO wanted VALUES (1, 'w1')",
		"BEGIN", "INSERT INTO extra VALUES (2, 'x2')", "INSERT INTO wanted VALUES (2, 'w2')", "UPDATE extra SET name = 'x3'", "COMMIT",
		"DELETE FROM extra WHERE id = 1",
		"TRUNCATE wanted, extra")
	got := tk.poll(3, true)
	var ops []string
	for _, r := range got {
		if r.Topic != "public.wanted" {
			t.Errorf("a record on topic %q: %v", r.Topic, r.Value)
		}
		if v, ok := r.Value.(map[string]any); ok && v["op"] == "t" {
			ops = append(ops, "t:"+v["source"].(map[string]any)["table"].(string))
			continue
		}
		ops = append(ops, describe(r))
	}
	if want := "c:1:w1 c:2:w2 t:wanted"; strings.Join(ops, " ") != want {
		t.Fatalf("changes = %v, want %s", ops, want)
	}

	// Transactions of the extra table only: nothing arrives, but the saved
	// position and the slot's confirmed LSN move past them.
	c.exec(t, "test", "INSERT INTO extra SELECT g, 'x' FROM generate_series(10, 500) g", "UPDATE extra SET name = 'y'", "DELETE FROM extra")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	conn, err := pgxConnect(ctx, c.dsn("test"))
	if err != nil {
		t.Fatal(err)
	}
	var target string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&target); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	cancel()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		recs, err := tk.src.Poll(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !r.Skip {
				t.Fatalf("a record of the extra table: %v", r)
			}
			tk.saved = r.SourceOffset
		}
		if len(recs) > 0 {
			tk.src.Acked(recs)
		}
		if l, ok := tk.saved["lsn"].(string); ok && lsnAtLeast(t, c, l, target) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the saved position %v did not pass %s in a minute", tk.saved, target)
		}
	}
	waitConfirmed(t, c, target)

	// The wanted table still streams after them.
	c.exec(t, "test", "INSERT INTO wanted VALUES (3, 'w3')")
	if got := tk.poll(1, true); describe(got[0]) != "c:3:w3" {
		t.Fatalf("after the extra table's changes: %v", describe(got[0]))
	}
}
