// Package syslog is the built-in "syslog" source: it listens for syslog
// messages over UDP, TCP or TLS and produces one structured record per
// message.
//
// Formats: RFC 5424 and RFC 3164 (BSD syslog), detected per message with
// format = "auto", parsed by github.com/leodido/go-syslog/v4 (strict, not
// best effort). RFC 3164 timestamps carry no year or zone: the current
// year and the configured timezone apply; RFC 3339 timestamps in RFC 3164
// messages (rsyslog's forward formats) are read too.
//
// Transports: UDP, one message per datagram (a trailing newline or NUL is
// dropped); TCP with the framing of RFC 6587 detected per message, octet
// counting ("LEN SP MSG") when a frame starts with a digit and
// newline-terminated otherwise; TLS (RFC 5425) on TCP with tls_cert_file
// and tls_key_file, client certificates required with tls_client_ca_file.
//
// Records: the value is a struct (ValueSchema) with facility, severity
// (numbers and names), version, timestamp, hostname, app_name, proc_id,
// msg_id, structured_data (SD-ID → parameter → value), message, the
// format it was read as and the sender's address; fields the message
// lacks are left out. The key is the message's host name, or the
// sender's IP address without one (KeySchema: a string), so that one
// host's messages stay in order in one partition. The record's timestamp
// is the time the message was received; the message's own is the value's
// timestamp. No SourceOffset: syslog cannot be read again.
//
// Unparseable messages, and messages longer than max_message_bytes, are
// never dropped: on_parse_error = "record" makes a record with raw and
// parse_error (and format, sender); "dead_letter" hands the raw bytes
// over as a failed record (connector.Record.Err), which the worker sends
// to the dead-letter topic with errors.tolerance = "all" and which fails
// the task with "none".
//
// Flow control: at most queue_size messages are queued or handed over
// and not yet acknowledged by Kafka (a message takes a slot once it is
// read, Acked frees it). When they are all taken, the UDP reader drops
// datagrams and counts them (connector.TaskContext.Dropped:
// pipectl_records_dropped_total) and logs them at most every 10 s; each
// TCP reader waits with the one message it read and reads no more until a
// slot frees up, which holds its sender back. What a crash loses: the
// messages holding slots, the one each waiting TCP reader holds, and, for
// TCP, whatever the kernel had received but the task had not read;
// senders do not resend.
//
// One task: the schema refuses tasks > 1 (one task binds the address).
//
// It imports the plugin SDK, lang/configschema and go-syslog.
package syslog
