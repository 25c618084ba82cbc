//go:build long

package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// startPostgres starts a private PostgreSQL cluster with wal_level =
// logical (initdb and pg_ctl, as the postgres user when the test runs as
// root) and returns the DSN of its database test; it stops at the end.
func startPostgres(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("pg_config", "--bindir").Output()
	if err != nil {
		t.Skip("pg_config is not on PATH: install PostgreSQL's server packages (postgresql) to run the postgres_cdc tests")
	}
	bindir := strings.TrimSpace(string(out))
	if _, err := os.Stat(filepath.Join(bindir, "initdb")); err != nil {
		t.Skipf("%s/initdb is missing: install PostgreSQL's server package", bindir)
	}
	run := func(bin string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bindir, bin), args...)
		if os.Geteuid() == 0 {
			cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bindir, bin)}, args...)...)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", bin, err, out)
		}
	}
	dir, err := os.MkdirTemp("", "pgcdc-worker-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("no postgres user to run initdb as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
	hba := "local all all trust\nlocal replication all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := fmt.Sprintf("-c port=%d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c wal_level=logical -c max_wal_senders=4 -c max_replication_slots=4 -c fsync=off", port, dir)
	run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "120", "-o", opts, "start")
	t.Cleanup(func() { run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop") })
	pgExec(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), "CREATE DATABASE test")
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable", port)
}

func pgExec(t *testing.T, dsn string, sqls ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestLongPostgresCDCToKafka runs source postgres_cdc on a worker: the
// snapshot and the changes made with SQL land in Kafka as JSON, and after
// the worker stops and starts again every change is there.
func TestLongPostgresCDCToKafka(t *testing.T) {
	dsn := startPostgres(t)
	pgExec(t, dsn, "CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2))",
		"INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 50) g")
	f := newFixture(t, "cdc")
	// No topic block: the source asks the worker for its topic.
	f.apply(fmt.Sprintf(`
source "postgres_cdc" "shop" {
  dsn                = %q
  tables             = ["public.orders"]
  topic              = "'cdc.' + table"
  slot               = "pipectl_shop"
  heartbeat_interval = "500ms"
  key_converter      = "json"
}
`, dsn))
	// changes reads the topic: the last value of each id, and how many
	// records (tombstones too) there are.
	changes := func() (map[float64]map[string]any, int, error) {
		cl, err := kafka.NewClient(f.kcfg)
		if err != nil {
			return nil, 0, err
		}
		defer cl.Close()
		ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), "cdc.orders")
		if err != nil {
			return nil, 0, err
		}
		parts := map[int32]kgo.Offset{}
		remaining := 0
		ends.Each(func(o kadm.ListedOffset) {
			parts[o.Partition] = kgo.NewOffset().AtStart()
			remaining += int(o.Offset)
		})
		c, err := kafka.NewClient(f.kcfg, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"cdc.orders": parts}))
		if err != nil {
			return nil, 0, err
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		last := map[float64]map[string]any{}
		n := 0
		for n < remaining && ctx.Err() == nil {
			var perr error
			c.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				n++
				var key map[string]any
				if err := json.Unmarshal(r.Key, &key); err != nil {
					perr = fmt.Errorf("key %q: %v", r.Key, err)
					return
				}
				id, _ := key["id"].(float64)
				if r.Value == nil {
					last[id] = nil
					return
				}
				var v map[string]any
				if err := json.Unmarshal(r.Value, &v); err != nil {
					perr = fmt.Errorf("value %q: %v", r.Value, err)
					return
				}
				last[id] = v
			})
			if perr != nil {
				return nil, 0, perr
			}
		}
		return last, n, nil
	}
	_, stop := f.startWorker()
	eventually(t, 90*time.Second, "the 50 snapshot rows in Kafka", func() (bool, string) {
		last, _, err := changes()
		return err == nil && len(last) == 50, fmt.Sprint(len(last), err)
	})
	pgExec(t, dsn, "INSERT INTO orders SELECT g, g FROM generate_series(51, 80) g",
		"UPDATE orders SET amount = 0 WHERE id <= 10", "DELETE FROM orders WHERE id = 80")
	eventually(t, 60*time.Second, "the changes in Kafka", func() (bool, string) {
		last, _, err := changes()
		return err == nil && len(last) == 80 && last[80] == nil && last[1] != nil && last[1]["op"] == "u", fmt.Sprint(len(last), err)
	})
	stop()
	pgExec(t, dsn, "INSERT INTO orders SELECT g, g FROM generate_series(81, 100) g", "UPDATE orders SET amount = 7 WHERE id = 50")
	f.startWorker()
	eventually(t, 90*time.Second, "the changes made while the worker was down", func() (bool, string) {
		last, _, err := changes()
		if err != nil || len(last) != 100 {
			return false, fmt.Sprint(len(last), err)
		}
		a, _ := last[50]["after"].(map[string]any)
		return a["amount"] == "7.00", fmt.Sprint(last[50])
	})
	last, _, _ := changes()
	for id := 1.0; id <= 100; id++ {
		v := last[id]
		if id == 80 {
			if v != nil {
				t.Errorf("id 80: %v, want a tombstone last", v)
			}
			continue
		}
		a, _ := v["after"].(map[string]any)
		if a == nil || a["id"] != id {
			t.Errorf("id %v: last change %v", id, v)
		}
		if id <= 10 && a["amount"] != "0.00" {
			t.Errorf("id %v: amount %v, want 0.00", id, a["amount"])
		}
	}
}
