# Log aggregation: tail application logs, tag each line with its host and
# keep only warnings and errors, then archive them as JSON envelopes.

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
