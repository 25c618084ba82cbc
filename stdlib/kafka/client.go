package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/pipectl/pipectl/runtime/connector"
)

// clusterOpts returns the client options that reach the cluster the
// configuration names: its seed brokers, SASL and TLS; or, without
// brokers, the fleet's own cluster with the fleet's settings.
func clusterOpts(cfg ClusterConfig, fleet *connector.Cluster) ([]kgo.Opt, error) {
	if len(cfg.Brokers) == 0 {
		if fleet == nil || len(fleet.Brokers) == 0 {
			return nil, errors.New("no brokers: set brokers, or run the task on a worker, which hands it the fleet's cluster")
		}
		return fleetOpts(fleet)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}
	if m := saslMechanism(cfg.SASLMechanism, cfg.SASLUsername, cfg.SASLPassword); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	if cfg.TLS || cfg.TLSCAFile != "" {
		tc, err := tlsConfig(cfg.TLSCAFile, "tls_ca_file")
		if err != nil {
			return nil, err
		}
		// kgo sets ServerName to the host of each broker it dials.
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

// fleetOpts returns the client options that reach the fleet's cluster.
func fleetOpts(c *connector.Cluster) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	if s := c.SASL; s != nil {
		m := saslMechanism(s.Mechanism, s.Username, s.Password)
		if m == nil {
			return nil, fmt.Errorf("the fleet's SASL mechanism %q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", s.Mechanism)
		}
		opts = append(opts, kgo.SASL(m))
	}
	if t := c.TLS; t != nil {
		tc, err := tlsConfig(t.CAFile, "the fleet's tls ca_file")
		if err != nil {
			return nil, err
		}
		tc.ServerName, tc.InsecureSkipVerify = t.ServerName, t.InsecureSkipVerify // the fleet's explicit choice
		switch {
		case t.CertFile != "" && t.KeyFile != "":
			cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("the fleet's tls cert_file and key_file: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		case t.CertFile != "" || t.KeyFile != "":
			return nil, errors.New("the fleet's tls cert_file and key_file go together")
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

// saslMechanism returns the SASL mechanism of its name, nil for none (or
// an unknown name: the schema's enum allows no other).
func saslMechanism(name, user, pass string) sasl.Mechanism {
	switch strings.ToUpper(name) {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	}
	return nil
}

// tlsConfig is a TLS configuration trusting the PEM certificate
// authorities of caFile, or the system's roots without one; what names
// the file in errors.
func tlsConfig(caFile, what string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	tc.RootCAs = x509.NewCertPool()
	if !tc.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s holds no PEM certificate", what, caFile)
	}
	return tc, nil
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
