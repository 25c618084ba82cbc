# Webhooks over HTTP: clients POST events (NDJSON, one event a line) to
# source "http", which answers 200 only once Kafka holds every event of the
# request; a sink "http" forwards them, in batches, to a downstream service
# chosen per event type, and dead-letters the events that service refuses.
#
#   PIPECTL_VAR_token=s3cret go run ./cmd/pipectl dev -duration 60s examples/pipelines/webhook-http
#
# and, from another terminal while it runs:
#
#   curl -i -H 'Authorization: Bearer s3cret' -H 'X-Event-Type: order' \
#     --data-binary $'{"id":1,"type":"order","total":42}\n{"id":2,"type":"refund","total":-5}\n' \
#     http://127.0.0.1:8080/events
#
# A 200 means both events are in Kafka; 401 a wrong token, 400 a body that
# is not NDJSON (nothing of it is written), 413 a body over 1 MB, 429 a
# full queue (retry after Retry-After). The events then go to
# var.downstream + "/order" and "/refund" (start an HTTP server there that
# takes POSTs; one that answers 501, as `python3 -m http.server` does, or
# 401/404 fails the sink with that status; an event it refuses with a 400
# or 422 ends in webhooks.dlq with pipectl.http.status).

fleet {
  name = "webhooks"
}

variable "token" {
  type        = string
  sensitive   = true
  description = "Bearer token the webhook clients send."
  default     = "change-me"
}

variable "downstream" {
  type        = string
  description = "Base URL of the service the events are forwarded to."
  default     = "http://127.0.0.1:9090"
}

topic "events" {
  name       = "webhooks.events"
  partitions = 3
}

topic "dlq" {
  name       = "webhooks.dlq"
  partitions = 1
}

source "http" "hooks" {
  listen         = "127.0.0.1:8080"
  path           = "/events"
  topic          = topic.events.name
  format         = "ndjson"
  bearer_token   = var.token
  max_body_bytes = 1000000
  key_header     = "X-Event-Type"
  headers        = { "X-Request-Id" = "request_id" }
}

transform "stamp" {
  set = { "value.received_by" = "'pipectl'" }
}

sink "http" "forward" {
  topics     = [topic.events.name]
  url        = "'${var.downstream}/' + value.type"
  format     = "json"
  batch_size = 100
  transforms = [transform.stamp]
  headers    = { "X-Source" = "pipectl" }
  errors {
    tolerance         = "all"
    dead_letter_topic = topic.dlq.name
  }
}
