# Log aggregation from syslog: machines send their logs with syslog (RFC
# 5424 or RFC 3164) over UDP or TCP; each message becomes a structured
# record in Kafka (facility, severity, timestamp, hostname, app_name,
# proc_id, msg_id, structured_data, message, sender), and a file sink
# archives them as JSON lines.
#
#   go run ./cmd/pipectl dev -duration 20s examples/pipelines/log-aggregation-syslog
#
# and, from another terminal while it runs, send messages with util-linux
# logger:
#
#   logger --rfc5424 --udp -n 127.0.0.1 -P 5514 -t billing -p local3.warning "payment received"
#   logger --rfc3164 --tcp -n 127.0.0.1 -P 5514 -t cron "nightly job done"
#   printf 'first\nsecond\n' | logger --rfc5424 --tcp --octet-count -n 127.0.0.1 -P 5514 -t app
#   bash -c 'echo "not syslog" > /dev/tcp/127.0.0.1/5514'
#
# They arrive in out/syslog.jsonl, one JSON object a line. A TCP message
# that is not syslog goes to the dead-letter topic logs.syslog.dlq with its
# raw bytes; a UDP one becomes a record with raw and parse_error. Point
# rsyslog or syslog-ng at the same address to aggregate a machine's logs
# (PIPECTL_VAR_listen=0.0.0.0:5514 listens on every interface).

fleet {
  name = "syslog"
}

variable "listen" {
  type    = string
  default = "127.0.0.1:5514"
}

topic "syslog" {
  name       = "logs.syslog"
  partitions = 3
  config     = { "retention.ms" = "604800000" }
}

topic "dlq" {
  name       = "logs.syslog.dlq"
  partitions = 1
}

# UDP: datagrams that arrive while queue_size messages wait for Kafka are
# dropped and counted (pipectl_records_dropped_total).
source "syslog" "udp" {
  listen   = var.listen
  protocol = "udp"
  topic    = topic.syslog.name
}

# TCP (octet counting or newline framing): a full queue holds the senders
# back instead of dropping. Unparseable messages go to the dead-letter
# topic.
source "syslog" "tcp" {
  listen         = var.listen
  protocol       = "tcp"
  topic          = topic.syslog.name
  on_parse_error = "dead_letter"
  errors {
    tolerance         = "all"
    dead_letter_topic = topic.dlq.name
  }
}

sink "file" "archive" {
  topics = [topic.syslog.name]
  path   = "out/syslog.jsonl"
}
