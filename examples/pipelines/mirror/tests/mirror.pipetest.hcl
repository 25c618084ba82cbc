# Tests of the mirror, run offline by
#
#   pipectl test examples/pipelines/mirror
#
# They cover what pipectl does to each record; the kafka source's own work
# (the backup. prefix, partitions, offsets) is covered by its connector
# tests and shown by pipectl dev.

# Mirrored records are bytes: nothing is decoded, so even bytes that are
# not JSON pass, and headers and timestamps are kept.
run "records_pass_as_bytes" {
  pipeline = source.kafka.orders

  record {
    topic     = "orders.eu"
    key_raw   = "42"
    value_raw = "{\"id\": 42, \"region\": \"eu\"}"
    headers   = { origin = "eu-1" }
    timestamp = "2026-12-01T09:00:00Z"
  }
  record {
    topic     = "orders.us"
    value_raw = "\u00ff not JSON"
  }

  expect {
    records = [
      { topic = "orders.eu", key_raw = "42", value_raw = "{\"id\": 42, \"region\": \"eu\"}", headers = { origin = "eu-1" }, timestamp = "2026-12-01T09:00:00Z" },
      { topic = "orders.us", key_raw = null, value_raw = "\u00ff not JSON" },
    ]
  }
}

# Each region's demo generator writes to its own topic.
run "demo_generator_per_region" {
  pipeline = source.generator.orders["us"]

  record {
    value = { id = 1, region = "us" }
  }

  expect {
    records = [{ topic = "orders.us", value = { id = 1, region = "us" } }]
  }
}
