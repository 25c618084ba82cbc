package kafka

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultListen is the address `pipectl broker` listens on by default.
const DefaultListen = "127.0.0.1:9092"

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	// Listen is the HOST:PORT to listen on; port 0 (and "", which means
	// "127.0.0.1:0") picks a free port. The address is also what the
	// broker advertises to clients, so listen on an address they reach.
	Listen string
	// DataDir is where topics, records, group offsets and transactions
	// persist; they survive a clean stop and a kill -9. "" keeps
	// everything in memory.
	DataDir string
	// Logger receives the broker's log; nil discards it.
	Logger *slog.Logger
	// Users, when not empty, turns SASL on: clients must log in as one of
	// these (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512). Every user may do
	// everything: there are no ACLs. franz-go and librdkafka clients (kcat,
	// confluent-kafka) log in (see handshakeCompatListener).
	Users []SASL
	// TLS, when set, makes the listener TLS only (its Certificates are the
	// broker's; see DevTLS).
	TLS *tls.Config
}

// Broker is a running embedded broker: one Kafka-protocol broker (franz-go's
// kfake), in this process, with automatic topic creation off (every topic
// must be created, which is also what keeps persisted topics sound after a
// kill -9).
type Broker struct {
	cluster   *kfake.Cluster
	addr      string
	closeOnce sync.Once
}

// ListenError is StartBroker's error when it cannot listen on the address;
// errors.Is(err, syscall.EADDRINUSE) tells a port already taken.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string { return fmt.Sprintf("listen on %s: %v", e.Addr, e.Err) }
func (e *ListenError) Unwrap() error { return e.Err }

// groupMinSessionTimeout lets tests and `pipectl dev` use short group
// sessions, so that a dead member is noticed quickly (Kafka's default
// group.min.session.timeout.ms is 6s).
const groupMinSessionTimeout = 100 * time.Millisecond

// StartBroker starts an embedded broker; it is ready for clients when
// StartBroker returns. Close stops it.
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return nil, &ListenError{Addr: listen, Err: err}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, &ListenError{Addr: listen, Err: unwrapOpError(err)}
	}
	// TLS, then the SASL handshake fix for librdkafka clients, which reads
	// the protocol in the clear.
	var served net.Listener = ln
	if cfg.TLS != nil {
		served = tls.NewListener(served, cfg.TLS)
	}
	if len(cfg.Users) > 0 {
		served = handshakeCompatListener{served}
	}
	used := false
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		// kfake listens on 127.0.0.1 only; hand it our listener instead,
		// so that any host works and a bind error is reported above.
		kfake.ListenFn(func(string, string) (net.Listener, error) {
			if used {
				return nil, errors.New("embedded broker: a second listener was asked for")
			}
			used = true
			return served, nil
		}),
		kfake.GroupMinSessionTimeout(groupMinSessionTimeout),
		// Kafka's num.partitions, for topics created with -1 partitions
		// (kfake's own default is 10).
		kfake.DefaultNumPartitions(1),
		// A cluster id of its own, as Kafka makes one, so that two
		// embedded brokers can be told apart (kfake's default is
		// "kfake" for all); a data directory keeps the first one.
		kfake.ClusterID(newClusterID()),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.Logger != nil {
		opts = append(opts, kfake.WithLogger(slogLogger{cfg.Logger}))
	}
	if len(cfg.Users) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for _, u := range cfg.Users {
			mech, err := canonicalMechanism(u.Mechanism)
			if err != nil {
				ln.Close()
				return nil, err
			}
			opts = append(opts, kfake.Superuser(mech, u.Username, u.Password))
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close() // kfake closes it too, unless it failed before using it
		if cfg.DataDir != "" {
			return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
		}
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	return &Broker{cluster: c, addr: ln.Addr().String()}, nil
}

// newClusterID returns a cluster id in Kafka's form: 16 random bytes in
// URL-safe base64 without padding.
func newClusterID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// unwrapOpError drops the "listen tcp ADDR:" prefix a *net.OpError adds,
// which ListenError says already.
func unwrapOpError(err error) error {
	if oe, ok := err.(*net.OpError); ok && oe.Err != nil {
		return oe.Err
	}
	return err
}

// Addr returns the HOST:PORT the broker listens on, with the port it
// picked when asked for port 0.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker, first saving its state to the data directory
// when it has one. It is safe to call more than once.
func (b *Broker) Close() {
	b.closeOnce.Do(b.cluster.Close)
}

// slogLogger adapts a *slog.Logger to kfake's logger.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	var l slog.Level
	switch level {
	case kfake.LogLevelError:
		l = slog.LevelError
	case kfake.LogLevelWarn:
		l = slog.LevelWarn
	case kfake.LogLevelInfo:
		l = slog.LevelInfo
	case kfake.LogLevelDebug:
		l = slog.LevelDebug
	default: // LogLevelNone
		return
	}
	ctx := context.Background()
	if !s.l.Enabled(ctx, l) {
		return
	}
	s.l.Log(ctx, l, fmt.Sprintf(format, args...), "component", "broker")
}
