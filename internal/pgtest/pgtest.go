package pgtest

import (
	"context"
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
)

// Cluster is a running private server with a database test. Trust
// authentication serves every user but pwuser, which must give a password
// (scram-sha-256), for tests of a wrong one.
type Cluster struct {
	Port int
	Dir  string
}

// asPostgres runs a PostgreSQL binary, as the postgres user when the test
// runs as root (initdb refuses root).
func asPostgres(t testing.TB, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

// Start starts a server for t.
func Start(t testing.TB) *Cluster {
	t.Helper()
	out, err := exec.Command("pg_config", "--bindir").Output()
	if err != nil {
		t.Skip("pg_config is not on PATH: install PostgreSQL's server packages (postgresql) to run the postgres_cdc tests")
	}
	bindir := strings.TrimSpace(string(out))
	initdb := filepath.Join(bindir, "initdb")
	pgctl := filepath.Join(bindir, "pg_ctl")
	if _, err := os.Stat(initdb); err != nil {
		t.Skipf("%s is missing: install PostgreSQL's server package to run the postgres_cdc tests", initdb)
	}
	dir, err := os.MkdirTemp("", "pgcdc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("no postgres user to run initdb as (the test runs as root)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	asPostgres(t, initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	hba := "local all pwuser scram-sha-256\nhost all pwuser 127.0.0.1/32 scram-sha-256\n" +
		"local all all trust\nlocal replication all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
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
	asPostgres(t, pgctl, "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "120", "-o", opts, "start")
	t.Cleanup(func() { asPostgres(t, pgctl, "-D", data, "-m", "immediate", "-w", "stop") })
	c := &Cluster{Port: port, Dir: dir}
	Exec(t, c.DSN("postgres"), "CREATE DATABASE test")
	return c
}

// DSN is the connection string of database db as the postgres user.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Exec runs each statement on dsn, failing t at the first error.
func Exec(t testing.TB, dsn string, sqls ...string) {
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
