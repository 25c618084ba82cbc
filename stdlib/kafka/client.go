package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/pipectl/pipectl/runtime/connector"
)

// clusterOpts returns the client options that reach the other cluster:
// seed brokers, SASL and TLS.
func clusterOpts(cfg ClusterConfig) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}
	user, pass := cfg.SASLUsername, cfg.SASLPassword
	switch cfg.SASLMechanism { // the schema's enum; the schema requires the user name and password with it
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	}
	if cfg.TLS || cfg.TLSCAFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSCAFile != "" {
			pem, err := os.ReadFile(cfg.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("tls_ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tls_ca_file %s holds no PEM certificate", cfg.TLSCAFile)
			}
		}
		// kgo sets ServerName to the host of each broker it dials.
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

// classify marks the errors of the other cluster that may go away when
// tried again: timeouts, connection failures (a cluster that restarts) and
// Kafka's retriable codes. A connection closed before the first answer
// (kgo.ErrFirstReadEOF) is not one: SASL or TLS settings that do not match
// the cluster's do not get better.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var netErr net.Error
	var firstRead *kgo.ErrFirstReadEOF
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, kgo.ErrClientClosed), errors.As(err, &firstRead):
		return err
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, kgo.ErrRecordTimeout),
		errors.Is(err, kgo.ErrRecordRetries),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.As(err, &netErr),
		kgo.IsRetryableBrokerErr(err),
		kerr.IsRetriable(err):
		return connector.Retriable(err)
	}
	return err
}
