# A data lake on object storage: syslog messages (and a generator standing
# in for an application's events) land in Kafka as structured records, and
# sink "s3" writes them as Parquet objects to an S3-compatible store,
# partitioned by hour of the record time:
#
#   lake/raw/logs.syslog/dt=2026-03-14/hour=10/logs.syslog+0+0000000000.parquet
#
# Each object is uploaded whole; the consumed offsets are committed only
# once the objects holding their records are in the bucket, and an object
# written again after a crash is the same object: every record once.
#
# Against a local versitygw (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0):
#
#   mkdir -p /tmp/s3/lake
#   versitygw --access lake --secret lake-secret-key --port 127.0.0.1:7070 posix /tmp/s3 &
#   AWS_ACCESS_KEY_ID=lake AWS_SECRET_ACCESS_KEY=lake-secret-key \
#     go run ./cmd/pipectl dev -duration 60s examples/pipelines/data-lake-s3
#   logger --rfc5424 --tcp -n 127.0.0.1 -P 5514 -t billing "payment received"
#
# and read the objects with DuckDB:
#
#   SELECT timestamp, value.hostname, value.message FROM 's3://lake/raw/logs.syslog/*/*/*.parquet'

fleet {
  name = "lake"
}

variable "endpoint" {
  type        = string
  description = "URL of the S3-compatible store."
  default     = "http://127.0.0.1:7070"
}

variable "access_key_id" {
  type        = string
  sensitive   = true
  description = "Access key id; empty: AWS_ACCESS_KEY_ID of the worker's environment."
  default     = ""
}

variable "secret_access_key" {
  type        = string
  sensitive   = true
  description = "Secret access key; empty: AWS_SECRET_ACCESS_KEY of the worker's environment."
  default     = ""
}

topic "syslog" {
  name       = "logs.syslog"
  partitions = 3
}

topic "events" {
  name       = "app.events"
  partitions = 3
}

source "syslog" "tcp" {
  listen   = "127.0.0.1:5514"
  protocol = "tcp"
  topic    = topic.syslog.name
}

# Stands in for an application: page views with a country and a duration.
source "generator" "events" {
  topic = topic.events.name
  rate  = 100
  value = "{'id': seq, 'page': '/p/' + string(seq % 20), 'country': ['fr', 'de', 'us'][seq % 3], 'ms': seq % 500}"
}

sink "s3" "lake" {
  topics            = [topic.syslog.name, topic.events.name]
  endpoint          = var.endpoint
  bucket            = "lake"
  access_key_id     = var.access_key_id
  secret_access_key = var.secret_access_key
  prefix            = "raw"
  # Confluent's TimeBasedPartitioner, hourly, by record time.
  path            = "topic + '/dt=' + year + '-' + month + '-' + day + '/hour=' + hour"
  format          = "parquet"
  compression     = "snappy"
  flush_records   = 500
  rotate_interval = "10m"
}
