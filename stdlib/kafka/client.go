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
	"github.com/pipectl/pipectl/stdlib/internal/pluginconf"
)

// clusterOpts returns the client options that reach the other cluster:
// seed brokers, SASL and TLS from the attributes of clusterAttributes.
func clusterOpts(cfg pluginconf.Config) ([]kgo.Opt, error) {
	brokers, err := cfg.Strings("brokers")
	if err != nil {
		return nil, err
	}
	if len(brokers) == 0 {
		return nil, errors.New("brokers is empty")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...)}

	mechanism, err := cfg.String("sasl_mechanism", "")
	if err != nil {
		return nil, err
	}
	user, err := cfg.String("sasl_username", "")
	if err != nil {
		return nil, err
	}
	pass, err := cfg.String("sasl_password", "")
	if err != nil {
		return nil, err
	}
	switch mechanism {
	case "":
		if user != "" || pass != "" {
			return nil, errors.New("sasl_username and sasl_password need sasl_mechanism")
		}
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("unknown sasl_mechanism %q; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mechanism)
	}

	useTLS, err := cfg.Bool("tls", false)
	if err != nil {
		return nil, err
	}
	caFile, err := cfg.String("tls_ca_file", "")
	if err != nil {
		return nil, err
	}
	if useTLS || caFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return nil, fmt.Errorf("tls_ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tls_ca_file %s holds no PEM certificate", caFile)
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
