package syslog

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

func i64(v int64) *int64 { return &v }

// Schema is the configuration of source "syslog".
var Schema = configschema.Schema{
	Kind: configschema.Source,
	Type: "syslog",
	// The fixed fields of every record (parse.go), against which validate
	// checks the CEL of the pipeline's transforms.
	KeySchema:   KeySchema,
	ValueSchema: ValueSchema,
	Description: "Listens for syslog messages (RFC 5424 and RFC 3164) over UDP, TCP or TLS and produces one structured record per message. One task per pipeline.",
	Attributes: []configschema.Attribute{
		{Name: "listen", Type: configschema.String, Required: true, NonEmpty: true, Description: "Address to listen on, HOST:PORT (\"0.0.0.0:5514\", \"127.0.0.1:5514\", \"[::]:5514\"). Port 0 picks a free port and logs it, for tests. The task binds it on whichever worker runs it."},
		{Name: "topic", Type: configschema.String, Required: true, NonEmpty: true, Description: "Topic the records are written to."},
		{Name: "protocol", Type: configschema.String, Default: "udp", Enum: []string{"udp", "tcp"}, Description: "udp: one message per datagram; datagrams that arrive while the queue is full are dropped and counted (pipectl_records_dropped_total). tcp: octet-counting or newline framing (RFC 6587), detected per message; a full queue stops reading the connections (back-pressure), nothing is dropped."},
		{Name: "format", Type: configschema.String, Default: "auto", Enum: []string{"auto", "rfc5424", "rfc3164"}, Description: "Message format: auto detects RFC 5424 or RFC 3164 per message."},
		{Name: "max_message_bytes", Type: configschema.Int, Default: int64(65536), Min: i64(480), Max: i64(16 << 20), Description: "Longest message accepted; a longer one (a TCP frame or a UDP datagram) is handled as unparseable (on_parse_error) with its first max_message_bytes bytes, and a TCP stream goes on with the next frame."},
		{Name: "queue_size", Type: configschema.Int, Default: int64(10000), Min: i64(1), Max: i64(1000000), Description: "Messages read but not yet acknowledged by Kafka: what a crash can lose. When it is full, UDP datagrams are dropped and counted and TCP connections are not read."},
		{Name: "on_parse_error", Type: configschema.String, Default: "record", Enum: []string{"record", "dead_letter"}, Description: "What an unparseable message becomes. record: a record with the raw message in `raw` and the error in `parse_error`. dead_letter: a record failure at stage source with the raw bytes as its value, which follows errors.tolerance (\"all\" sends it to the dead-letter topic; \"none\" fails the task)."},
		{Name: "timezone", Type: configschema.String, Default: "Local", Description: "Time zone of RFC 3164 timestamps, which carry none: an IANA name (\"Europe/Paris\"), \"UTC\", or \"Local\" for the worker's. Their year is the current one."},
		{Name: "tls_cert_file", Type: configschema.String, Path: true, Description: "PEM certificate of the listener: with tls_key_file, TCP connections use TLS (RFC 5425). Read by the worker that runs the task."},
		{Name: "tls_key_file", Type: configschema.String, Path: true, Description: "PEM private key of tls_cert_file."},
		{Name: "tls_client_ca_file", Type: configschema.String, Path: true, Description: "PEM CA bundle: when set, clients must present a certificate it signed."},
	},
	RequiredWith: []configschema.Requirement{
		{Attribute: "tls_cert_file", Requires: []string{"tls_key_file"}},
		{Attribute: "tls_key_file", Requires: []string{"tls_cert_file"}},
		{Attribute: "tls_client_ca_file", Requires: []string{"tls_cert_file"}},
	},
	Check: check,
}

// Config is the configuration of source "syslog", as Schema declares it.
type Config struct {
	Listen          string `pipectl:"listen"`
	Topic           string `pipectl:"topic"`
	Protocol        string `pipectl:"protocol"`
	Format          string `pipectl:"format"`
	MaxMessageBytes int    `pipectl:"max_message_bytes"`
	QueueSize       int    `pipectl:"queue_size"`
	OnParseError    string `pipectl:"on_parse_error"`
	Timezone        string `pipectl:"timezone"`
	TLSCertFile     string `pipectl:"tls_cert_file"`
	TLSKeyFile      string `pipectl:"tls_key_file"`
	TLSClientCAFile string `pipectl:"tls_client_ca_file"`
}

// Source returns the plugin registration of source "syslog".
func Source() connector.Plugin {
	return connector.Plugin{Schema: Schema, Config: (*Config)(nil), NewSource: func() connector.Source { return new(source) }}
}

// check says what the attributes' own rules cannot: listen is HOST:PORT,
// the time zone exists, TLS needs TCP, and one task (at validate time
// values hold the pipeline's tasks attribute when it is set).
func check(values map[string]any) []*configschema.Error {
	var errs []*configschema.Error
	fail := func(attr, summary, format string, args ...any) {
		errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: attr, Summary: summary, Detail: fmt.Sprintf(format, args...)})
	}
	str := func(name string) string {
		a := configschema.Attribute{Name: name, Type: configschema.String}
		v, err := a.Coerce(values[name])
		if err != nil {
			return "" // the attribute's own check says what is wrong
		}
		s, _ := v.(string)
		return s
	}
	if listen := str("listen"); listen != "" {
		if err := checkListen(listen); err != nil {
			fail("listen", "Invalid listen address", "The listen address %q %s: write HOST:PORT, such as \"0.0.0.0:5514\".", listen, err)
		}
	}
	if tz := str("timezone"); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			fail("timezone", "Unknown time zone", "The time zone %q is not known: use an IANA name such as \"Europe/Paris\", \"UTC\" or \"Local\".", tz)
		}
	}
	if str("tls_cert_file") != "" && str("protocol") != "tcp" {
		fail("tls_cert_file", "TLS needs TCP", `Syslog over TLS (RFC 5425) runs over TCP: set protocol = "tcp", or remove the tls_* attributes.`)
	}
	a := configschema.Attribute{Name: "tasks", Type: configschema.Int}
	if v, err := a.Coerce(values["tasks"]); err == nil {
		if n, _ := v.(int64); n > 1 {
			fail("tasks", "Too many tasks", "A syslog source listens on one address, which one task can bind: remove tasks or set it to 1 (run another pipeline for another address).")
		}
	}
	return errs
}

// checkListen says what is wrong with a listen address, nil when nothing.
func checkListen(listen string) error {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("is not HOST:PORT")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("has no port number from 0 to 65535")
	}
	return nil
}
