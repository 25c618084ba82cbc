//go:build long

package postgrescdc

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pipectl/pipectl/internal/pgtest"
)

// cluster is a private PostgreSQL server with wal_level = logical for one
// test (internal/pgtest).
type cluster struct {
	*pgtest.Cluster
	port int
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := pgtest.Start(t)
	return &cluster{Cluster: c, port: c.Port}
}

func (c *cluster) dsn(db string) string { return c.DSN(db) }

func (c *cluster) exec(t *testing.T, db string, sqls ...string) {
	t.Helper()
	pgtest.Exec(t, c.DSN(db), sqls...)
}

func pgxConnect(ctx context.Context, dsn string) (*pgx.Conn, error) { return pgx.Connect(ctx, dsn) }
