# Tests of the restore pipeline, run offline by
#
#   pipectl test examples/pipelines/restore-from-s3

# A restored record keeps its key and value and goes to the topic the
# expression names.
run "restored_record" {
  pipeline = source.s3.syslog

  record {
    topic = "logs.syslog.restored"
    key   = "web-1"
    value = { hostname = "web-1", message = "payment received" }
  }

  expect {
    records = [{ topic = "logs.syslog.restored", key = "web-1", value = { hostname = "web-1", message = "payment received" } }]
  }
}
