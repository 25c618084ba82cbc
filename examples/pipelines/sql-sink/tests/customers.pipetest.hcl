# Tests of the SQL sink pipeline, run offline by
#
#   pipectl test examples/pipelines/sql-sink

# What the sink is handed: the key and value as structured maps, which it
# upserts by id.
run "upsert_row" {
  pipeline = sink.sql.customers

  record {
    key_raw   = "{\"id\":3}"
    value_raw = "{\"id\":3,\"name\":\"customer 3\",\"visits\":0}"
  }

  expect {
    records = [{ key = { id = 3 }, value = { id = 3, name = "customer 3", visits = 0 } }]
  }

  assert {
    condition     = "value.id == key.id"
    error_message = "The value's id is not the key's."
  }
}

# A tombstone reaches the sink as a null value: with delete_enabled it
# deletes the row.
run "tombstone" {
  pipeline = sink.sql.customers

  record {
    key_raw = "{\"id\":6}"
    value   = null
  }

  expect {
    records = [{ key = { id = 6 }, value = null }]
  }
}
