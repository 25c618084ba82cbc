# Tests of the data lake pipeline, run offline by
#
#   pipectl test examples/pipelines/data-lake-s3

# An application event reaches the sink as a structured value, which
# becomes one Parquet row (its fields the columns of `value`).
run "event_to_lake" {
  pipeline = sink.s3.lake

  record {
    topic     = "app.events"
    value_raw = "{\"id\":7,\"page\":\"/p/7\",\"country\":\"de\",\"ms\":7}"
  }

  expect {
    records = [{ topic = "app.events", value = { id = 7, page = "/p/7", country = "de", ms = 7 } }]
  }
}

# The generator's events go to Kafka as JSON.
run "events_are_json" {
  pipeline = source.generator.events

  record {
    value = { id = 1, page = "/p/1", country = "de", ms = 1 }
  }

  expect {
    records = [{ topic = "app.events", value_raw = "{\"country\":\"de\",\"id\":1,\"ms\":1,\"page\":\"/p/1\"}" }]
  }
}
