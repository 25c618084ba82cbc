# Tests of the Avro orders, run offline by
#
#   pipectl test examples/pipelines/avro-orders
#
# The sink's records are encoded with the avro converter first, as a
# producer would, against an in-memory registry; the sink decodes them by
# their id, filters and masks.

# Large orders outside country XX are kept, with the email hashed.
run "keeps_large_orders" {
  pipeline = sink.file.large_orders

  record {
    value = { id = 1, email = "u1@example.com", amount = 75.5, country = "FR", coupon = null }
  }
  record {
    value = { id = 2, email = "u2@example.com", amount = 12.0, country = "FR", coupon = null }
  }
  record {
    value = { id = 3, email = "u3@example.com", amount = 99.0, country = "XX", coupon = "WELCOME" }
  }

  expect {
    records = [
      { value = { id = 1, email = "6228d577ed8b4c57b0388fbef9d63caed2ca3c1cca39bc8db1253cf22f80beae", amount = 75.5, country = "FR", coupon = null } },
    ]
    filtered = 2
  }
}

# Bytes that are not Confluent's wire format fail in the converter and go
# to the dead-letter topic with the reason: never skipped.
run "refuses_plain_json" {
  pipeline = sink.file.large_orders

  record {
    value_raw = "{\"id\": 1}"
  }

  expect {
    dead_letters = [{ stage = "converter", class = "schemaconv.Error", message = "magic byte" }]
  }
}
