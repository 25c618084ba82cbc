package baseline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// SQLSinkColumns is the table of the sql_sink scenario, as both sides
// write it (sink "sql" creates nothing: the harness creates it).
const SQLSinkColumns = "id bigint PRIMARY KEY, amount double precision, country text, email text, items jsonb, ts text"

// SQLSink consumes Input and upserts each value (a Record) into the
// PostgreSQL table Table by id, with pgx: the records of each poll are
// queued as one pgx.Batch of INSERT … ON CONFLICT (id) DO UPDATE
// statements (pipelined: one round trip a batch) in the open transaction,
// which commits before each offset commit.
func SQLSink(ctx context.Context, a Args) error {
	if a.DSN == "" || a.Table == "" {
		return errors.New("sql_sink needs -dsn and -table")
	}
	conn, err := pgx.Connect(ctx, a.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	q := fmt.Sprintf(`INSERT INTO %s (id, amount, country, email, items, ts) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, country = EXCLUDED.country, email = EXCLUDED.email, items = EXCLUDED.items, ts = EXCLUDED.ts`,
		pgx.Identifier{a.Table}.Sanitize())
	var tx pgx.Tx
	write := func(recs []*kgo.Record) error {
		if tx == nil {
			if tx, err = conn.Begin(ctx); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		for _, r := range recs {
			var v struct {
				Record
				Items json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				return err
			}
			b.Queue(q, v.ID, v.Amount, v.Country, v.Email, string(v.Items), v.TS)
		}
		return tx.SendBatch(ctx, b).Close()
	}
	flush := func(ctx context.Context) error {
		if tx == nil {
			return nil
		}
		err := tx.Commit(ctx)
		tx = nil
		return err
	}
	return consume(ctx, a, write, flush)
}
