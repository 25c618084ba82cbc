package kafka_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// secret is the password in every test: no error may contain it.
const secret = "hunter2-Sup3rSecret"

func TestConfigFromFleet(t *testing.T) {
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	if err := os.WriteFile(passFile, []byte(secret+"-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KAFKA_PASS": secret + "-env"}
	lookupEnv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	sasl := func(mech string, pass lang.Secret) *lang.SASL {
		return &lang.SASL{Mechanism: mech, Username: "alice", Password: pass}
	}

	tests := []struct {
		name    string
		fleet   *lang.Fleet
		brokers []string
		want    kafka.Config
	}{{
		name:  "fleet brokers",
		fleet: &lang.Fleet{Name: "f", Brokers: []string{"a:9092", "b:9092"}},
		want:  kafka.Config{Brokers: []string{"a:9092", "b:9092"}},
	}, {
		name:    "override wins, comma-separated",
		fleet:   &lang.Fleet{Name: "f", Brokers: []string{"a:9092"}},
		brokers: []string{"x:1, y:2", ""},
		want:    kafka.Config{Brokers: []string{"x:1", "y:2"}},
	}, {
		name:    "no fleet block",
		brokers: []string{"x:1"},
		want:    kafka.Config{Brokers: []string{"x:1"}},
	}, {
		name:  "password value, mechanism in lower case",
		fleet: &lang.Fleet{Brokers: []string{"a:1"}, SASL: sasl("scram-sha-512", lang.Secret{Value: secret})},
		want:  kafka.Config{Brokers: []string{"a:1"}, SASL: &kafka.SASL{Mechanism: "SCRAM-SHA-512", Username: "alice", Password: secret}},
	}, {
		name: "password from env ref, not the stale value",
		fleet: &lang.Fleet{Brokers: []string{"a:1"},
			SASL: sasl("PLAIN", lang.Secret{Value: "stale", Ref: "env:KAFKA_PASS"})},
		want: kafka.Config{Brokers: []string{"a:1"}, SASL: &kafka.SASL{Mechanism: "PLAIN", Username: "alice", Password: secret + "-env"}},
	}, {
		name: "password from file ref",
		fleet: &lang.Fleet{Brokers: []string{"a:1"},
			SASL: sasl("SCRAM-SHA-256", lang.Secret{Value: "stale", Ref: "file:" + passFile})},
		want: kafka.Config{Brokers: []string{"a:1"}, SASL: &kafka.SASL{Mechanism: "SCRAM-SHA-256", Username: "alice", Password: secret + "-file"}},
	}, {
		name: "tls",
		fleet: &lang.Fleet{Brokers: []string{"a:1"},
			TLS: &lang.TLS{CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", ServerName: "kafka", InsecureSkipVerify: true}},
		want: kafka.Config{Brokers: []string{"a:1"},
			TLS: &kafka.TLS{CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", ServerName: "kafka", InsecureSkipVerify: true}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kafka.ConfigFromFleet(tt.fleet, tt.brokers, lookupEnv)
			if err != nil {
				t.Fatal(err)
			}
			// SASL formats itself redacted, so compare its fields.
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b kafka.SASL) bool { return a == b })); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFromFleetErrors(t *testing.T) {
	lookupEnv := func(string) (string, bool) { return "", false }
	withSASL := func(s lang.SASL) *lang.Fleet { return &lang.Fleet{Brokers: []string{"a:1"}, SASL: &s} }
	tests := []struct {
		name    string
		fleet   *lang.Fleet
		brokers []string
		want    string
	}{{
		name:  "no brokers",
		fleet: &lang.Fleet{Name: "f"},
		want:  "no brokers: set them in the fleet block, with -brokers or PIPECTL_BROKERS",
	}, {
		name: "no fleet, no brokers",
		want: "no brokers: set them in the fleet block, with -brokers or PIPECTL_BROKERS",
	}, {
		name:  "unknown mechanism",
		fleet: withSASL(lang.SASL{Mechanism: "GSSAPI", Username: "alice", Password: lang.Secret{Value: secret}}),
		want:  `unknown SASL mechanism "GSSAPI": want one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`,
	}, {
		name:  "env not set",
		fleet: withSASL(lang.SASL{Mechanism: "PLAIN", Username: "alice", Password: lang.Secret{Value: secret, Ref: "env:NOPE"}}),
		want:  "fleet kafka sasl password: the environment variable NOPE is not set",
	}, {
		name:  "file missing",
		fleet: withSASL(lang.SASL{Mechanism: "PLAIN", Username: "alice", Password: lang.Secret{Value: secret, Ref: "file:/nonexistent/pass"}}),
		want:  "fleet kafka sasl password: open /nonexistent/pass: no such file or directory",
	}, {
		name:  "not a string",
		fleet: withSASL(lang.SASL{Mechanism: "PLAIN", Username: "alice", Password: lang.Secret{Value: true}}),
		want:  "fleet kafka sasl password: the value is a bool; want a string",
	}, {
		name:  "no username",
		fleet: withSASL(lang.SASL{Mechanism: "PLAIN", Password: lang.Secret{Value: secret}}),
		want:  "fleet kafka sasl: the username is empty",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kafka.ConfigFromFleet(tt.fleet, tt.brokers, lookupEnv)
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error leaks the password: %v", err)
			}
		})
	}
	_, err := kafka.ConfigFromFleet(nil, nil, lookupEnv)
	if !errors.Is(err, kafka.ErrNoBrokers) {
		t.Errorf("errors.Is(%v, ErrNoBrokers) = false", err)
	}
}

func TestSASLFormatRedacts(t *testing.T) {
	c := kafka.Config{Brokers: []string{"a:1"}, SASL: &kafka.SASL{Mechanism: "PLAIN", Username: "alice", Password: secret}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		got := fmt.Sprintf(verb, c) + fmt.Sprintf(verb, *c.SASL) + fmt.Sprintf(verb, c.SASL)
		if strings.Contains(got, secret) || strings.Contains(got, fmt.Sprintf("%x", secret)) {
			t.Errorf("%s leaks the password: %s", verb, got)
		}
		if !strings.Contains(got, lang.Redacted) {
			t.Errorf("%s does not show %q: %s", verb, lang.Redacted, got)
		}
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "kafka", c, "sasl", c.SASL)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "kafka", c, "sasl", *c.SASL)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := logged.String() + string(b); strings.Contains(got, secret) {
		t.Errorf("a log or JSON leaks the password: %s", got)
	}
}

func TestOpts(t *testing.T) {
	tests := []struct {
		name       string
		cfg        kafka.Config
		wantID     string
		wantSASL   string // mechanism name; "" for none
		wantSeeds  []string
		wantTLSSet bool
	}{
		{"defaults", kafka.Config{Brokers: []string{"a:1"}}, "pipectl", "", []string{"a:1"}, false},
		{"client id", kafka.Config{Brokers: []string{"a:1", "b:2"}, ClientID: "worker-7"}, "worker-7", "", []string{"a:1", "b:2"}, false},
		{"plain", kafka.Config{Brokers: []string{"a:1"}, SASL: &kafka.SASL{Mechanism: "PLAIN", Username: "u", Password: "p"}}, "pipectl", "PLAIN", []string{"a:1"}, false},
		{"scram-256", kafka.Config{Brokers: []string{"a:1"}, SASL: &kafka.SASL{Mechanism: "SCRAM-SHA-256", Username: "u", Password: "p"}}, "pipectl", "SCRAM-SHA-256", []string{"a:1"}, false},
		{"scram-512 lower case", kafka.Config{Brokers: []string{"a:1"}, SASL: &kafka.SASL{Mechanism: "scram-sha-512", Username: "u", Password: "p"}}, "pipectl", "SCRAM-SHA-512", []string{"a:1"}, false},
		{"tls without files", kafka.Config{Brokers: []string{"a:1"}, TLS: &kafka.TLS{ServerName: "kafka"}}, "pipectl", "", []string{"a:1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// kgo.NewClient dials nothing: the options can be read back.
			cl, err := kafka.NewClient(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if got := cl.OptValue(kgo.ClientID); got != tt.wantID {
				t.Errorf("client ID %v; want %q", got, tt.wantID)
			}
			if got := cl.OptValue(kgo.SeedBrokers); !cmp.Equal(got, tt.wantSeeds) {
				t.Errorf("seed brokers %v; want %v", got, tt.wantSeeds)
			}
			mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
			var gotSASL string
			if len(mechs) == 1 {
				gotSASL = mechs[0].Name()
			}
			if len(mechs) > 1 || gotSASL != tt.wantSASL {
				t.Errorf("SASL mechanisms %v; want %q", mechs, tt.wantSASL)
			}
			tc, _ := cl.OptValue(kgo.DialTLSConfig).(*tls.Config)
			if (tc != nil) != tt.wantTLSSet {
				t.Errorf("TLS config %v; want one: %v", tc, tt.wantTLSSet)
			}
			if tc != nil && (tc.ServerName != tt.cfg.TLS.ServerName || tc.MinVersion != tls.VersionTLS12) {
				t.Errorf("TLS ServerName %q MinVersion %x; want %q, TLS 1.2", tc.ServerName, tc.MinVersion, tt.cfg.TLS.ServerName)
			}
		})
	}
}

func TestOptsErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  kafka.Config
		want string
	}{
		{"no brokers", kafka.Config{}, "no brokers: set them in the fleet block, with -brokers or PIPECTL_BROKERS"},
		{"bad mechanism", kafka.Config{Brokers: []string{"a:1"}, SASL: &kafka.SASL{Mechanism: "OAUTHBEARER", Password: secret}}, `unknown SASL mechanism "OAUTHBEARER": want one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{"missing CA", kafka.Config{Brokers: []string{"a:1"}, TLS: &kafka.TLS{CAFile: filepath.Join(dir, "nope.pem")}}, "tls ca_file: open " + filepath.Join(dir, "nope.pem") + ": no such file or directory"},
		{"CA not PEM", kafka.Config{Brokers: []string{"a:1"}, TLS: &kafka.TLS{CAFile: notPEM}}, "tls ca_file " + notPEM + ": no PEM certificate found"},
		{"cert without key", kafka.Config{Brokers: []string{"a:1"}, TLS: &kafka.TLS{CertFile: notPEM}}, "tls: cert_file and key_file go together; set both or neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Opts()
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			if _, err2 := kafka.NewClient(tt.cfg); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("NewClient error %v; want %v", err2, err)
			}
		})
	}
}
