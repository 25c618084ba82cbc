# Generated orders written by the example plugin sink "batchfile" in files
# of 100 records: out/shop.orders+0+0.jsonl, out/shop.orders+0+100.jsonl, …
# Run it with the custom binary, which knows the plugin:
#   go build -o bin/pipectl-batchfile ./examples/plugins/batchfile/cmd/pipectl-batchfile
#   bin/pipectl-batchfile dev -duration 20s examples/plugins/batchfile/example

fleet {
  name = "shop"
}

topic "orders" {
  name       = "shop.orders"
  partitions = 1
}

source "generator" "orders" {
  topic = topic.orders.name
  rate  = 200
  count = 2000
  value = "{'id': seq, 'amount': seq % 100}"
}

sink "batchfile" "archive" {
  topics           = [topic.orders.name]
  dir              = "out"
  records_per_file = 100
}
