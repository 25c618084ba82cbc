# Records into a database: sink "sql" upserts the records of a topic into a
# MariaDB table by primary key, creates the table from the record schema
# (auto_create) and deletes the row of a tombstone. One transaction per
# flush: the consumed offsets are committed only after it commits. A row
# the database refuses on its own (a constraint, a value too long for its
# column) goes to the dead-letter topic; the rest of the batch is written.
#
# Against the local MariaDB (root, empty password, database test):
#
#   pipectl dev -duration 20s examples/pipelines/sql-sink
#   mariadb -h 127.0.0.1 -u root test -e "SELECT * FROM customers ORDER BY id LIMIT 5"
#
# For PostgreSQL instead: -var 'dsn=postgres://postgres@127.0.0.1:5432/test?sslmode=disable'.

fleet {
  name = "crm"
}

variable "dsn" {
  type        = string
  sensitive   = true
  description = "Connection string of the target database (mysql:// or postgres://)."
  default     = "mysql://root@127.0.0.1:3306/test"
}

topic "customers" {
  name       = "crm.customers"
  partitions = 3
}

# Stands in for the system that publishes customers: 1000 of them, ids
# 0-199 again and again (so rows are updated), every 7th one deleted.
source "generator" "customers" {
  topic         = topic.customers.name
  key_converter = "json"
  rate          = 200
  count         = 1000
  key           = "{'id': seq % 200}"
  value         = "seq % 7 == 6 ? dyn(null) : dyn({'id': seq % 200, 'name': 'customer ' + string(seq), 'visits': seq / 200})"
}

sink "sql" "customers" {
  topics         = [topic.customers.name]
  key_converter  = "json"
  dsn            = var.dsn
  table          = "'customers'"
  mode           = "upsert"
  primary_key    = ["id"]
  delete_enabled = true
  auto_create    = true
  errors {
    tolerance         = "all"
    dead_letter_topic = "crm.customers.dlq"
  }
}
