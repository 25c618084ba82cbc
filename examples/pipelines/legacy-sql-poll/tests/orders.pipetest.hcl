# Tests of the legacy polling pipeline, run offline by
#
#   pipectl test examples/pipelines/legacy-sql-poll
#
# The source's records are what source "sql" reads from a row: the key a
# struct of the primary key, the value the row.

# A row goes to legacy.orders as JSON, keyed by its id.
run "row_to_kafka" {
  pipeline = source.sql.orders

  record {
    topic = "legacy.orders"
    key   = { id = 7 }
    value = { id = 7, customer = "acme", amount = 12.5, updated_at = "2026-12-01T09:00:00Z" }
  }

  expect {
    records = [{
      topic = "legacy.orders"
      key   = { id = 7 }
      value = { id = 7, customer = "acme", amount = 12.5, updated_at = "2026-12-01T09:00:00Z" }
    }]
  }
}

# The archive reads key and value back as JSON.
run "archive_reads_json" {
  pipeline = sink.file.orders_out

  record {
    key_raw   = "{\"id\":7}"
    value_raw = "{\"id\":7,\"customer\":\"acme\"}"
  }

  expect {
    records = [{ key = { id = 7 }, value = { id = 7, customer = "acme" } }]
  }
}
