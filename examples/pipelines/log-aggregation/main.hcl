# Log aggregation: tail application logs, tag each line with its host and
# keep only warnings and errors, then archive them as JSON envelopes.
#
# logs/app.log is a sample log of eleven lines, three of them warnings
# and two errors:
#
#   pipectl dev -duration 20s examples/pipelines/log-aggregation
#
# writes the five to out/important.jsonl, each with its host header. While
# it runs, append a line (echo "... ERROR ..." >> logs/app.log) and watch it
# arrive; point paths at real logs to aggregate those.

fleet {
  name = "logs"
}

variable "host" {
  type    = string
  default = "web-1"
}

topic "app_logs" {
  name       = "logs.app"
  partitions = 3
  config     = { "retention.ms" = "86400000" }
}

transform "important" {
  filter  = "value.contains('WARN') || value.contains('ERROR')"
  headers = { host = "'${var.host}'" }
}

source "file" "app" {
  paths           = ["logs/*.log"]
  topic           = topic.app_logs.name
  value_converter = "string"
  transforms      = [transform.important]
}

sink "file" "archive" {
  topics          = [topic.app_logs.name]
  path            = "out/important.jsonl"
  format          = "envelope"
  value_converter = "string"
}
