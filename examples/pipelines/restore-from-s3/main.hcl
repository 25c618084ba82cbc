# Restoring a topic from object storage: source "s3" reads back the
# objects sink "s3" wrote (here the Parquet objects of the data-lake-s3
# example) in offset order per original partition and writes each
# partition's records, with their keys, values, headers and timestamps,
# to the same partition of logs.syslog.restored. Its position is kept in
# the offsets topic: a restart resumes where it stopped, and objects
# uploaded later are picked up every poll_interval.
#
#   AWS_ACCESS_KEY_ID=lake AWS_SECRET_ACCESS_KEY=lake-secret-key \
#     go run ./cmd/pipectl dev -duration 30s examples/pipelines/restore-from-s3

fleet {
  name = "restore"
}

variable "endpoint" {
  type        = string
  description = "URL of the S3-compatible store."
  default     = "http://127.0.0.1:7070"
}

topic "restored" {
  name       = "logs.syslog.restored"
  partitions = 3
}

source "s3" "syslog" {
  endpoint      = var.endpoint
  bucket        = "lake"
  prefix        = "raw/logs.syslog"
  format        = "parquet"
  topic         = "topic + '.restored'"
  poll_interval = "5s"
}

# What came back, as JSON lines, to look at.
sink "file" "check" {
  topics = [topic.restored.name]
  path   = "out/restored.jsonl"
  format = "envelope"
}
