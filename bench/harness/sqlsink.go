package harness

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pipectl/pipectl/bench/baseline"
)

// sqlDSNEnv names the PostgreSQL database of the sql_sink scenario; the
// worker reads it through env(), so the dsn is in no configuration.
const sqlDSNEnv = "PIPECTL_BENCH_PG_DSN"

const defaultSQLDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// runSQLSink measures Kafka → PostgreSQL upserts: sink "sql" against
// baseline.SQLSink (franz-go → pgx batches), into tables of the same
// shape.
func runSQLSink(ctx context.Context, e *env) (*Result, error) {
	dsn := os.Getenv(sqlDSNEnv)
	if dsn == "" {
		dsn = defaultSQLDSN
		os.Setenv(sqlDSNEnv, dsn)
	}
	return runThroughput(ctx, e, throughput{
		records: e.input.Records,
		output: func(ctx context.Context, e *env, name string) (*output, error) {
			return sqlOutput(ctx, e, dsn, name)
		},
		pipeline: func(e *env, target string) string {
			return fmt.Sprintf("sink \"sql\" \"bench\" {\n  topics      = [%q]\n  dsn         = env(%q)\n  table       = %q\n  mode        = \"upsert\"\n  primary_key = [\"id\"]\n}\n",
				e.input.Topic, sqlDSNEnv, strconv.Quote(target))
		},
		baseline: func(e *env, target, group string) []string {
			return []string{"-name", "sql_sink", "-brokers", e.broker.addr, "-input", e.input.Topic, "-group", group, "-dsn", dsn, "-table", target}
		},
	})
}

// sqlOutput is a new table, done when it holds every input record.
func sqlOutput(ctx context.Context, e *env, dsn, name string) (*output, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("sql_sink needs PostgreSQL (%s): %w", sqlDSNEnv, err)
	}
	table := "bench_sql_sink_" + name
	quoted := pgx.Identifier{table}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+quoted); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE "+quoted+" ("+baseline.SQLSinkColumns+")"); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	want := e.input.Records
	done := func() (int64, bool, error) {
		var n int64
		err := conn.QueryRow(ctx, "SELECT count(*) FROM "+quoted).Scan(&n)
		if err == nil && n > want {
			err = fmt.Errorf("%s holds %d rows, more than the %d expected", table, n, want)
		}
		return n, n == want, err
	}
	cleanup := func() {
		c := context.WithoutCancel(ctx)
		if _, err := conn.Exec(c, "DROP TABLE IF EXISTS "+quoted); err != nil {
			e.logf("dropping %s: %v", table, err)
		}
		conn.Close(c)
	}
	return &output{target: table, done: done, cleanup: cleanup}, nil
}
