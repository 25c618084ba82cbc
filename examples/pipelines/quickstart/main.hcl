# The quickstart: generated orders, filtered and masked in flight, written
# to a JSON-lines file:
#
#   pipectl dev -duration 30s examples/pipelines/quickstart
#
# The live view counts the records of each pipeline (the generator's
# "filtered" are the small orders drop_small drops), and out/orders.jsonl
# fills with the orders that pass; those of external customers (not
# @corp.example) have their email hashed and their card dropped.

fleet {
  name    = "shop"
  brokers = ["localhost:9092"] # overridable: -brokers / PIPECTL_BROKERS
}

variable "env" {
  type    = string
  default = "dev"
}

locals {
  prefix = "shop.${var.env}"
}

topic "orders" {
  name       = "${local.prefix}.orders"
  partitions = 6
  config     = { "retention.ms" = "604800000" }
}

predicate "external" {
  expr = "!value.email.endsWith('@corp.example')"
}

transform "drop_small" {
  filter = "value.amount >= 10" # keep the record only where true
}

transform "mask_pii" {
  when = predicate.external
  set  = { "value.email" = "sha256(value.email)" }
  drop = ["value.card"]
}

source "generator" "orders" {
  topic      = topic.orders.name
  rate       = 100 # records per second, 0 = as fast as possible
  value      = "{'id': seq, 'email': 'u' + string(seq) + (seq % 3 == 0 ? '@corp.example' : '@example.com'), 'amount': seq % 100, 'card': '4111'}"
  transforms = [transform.drop_small, transform.mask_pii]
}

sink "file" "orders_out" {
  topics = [topic.orders.name]
  path   = "out/orders.jsonl" # relative to the configuration directory
  errors {
    tolerance         = "all" # none (default): the task fails; all: bad records go to the DLQ
    dead_letter_topic = "${local.prefix}.dlq"
  }
}
