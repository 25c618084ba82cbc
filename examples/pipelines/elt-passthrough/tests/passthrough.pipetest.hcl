# Tests of the ELT pass-through, run offline by
#
#   pipectl test examples/pipelines/elt-passthrough

# Records cross to the warehouse untouched: bytes in, the same bytes out,
# whatever they hold (no converter parses them), headers kept.
run "bytes_pass_untouched" {
  pipeline = sink.kafka.to_warehouse

  record {
    key_raw   = "u7"
    value_raw = "{\"page\": \"/p/3\", \"user\": \"u7\"}"
    headers   = { trace = "abc" }
  }
  record {
    value_raw = "not JSON {"
  }

  expect {
    records = [
      { topic = "web.clicks", key_raw = "u7", value_raw = "{\"page\": \"/p/3\", \"user\": \"u7\"}", headers = { trace = "abc" } },
      { key_raw = null, value_raw = "not JSON {" },
    ]
    filtered     = 0
    dead_letters = []
  }
}

# The demo generator's clicks are JSON.
run "demo_clicks_are_json" {
  pipeline = source.generator.clicks["demo"]

  record {
    value = { page = "/p/1", user = "u1" }
  }

  expect {
    records = [{ topic = "web.clicks", value_raw = "{\"page\":\"/p/1\",\"user\":\"u1\"}" }]
  }
}
