# ELT: records pass through untouched, as bytes, from the fleet's cluster to
# an analytics cluster; transformation happens later, in the warehouse.

fleet {
  name = "analytics"
}

topic "clicks" {
  name       = "web.clicks"
  partitions = 12
}

sink "kafka" "to_warehouse" {
  topics          = [topic.clicks.name]
  brokers         = ["warehouse-kafka.example:9092"]
  topic_prefix    = "raw."
  key_converter   = "bytes"
  value_converter = "bytes"
  tasks           = 4
  errors {
    tolerance         = "all"
    dead_letter_topic = "web.clicks.dlq"
  }
}
