# Orders as Avro, in Confluent's wire format, with the schema in the
# fleet's own Schema Registry (every worker serves Confluent's REST API):
#
#   pipectl dev -duration 30s examples/pipelines/avro-orders
#
# The generator's orders are encoded with schema.order and registered as
# the subject shop.orders-value; the sink decodes them by the id in each
# record and writes the large orders as JSON lines. Because the topic
# declares its value schema, validate type-checks the transforms against
# it: a typo such as value.amout is an error at its column, with "Did you
# mean "amount"?", and so is comparing value.country with a number.

fleet {
  name = "shop"
}

schema "order" {
  avro = file("order.avsc")
}

topic "orders" {
  name         = "shop.orders"
  partitions   = 3
  value_schema = schema.order
}

converter "order_avro" {
  type   = "avro"
  schema = schema.order # encode with the declared schema; decode by id
}

transform "large" {
  filter = "value.amount >= 50.0 && value.country != 'XX'"
}

transform "masked" {
  set = { "value.email" = "sha256(value.email)" }
}

source "generator" "orders" {
  topic           = topic.orders.name
  rate            = 50
  value           = "{'id': seq, 'email': 'u' + string(seq) + '@example.com', 'amount': double(seq % 100), 'country': seq % 2 == 0 ? 'FR' : 'DE', 'coupon': null}"
  value_converter = converter.order_avro
}

sink "file" "large_orders" {
  topics          = [topic.orders.name]
  path            = "out/large-orders.jsonl"
  value_converter = converter.order_avro
  transforms      = [transform.large, transform.masked]
  errors {
    tolerance         = "all" # bytes that are not this Avro go to the DLQ
    dead_letter_topic = "shop.orders.dlq"
  }
}
