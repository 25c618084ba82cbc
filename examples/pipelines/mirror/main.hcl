# Mirroring: copy every orders.* topic of another cluster into this fleet's
# cluster under a "backup." prefix, keeping key, value, headers, timestamp
# and partition. Records pass through as bytes (ELT): nothing is decoded.

fleet {
  name = "dr"
}

variable "origin_brokers" {
  type        = list(string)
  description = "Bootstrap brokers of the cluster to mirror."
  default     = ["origin.example:9092"]
}

variable "origin_password" {
  type      = string
  sensitive = true
  default   = "change-me"
}

source "kafka" "orders" {
  brokers         = var.origin_brokers
  topics_regex    = "^orders\\..*"
  topic_prefix    = "backup."
  sasl_mechanism  = "SCRAM-SHA-512"
  sasl_username   = "mirror"
  sasl_password   = var.origin_password
  key_converter   = "bytes"
  value_converter = "bytes"
  tasks           = 3
}
