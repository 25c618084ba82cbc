# Tests of the webhook pipelines, run offline by
#
#   pipectl test examples/pipelines/webhook-http
#
# The source's records are what source "http" hands over for one NDJSON
# line (its value, the X-Event-Type header as the key); the tests check what
# reaches Kafka and what the forwarding sink is handed.

# An event lands in webhooks.events as JSON, keyed by its type.
run "event_to_kafka" {
  pipeline = source.http.hooks

  record {
    key   = "order"
    value = { id = 1, type = "order", total = 42 }
  }

  expect {
    records = [{
      topic = "webhooks.events"
      key   = "order"
      value = { id = 1, type = "order", total = 42 }
    }]
  }
}

# The sink gets the event stamped; its url expression sends it to
# downstream/order.
run "forward_stamped" {
  pipeline = sink.http.forward

  record {
    value_raw = "{\"id\":2,\"type\":\"refund\",\"total\":-5}"
  }

  expect {
    records = [{ value = { id = 2, type = "refund", total = -5, received_by = "pipectl" } }]
  }

  assert {
    condition     = "value.type in ['order', 'refund']"
    error_message = "An event of an unknown type would go to a URL nobody serves."
  }
}
