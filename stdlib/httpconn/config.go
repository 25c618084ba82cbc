package httpconn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

func i64(v int64) *int64 { return &v }

// defaultMaxRecordBytes is the default of max_record_bytes and
// max_body_bytes: under franz-go's default batch.size (1000012 bytes),
// the largest record the producer takes, which fails the task when a
// record passes it (MESSAGE_TOO_LARGE).
const defaultMaxRecordBytes = 1000000

// maxHeaderBytes bounds a request's header block.
const maxHeaderBytes = 64 << 10

// SourceSchema is the configuration of source "http".
var SourceSchema = configschema.Schema{
	Kind:        configschema.Source,
	Type:        "http",
	Description: "Listens for HTTP POSTs of records (one JSON document, NDJSON or a raw body) and answers 200 only once Kafka has them all. One task per pipeline.",
	Attributes: []configschema.Attribute{
		{Name: "listen", Type: configschema.String, Required: true, NonEmpty: true, Description: "Address to listen on, HOST:PORT (\"0.0.0.0:8080\"). Port 0 picks a free port and logs it, for tests. The task binds it on whichever worker runs it."},
		{Name: "path", Type: configschema.String, Default: "/", NonEmpty: true, Description: "URL path that takes POSTs; any other path answers 404."},
		{Name: "topic", Type: configschema.String, Required: true, NonEmpty: true, Description: "Topic the records are written to."},
		{Name: "format", Type: configschema.String, Default: "json", Enum: []string{"json", "ndjson", "raw"}, Description: "json: the body is one JSON document, one record. ndjson: one JSON document a line, one record each (blank lines are skipped). raw: the body's bytes are one record's value, unchanged."},
		{Name: "max_body_bytes", Type: configschema.Int, Default: int64(defaultMaxRecordBytes), Min: i64(1), Max: i64(1 << 30), Description: "Largest request body accepted; a larger one is answered 413 and nothing of it is written. The default equals max_record_bytes, since a json or raw body is one record; raise it to take larger ndjson batches."},
		{Name: "max_record_bytes", Type: configschema.Int, Default: int64(defaultMaxRecordBytes), Min: i64(1), Max: i64(1 << 30), Description: "Largest record (value, key and headers as posted) accepted; a request holding a larger one is answered 413 and nothing of it is written. Keep it at or under the producer's batch.size (franz-go's default 1000012) and the topic's max.message.bytes, which refuse larger records and would fail the task."},
		{Name: "max_inflight_bytes", Type: configschema.Int, Default: int64(64 << 20), Min: i64(1), Max: i64(1 << 34), Description: "Request bytes being read at once, over all connections (a request counts its Content-Length, or max_body_bytes when it sends none); a request that does not fit is answered 429 with Retry-After. At least max_body_bytes."},
		{Name: "read_timeout", Type: configschema.Duration, Default: "30s", MinDuration: "100ms", Description: "How long a request's headers and body may take to arrive; a slower one is cut off. Waiting for Kafka (ack_timeout) does not count."},
		{Name: "idle_timeout", Type: configschema.Duration, Default: "60s", MinDuration: "100ms", Description: "How long a kept-alive connection may stay idle between requests before it is closed."},
		{Name: "queue_size", Type: configschema.Int, Default: int64(10000), Min: i64(1), Max: i64(1000000), Description: "Records accepted but not yet acknowledged by Kafka. A request that does not fit beside them is answered 429 with Retry-After; one with more records than queue_size is answered 413."},
		{Name: "ack_timeout", Type: configschema.Duration, Default: "30s", MinDuration: "100ms", Description: "How long a request waits for Kafka to acknowledge its records before it is answered 503 (its records may still arrive: the client retries, and at-least-once delivery allows duplicates)."},
		{Name: "bearer_token", Type: configschema.String, Sensitive: true, Description: "When set, requests must carry Authorization: Bearer TOKEN (compared in constant time); others are answered 401."},
		{Name: "key_header", Type: configschema.String, Description: "Request header whose value becomes every record's key (e.g. X-Request-Id); no key when unset or absent."},
		{Name: "headers", Type: configschema.MapOfString, Description: "Request headers copied to every record's headers: request header name → record header name ({\"X-GitHub-Event\" = \"event\"}). Absent request headers are left out."},
		{Name: "tls_cert_file", Type: configschema.String, Path: true, Description: "PEM certificate of the listener: with tls_key_file, the endpoint speaks HTTPS. Read by the worker that runs the task."},
		{Name: "tls_key_file", Type: configschema.String, Path: true, Description: "PEM private key of tls_cert_file."},
		{Name: "tls_client_ca_file", Type: configschema.String, Path: true, Description: "PEM CA bundle: when set, clients must present a certificate it signed."},
	},
	RequiredWith: []configschema.Requirement{
		{Attribute: "tls_cert_file", Requires: []string{"tls_key_file"}},
		{Attribute: "tls_key_file", Requires: []string{"tls_cert_file"}},
		{Attribute: "tls_client_ca_file", Requires: []string{"tls_cert_file"}},
	},
	Check: checkSource,
}

// SourceConfig is the configuration of source "http", as SourceSchema
// declares it.
type SourceConfig struct {
	Listen          string            `pipectl:"listen"`
	Path            string            `pipectl:"path"`
	Topic           string            `pipectl:"topic"`
	Format          string            `pipectl:"format"`
	MaxBodyBytes    int64             `pipectl:"max_body_bytes"`
	MaxRecordBytes  int64             `pipectl:"max_record_bytes"`
	MaxInflight     int64             `pipectl:"max_inflight_bytes"`
	ReadTimeout     time.Duration     `pipectl:"read_timeout"`
	IdleTimeout     time.Duration     `pipectl:"idle_timeout"`
	QueueSize       int               `pipectl:"queue_size"`
	AckTimeout      time.Duration     `pipectl:"ack_timeout"`
	BearerToken     string            `pipectl:"bearer_token"`
	KeyHeader       string            `pipectl:"key_header"`
	Headers         map[string]string `pipectl:"headers"`
	TLSCertFile     string            `pipectl:"tls_cert_file"`
	TLSKeyFile      string            `pipectl:"tls_key_file"`
	TLSClientCAFile string            `pipectl:"tls_client_ca_file"`
}

// Source returns the plugin registration of source "http".
func Source() connector.Plugin {
	return connector.Plugin{Schema: SourceSchema, Config: (*SourceConfig)(nil), NewSource: func() connector.Source { return new(source) }}
}

// str reads a string attribute as a Check gets it; "" when it is not one
// (the attribute's own check says what is wrong).
func str(values map[string]any, name string) string {
	a := configschema.Attribute{Name: name, Type: configschema.String}
	v, err := a.Coerce(values[name])
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}

func checkSource(values map[string]any) []*configschema.Error {
	var errs []*configschema.Error
	fail := func(attr, summary, format string, args ...any) {
		errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: attr, Summary: summary, Detail: fmt.Sprintf(format, args...)})
	}
	if listen := str(values, "listen"); listen != "" {
		if err := checkListen(listen); err != nil {
			fail("listen", "Invalid listen address", "The listen address %q %s: write HOST:PORT, such as \"0.0.0.0:8080\".", listen, err)
		}
	}
	if p := str(values, "path"); p != "" && p[0] != '/' {
		fail("path", "Invalid path", "The path %q must start with /.", p)
	}
	num := func(name string, def int64) int64 {
		a := configschema.Attribute{Name: name, Type: configschema.Int}
		if v, err := a.Coerce(values[name]); err == nil {
			if n, ok := v.(int64); ok {
				return n
			}
		}
		return def
	}
	if body, inflight := num("max_body_bytes", defaultMaxRecordBytes), num("max_inflight_bytes", 64<<20); inflight < body {
		fail("max_inflight_bytes", "max_inflight_bytes under max_body_bytes", "max_inflight_bytes (%d) must be at least max_body_bytes (%d), or no request of the largest size could ever be read.", inflight, body)
	}
	a := configschema.Attribute{Name: "tasks", Type: configschema.Int}
	if v, err := a.Coerce(values["tasks"]); err == nil {
		if n, _ := v.(int64); n > 1 {
			fail("tasks", "Too many tasks", "An http source listens on one address, which one task can bind: remove tasks or set it to 1 (run another pipeline for another address).")
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

// serverTLS builds the listener's TLS configuration.
func serverTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls_cert_file and tls_key_file: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls_client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_client_ca_file %s holds no PEM certificate", clientCAFile)
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}
