package kafka

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/pipectl/pipectl/lang"
)

// DefaultClientID is the client ID of pipectl's clients when Config sets
// none.
const DefaultClientID = "pipectl"

// The SASL mechanisms pipectl speaks.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// Mechanisms lists the SASL mechanisms pipectl speaks.
var Mechanisms = []string{MechanismPlain, MechanismScramSHA256, MechanismScramSHA512}

// ErrNoBrokers is returned when a Config has no seed brokers.
var ErrNoBrokers = errors.New("no brokers: set them in the fleet block, with -brokers or PIPECTL_BROKERS")

// Config says how to reach a Kafka cluster.
type Config struct {
	Brokers  []string // seed brokers, HOST:PORT
	SASL     *SASL    // nil: no authentication
	TLS      *TLS     // nil: plaintext
	ClientID string   // "" means DefaultClientID
	// Logger, when set, receives the clients' own log (connections,
	// requests, group steps) as debug lines, and nothing when it is not
	// at debug.
	Logger *slog.Logger
}

// SASL is a SASL login. It formats itself with the password redacted, so a
// Config may be logged.
type SASL struct {
	Mechanism string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	Username  string
	Password  string
}

// Format prints s with its password redacted, whatever the verb.
func (s SASL) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Mechanism:%s Username:%s Password:%s}", s.Mechanism, s.Username, lang.Redacted)
}

// LogValue logs s (log/slog) with its password redacted.
func (s SASL) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mechanism", s.Mechanism), slog.String("username", s.Username), slog.String("password", lang.Redacted))
}

// MarshalJSON writes s with its password redacted.
func (s SASL) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Mechanism, Username, Password string }{s.Mechanism, s.Username, lang.Redacted})
}

// TLS is how to dial brokers with TLS. File names are read when the client
// options are built.
type TLS struct {
	CAFile             string // PEM CA bundle; "" uses the system roots
	CertFile           string // PEM client certificate, with KeyFile
	KeyFile            string // PEM client key, with CertFile
	ServerName         string // "" uses each broker's host name
	InsecureSkipVerify bool
}

// ConfigFromFleet returns the Config for a configuration's fleet block. A
// non-empty brokers (from -brokers or PIPECTL_BROKERS, which the caller
// reads) overrides the fleet's; entries may also be comma-separated lists.
// f may be nil when the configuration has no fleet block. The SASL password
// is resolved from its reference: "env:NAME" through lookupEnv (nil means
// os.LookupEnv), "file:PATH" by reading the file, else its value. Errors
// never contain the password.
func ConfigFromFleet(f *lang.Fleet, brokers []string, lookupEnv func(string) (string, bool)) (Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var c Config
	c.Brokers = splitBrokers(brokers)
	if len(c.Brokers) == 0 && f != nil {
		c.Brokers = splitBrokers(f.Brokers)
	}
	if len(c.Brokers) == 0 {
		return Config{}, ErrNoBrokers
	}
	if f == nil {
		return c, nil
	}
	if f.SASL != nil {
		mech, err := canonicalMechanism(f.SASL.Mechanism)
		if err != nil {
			return Config{}, err
		}
		if f.SASL.Username == "" {
			return Config{}, errors.New("fleet kafka sasl: the username is empty")
		}
		pass, err := resolveSecret(f.SASL.Password, lookupEnv)
		if err != nil {
			return Config{}, fmt.Errorf("fleet kafka sasl password: %w", err)
		}
		c.SASL = &SASL{Mechanism: mech, Username: f.SASL.Username, Password: pass}
	}
	if f.TLS != nil {
		c.TLS = &TLS{
			CAFile:             f.TLS.CAFile,
			CertFile:           f.TLS.CertFile,
			KeyFile:            f.TLS.KeyFile,
			ServerName:         f.TLS.ServerName,
			InsecureSkipVerify: f.TLS.InsecureSkipVerify,
		}
	}
	return c, nil
}

// splitBrokers flattens comma-separated entries and drops empty ones.
func splitBrokers(in []string) []string {
	var out []string
	for _, s := range in {
		for b := range strings.SplitSeq(s, ",") {
			if b = strings.TrimSpace(b); b != "" {
				out = append(out, b)
			}
		}
	}
	return out
}

// canonicalMechanism returns the mechanism's canonical upper-case name.
func canonicalMechanism(m string) (string, error) {
	up := strings.ToUpper(strings.TrimSpace(m))
	if slices.Contains(Mechanisms, up) {
		return up, nil
	}
	return "", fmt.Errorf("unknown SASL mechanism %q: want one of %s", m, strings.Join(Mechanisms, ", "))
}

// resolveSecret returns the clear text of s. No error it returns contains
// the value.
func resolveSecret(s lang.Secret, lookupEnv func(string) (string, bool)) (string, error) {
	if s.Ref != "" {
		scheme, rest, _ := strings.Cut(s.Ref, ":")
		switch scheme {
		case "env":
			v, ok := lookupEnv(rest)
			if !ok {
				return "", fmt.Errorf("the environment variable %s is not set", rest)
			}
			return v, nil
		case "file":
			b, err := os.ReadFile(rest)
			if err != nil {
				return "", err // a *PathError: the path, never the content
			}
			return string(b), nil
		default:
			return "", fmt.Errorf("unknown secret reference scheme %q: want env or file", scheme)
		}
	}
	switch v := s.Value.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case nil:
		return "", errors.New("no value")
	default:
		return "", fmt.Errorf("the value is a %T; want a string", v)
	}
}

// Opts returns the kgo options for c: seed brokers, client ID, SASL and
// TLS. It reads the TLS files.
func (c Config) Opts() ([]kgo.Opt, error) {
	if len(c.Brokers) == 0 {
		return nil, ErrNoBrokers
	}
	id := c.ClientID
	if id == "" {
		id = DefaultClientID
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(id), kgo.WithCompressor(uncompressed{})}
	if c.Logger != nil {
		opts = append(opts, kgo.WithLogger(kgoLogger{c.Logger}))
	}
	if c.SASL != nil {
		m, err := c.SASL.mechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	if c.TLS != nil {
		tc, err := c.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

func (s *SASL) mechanism() (sasl.Mechanism, error) {
	mech, err := canonicalMechanism(s.Mechanism)
	if err != nil {
		return nil, err
	}
	switch mech {
	case MechanismPlain:
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism(), nil
	case MechanismScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism(), nil
	default: // MechanismScramSHA512; canonicalMechanism allows no other
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism(), nil
	}
}

func (t *TLS) config() (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, // the user's explicit choice
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca_file %s: no PEM certificate found", t.CAFile)
		}
		tc.RootCAs = pool
	}
	switch {
	case t.CertFile != "" && t.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls cert_file %s and key_file %s: %w", t.CertFile, t.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	case t.CertFile != "" || t.KeyFile != "":
		return nil, errors.New("tls: cert_file and key_file go together; set both or neither")
	}
	return tc, nil
}

// NewClient returns a kgo client for c with opts added after c's own (so
// they may override them).
func NewClient(c Config, opts ...kgo.Opt) (*kgo.Client, error) {
	base, err := c.Opts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return cl, nil
}

// uncompressed is the producer compressor of the clients made from a
// Config's Opts: batches go out uncompressed, Kafka's producer default
// (franz-go would use snappy, which some clients, kafkajs without a codec
// plugin, cannot read). It stands in for
// kgo.ProducerBatchCompression(kgo.NoCompression()), whose codec slice
// kgo.NewClient rewrites in place: a data race when, as here, clients made
// at once share the options. Its Compress returns nil, which franz-go
// reads as "send the batch as it is"; a compressor wins over any
// kgo.ProducerBatchCompression added to the options.
type uncompressed struct{}

func (uncompressed) Compress(*bytes.Buffer, []byte, ...kgo.CompressFlag) ([]byte, kgo.CompressionCodecType) {
	return nil, kgo.CodecNone
}
