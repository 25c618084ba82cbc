# Tests of the syslog aggregation, run offline by
#
#   pipectl test examples/pipelines/log-aggregation-syslog
#
# The sources' records are what the syslog source hands over (one
# structured message each); the tests check what reaches Kafka and the
# archive.

# A parsed message goes to logs.syslog as JSON, keyed by its host.
run "message_to_kafka" {
  pipeline = source.syslog.tcp

  record {
    key = "web-1"
    value = {
      facility = 19
      severity = 4
      hostname = "web-1"
      app_name = "billing"
      message  = "payment received"
    }
  }

  expect {
    records = [{
      topic = "logs.syslog"
      key   = "web-1"
      value = { facility = 19, severity = 4, hostname = "web-1", app_name = "billing", message = "payment received" }
    }]
  }

  assert {
    condition     = "value.severity <= 4"
    error_message = "The message is not a warning or worse."
  }
}

# The archive reads the JSON back as it was written.
run "archive_reads_json" {
  pipeline = sink.file.archive

  record {
    value_raw = "{\"hostname\":\"db-3\",\"severity\":3,\"message\":\"disk full\"}"
  }

  expect {
    records = [{ value = { hostname = "db-3", severity = 3, message = "disk full" } }]
  }
}
