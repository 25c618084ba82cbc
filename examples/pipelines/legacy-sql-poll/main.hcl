# Polling a legacy database: source "sql" reads the rows of a PostgreSQL
# table that were inserted or updated since its last poll (Kafka Connect's
# JDBC source in timestamp+incrementing mode) into the topic legacy.orders,
# keyed by the primary key, with a record schema from the column types;
# a file sink shows what arrives.
#
# Against the local PostgreSQL (trust auth, database test):
#
#   psql -h 127.0.0.1 -U postgres -d test -c "CREATE TABLE IF NOT EXISTS orders (
#       id serial PRIMARY KEY, customer text NOT NULL, amount numeric(10,2),
#       updated_at timestamptz NOT NULL DEFAULT now())"
#   psql -h 127.0.0.1 -U postgres -d test -c "INSERT INTO orders (customer, amount) VALUES ('ann', 12.50), ('bob', 7.25)"
#   pipectl dev -duration 30s examples/pipelines/legacy-sql-poll
#
# and, while it runs, in another terminal:
#
#   psql -h 127.0.0.1 -U postgres -d test -c "UPDATE orders SET amount = amount + 1, updated_at = now() WHERE id = 1"
#
# The new and the updated rows appear in out/orders.jsonl within about a
# second. For another server: -var 'pg_dsn=postgres://USER:PASSWORD@HOST:5432/DB'.

fleet {
  name = "legacy"
}

variable "pg_dsn" {
  type        = string
  sensitive   = true
  description = "Connection string of the legacy database."
  default     = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

topic "orders" {
  name       = "legacy.orders"
  partitions = 3
}

source "sql" "orders" {
  dsn                 = var.pg_dsn
  table               = "orders"
  mode                = "timestamp+incrementing"
  timestamp_column    = "updated_at"
  incrementing_column = "id"
  timestamp_delay     = "200ms" # rows of transactions still committing are read on the next poll
  poll_interval       = "500ms"
  topic_prefix        = "legacy."
  key_converter       = "json" # the key is a struct of the primary key columns: {"id": 1}
}

sink "file" "orders_out" {
  topics        = [topic.orders.name]
  path          = "out/orders.jsonl"
  format        = "envelope"
  key_converter = "json"
}
