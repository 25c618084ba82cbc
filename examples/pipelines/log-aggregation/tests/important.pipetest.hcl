# Tests of the log aggregation's filter, run offline by
#
#   pipectl test examples/pipelines/log-aggregation

# Only warnings and errors get through, each tagged with its host.
run "keeps_warnings_and_errors" {
  pipeline = source.file.app

  record {
    value = "2026-12-01T09:00:00Z INFO  web-1 server started on :8080"
  }
  record {
    value = "2026-12-01T09:00:05Z WARN  web-1 slow query: SELECT * FROM orders took 1200ms"
  }
  record {
    value = "2026-12-01T09:00:09Z ERROR web-1 payment gateway timed out after 30s (order 1042)"
  }

  expect {
    records = [
      { topic = "logs.app", value = "2026-12-01T09:00:05Z WARN  web-1 slow query: SELECT * FROM orders took 1200ms", headers = { host = "web-1" } },
      { topic = "logs.app", value = "2026-12-01T09:00:09Z ERROR web-1 payment gateway timed out after 30s (order 1042)", headers = { host = "web-1" } },
    ]
    filtered = 1
  }
}

# The host header comes from the host variable; lines pass as text, byte
# for byte.
run "host_from_variable" {
  pipeline = source.file.app

  variables {
    host = "db-3"
  }

  record {
    value = "ERROR disk full"
  }

  expect {
    records = [{ value_raw = "ERROR disk full", headers = { host = "db-3" } }]
  }

  assert {
    condition     = "headers.host == 'db-3'"
    error_message = "The host header does not follow var.host."
  }
}

# The archive sink reads the lines back as text.
run "archive_reads_text" {
  pipeline = sink.file.archive

  record {
    value_raw = "WARN not JSON at all {"
  }

  expect {
    records = [{ value = "WARN not JSON at all {" }]
  }
}
