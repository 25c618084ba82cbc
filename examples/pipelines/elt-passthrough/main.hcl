# ELT: records pass through untouched, as bytes, from the fleet's cluster to
# an analytics cluster under a "raw." prefix; transformation happens later,
# in the warehouse.
#
# As written the "raw." topics are on the fleet's own cluster and a demo
# generator stands in for the web servers, so that it runs on the embedded
# broker:
#
#   pipectl dev -duration 20s examples/pipelines/elt-passthrough
#
# The live view shows sink.kafka.to_warehouse counting the clicks it copies
# from web.clicks to raw.web.clicks. To write to a real analytics cluster
# (the demo generator and the raw topic are then left out):
#
#   pipectl dev -var 'warehouse_brokers=["warehouse-kafka.example:9092"]' examples/pipelines/elt-passthrough

fleet {
  name = "analytics"
}

variable "warehouse_brokers" {
  type        = list(string)
  description = "Bootstrap brokers of the analytics cluster; null writes the raw topics to the fleet's own cluster (the demo)."
  default     = null
}

locals {
  demo = var.warehouse_brokers == null ? toset(["demo"]) : toset([])
}

topic "clicks" {
  name       = "web.clicks"
  partitions = 12
}

# The demo: clicks, and the topic they are copied to on the fleet's cluster.
source "generator" "clicks" {
  for_each = local.demo
  topic    = topic.clicks.name
  rate     = 50
  value    = "{'page': '/p/' + string(seq % 7), 'user': 'u' + string(seq % 13)}"
}

topic "raw_clicks" {
  for_each   = local.demo
  name       = "raw.${topic.clicks.name}"
  partitions = 12
}

sink "kafka" "to_warehouse" {
  topics          = [topic.clicks.name]
  brokers         = var.warehouse_brokers
  topic_prefix    = "raw."
  key_converter   = "bytes"
  value_converter = "bytes"
  tasks           = 4
  errors {
    tolerance         = "all"
    dead_letter_topic = "web.clicks.dlq"
  }
}
