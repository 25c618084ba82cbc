# Change data capture from PostgreSQL: every insert, update, delete and
# truncate of public.orders and public.customers becomes a record in
# Kafka, keyed by the primary key, after an initial snapshot of the rows.
#
# The server needs wal_level = logical (postgresql.conf, then a restart) and
# a user with the REPLICATION attribute. Create the tables, then run
#
#   PG_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
#     go run ./cmd/pipectl dev -duration 60s examples/pipelines/cdc-postgres
#
# and change rows with psql from another terminal:
#
#   psql test -c "INSERT INTO orders (id, customer_id, amount) VALUES (1, 7, 42.50)"
#   psql test -c "UPDATE orders SET amount = 40 WHERE id = 1"
#   psql test -c "DELETE FROM orders WHERE id = 1"
#
# The changes arrive in out/changes.jsonl within a second, one envelope a
# line ({"op":"u","before":…,"after":…,"source":…}); a delete is followed by
# its tombstone, which the file sink writes as null. The source creates the
# publication and the slot (pipectl_shop) when missing; the slot holds WAL
# until the source confirms it, so drop it when the pipeline is gone for
# good: SELECT pg_drop_replication_slot('pipectl_shop').

fleet {
  name = "shop"
}

variable "dsn" {
  type        = string
  sensitive   = true
  description = "Connection string of the database; a password in it is never shown."
  default     = null
}

topic "orders" {
  name       = "shop.public.orders"
  partitions = 3
}

topic "customers" {
  name       = "shop.public.customers"
  partitions = 3
}

source "postgres_cdc" "shop" {
  dsn                = var.dsn != null ? var.dsn : env("PG_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
  tables             = ["public.orders", "public.customers"]
  slot               = "pipectl_shop"
  snapshot           = "initial"
  heartbeat_interval = "10s"
  # Keys are the primary key as a map ({"id": 1}), written by the json
  # key converter, this source's default.
}

sink "file" "changes" {
  topics = [topic.orders.name, topic.customers.name]
  path   = "out/changes.jsonl"
}
