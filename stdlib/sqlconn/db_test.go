package sqlconn_test

import (
	"context"
	"crypto/rand"
	dbsql "database/sql"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/sqlconn"
)

// The servers of this machine and of CI. PIPECTL_REQUIRE_DBS=1 (set by
// .ci/run) turns a server that cannot be reached into a failure instead of
// a skip.
const (
	pgAdmin    = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	mysqlAdmin = "root@tcp(127.0.0.1:3306)/test?parseTime=true"
)

// testDB is a schema (PostgreSQL) or database (MySQL) of a test's own,
// dropped at the end.
type testDB struct {
	name    string // "postgres" or "mysql"
	dsn     string // for the connector
	db      *dbsql.DB
	schema  string
	cliArgs []string // the command-line client that reads results back
}

func unreachable(t *testing.T, what string, err error) {
	t.Helper()
	if os.Getenv("PIPECTL_REQUIRE_DBS") != "" {
		t.Fatalf("%s is not reachable and PIPECTL_REQUIRE_DBS is set: %v", what, err)
	}
	t.Skipf("%s is not reachable (%v); start it or set PIPECTL_REQUIRE_DBS=1 to fail instead", what, err)
}

func randomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func newPostgres(t *testing.T) *testDB {
	t.Helper()
	db, err := dbsql.Open("pgx", pgAdmin)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unreachable(t, "PostgreSQL at 127.0.0.1:5432", err)
	}
	schema := randomName("t_")
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		db.Close()
	})
	if _, err := db.Exec("SET search_path TO " + schema); err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // the search_path is per session
	return &testDB{
		name: "postgres", db: db, schema: schema,
		dsn:     "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=" + schema + "&application_name=" + schema,
		cliArgs: []string{"psql", "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", "SET search_path TO " + schema},
	}
}

func newMySQL(t *testing.T) *testDB {
	t.Helper()
	db, err := dbsql.Open("mysql", mysqlAdmin)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unreachable(t, "MariaDB at 127.0.0.1:3306", err)
	}
	name := randomName("t_")
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
		db.Close()
	})
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("USE " + name); err != nil {
		t.Fatal(err)
	}
	return &testDB{
		name: "mysql", db: db, schema: name,
		dsn:     "mysql://root@127.0.0.1:3306/" + name,
		cliArgs: []string{"mariadb", "-h", "127.0.0.1", "-u", "root", "-N", "-B", name},
	}
}

// both runs f against each server.
func both(t *testing.T, f func(t *testing.T, d *testDB)) {
	t.Run("postgres", func(t *testing.T) { f(t, newPostgres(t)) })
	t.Run("mysql", func(t *testing.T) { f(t, newMySQL(t)) })
}

func (d *testDB) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := d.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %s: %v", d.name, q, err)
	}
}

// cli runs a query with the server's own command-line client (psql or
// mariadb) and returns its rows, one line each, columns separated by |
// (PostgreSQL) or a tab (MySQL) — normalised to |.
func (d *testDB) cli(t *testing.T, q string) []string {
	t.Helper()
	args := append([]string(nil), d.cliArgs...)
	if d.name == "postgres" {
		args = append(args, "-c", q)
	} else {
		args = append(args, "-e", q)
	}
	cmd := exec.Command(args[0], args[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", args[0], q, err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l == "" || l == "SET" {
			continue
		}
		lines = append(lines, strings.ReplaceAll(l, "\t", "|"))
	}
	return lines
}

// compile compiles an expression attribute as lang does.
func compile(t *testing.T, s *configschema.Schema, attr, src string) connector.Expr {
	t.Helper()
	a, ok := s.Attribute(attr)
	if !ok {
		t.Fatalf("no attribute %s", attr)
	}
	vars := make([]expr.Var, len(a.ExprVars))
	for i, v := range a.ExprVars {
		vars[i] = expr.Var{Name: v.Name, Type: v.Type}
	}
	env, err := expr.NewEnv(vars)
	if err != nil {
		t.Fatal(err)
	}
	prog, issues := env.Compile(src, expr.Dyn)
	if len(issues) > 0 {
		t.Fatalf("compile %q: %v", src, issues)
	}
	return prog
}

// taskContext checks config against the schema as the worker does and
// compiles its expressions (exprs: attribute → CEL).
func taskContext(t *testing.T, s *configschema.Schema, config map[string]any, exprs map[string]string) *connector.TaskContext {
	t.Helper()
	for name, src := range exprs {
		config[name] = src
	}
	coerced, errs := s.Coerce(config)
	if len(errs) > 0 {
		t.Fatalf("config: %v", configschema.Errors(errs))
	}
	compiled := map[string]connector.Expr{}
	for _, a := range s.Attributes {
		if src, ok := coerced[a.Name].(string); ok && a.Type == configschema.Expression {
			compiled[a.Name] = compile(t, s, a.Name, src)
		}
	}
	return &connector.TaskContext{Pipeline: "test", Task: 0, Tasks: 1, Config: coerced, Exprs: compiled}
}

func openSink(t *testing.T, config map[string]any, exprs map[string]string) connector.Sink {
	t.Helper()
	s := sqlconn.Sink().NewSink()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Open(ctx, taskContext(t, &sqlconn.SinkSchema, config, exprs)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}
