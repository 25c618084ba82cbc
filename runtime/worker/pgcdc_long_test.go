//go:build long

package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/internal/pgtest"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// startPostgres starts a private PostgreSQL cluster with wal_level =
// logical (internal/pgtest) and returns the DSN of its database test.
func startPostgres(t *testing.T) string { return pgtest.Start(t).DSN("test") }

func pgExec(t *testing.T, dsn string, sqls ...string) { pgtest.Exec(t, dsn, sqls...) }

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
