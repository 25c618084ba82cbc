# Mirroring for disaster recovery: copy every orders.* topic of a cluster
# into this fleet's cluster under a "backup." prefix, keeping key, value,
# headers, timestamp and partition. Records pass through as bytes (ELT):
# nothing is decoded. The consumer groups in failover_groups are
# checkpointed: their offsets on the origin, translated into the copy, so
# that when the origin is lost they resume on the copy with nothing skipped:
#
#   pipectl mirror failover -groups billing source.kafka.orders examples/pipelines/mirror
#
# shows per group and partition the offset it commits, and commits it once
# approved (docs/mirroring.md).
#
# As written it mirrors topics of the fleet's own cluster, which a demo
# generator fills, so that it runs on the embedded broker:
#
#   pipectl dev -duration 20s examples/pipelines/mirror
#
# The live view shows source.kafka.orders counting the records it copies
# from orders.eu and orders.us to backup.orders.eu and backup.orders.us;
# `curl localhost:8083/connectors/source.kafka.orders/status` shows its
# three tasks. To mirror a real cluster (the demo generators and topics are
# then left out):
#
#   PIPECTL_VAR_origin_password=... pipectl dev \
#     -var 'origin_brokers=["origin.example:9092"]' -var origin_username=mirror \
#     examples/pipelines/mirror
#
# For disaster recovery both ways (active/active), each cluster's fleet
# mirrors the other with replication_policy = "default" (MirrorMaker 2's
# <alias>.<topic> names, with source_alias and target_alias) or
# "identity": records that came from this fleet's cluster are never
# mirrored back (docs/plugins.md, "Mirroring between clusters").

fleet {
  name = "dr"
}

variable "origin_brokers" {
  type        = list(string)
  description = "Bootstrap brokers of the cluster to mirror; null mirrors the fleet's own cluster (the demo)."
  default     = null
}

variable "origin_username" {
  type        = string
  description = "SCRAM-SHA-512 user on the origin cluster; null for none."
  default     = null
}

variable "failover_groups" {
  type        = list(string)
  description = "Consumer groups of the origin to checkpoint, for pipectl mirror failover."
  default     = ["billing", "shipping"]
}

variable "origin_password" {
  type      = string
  sensitive = true
  default   = null
}

locals {
  demo    = var.origin_brokers == null
  regions = local.demo ? toset(["eu", "us"]) : toset([])
}

# The demo's origin topics and their traffic, on the fleet's own cluster.
topic "orders" {
  for_each   = local.regions
  name       = "orders.${each.key}"
  partitions = 3
}

source "generator" "orders" {
  for_each = local.regions
  topic    = topic.orders[each.key].name
  rate     = 20
  value    = "{'id': seq, 'region': '${each.key}'}"
}

source "kafka" "orders" {
  brokers         = var.origin_brokers
  topics_regex    = "orders\\..*"
  topic_prefix    = "backup."
  sasl_mechanism  = var.origin_username == null ? null : "SCRAM-SHA-512"
  sasl_username   = var.origin_username
  sasl_password   = var.origin_password
  key_converter   = "bytes"
  value_converter = "bytes"
  tasks           = 3

  groups              = var.failover_groups
  checkpoint_interval = "10s"
}
