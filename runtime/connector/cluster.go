package connector

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/pipectl/pipectl/lang/configschema"
)

// Cluster says how to reach a Kafka cluster, as plain data: seed brokers,
// SASL and TLS. The worker hands every task the fleet's own cluster in
// TaskContext.Cluster, so that a connector can read from or write to the
// cluster the fleet runs on (the kafka source and sink do when they are
// given no brokers of their own). The SDK holds no Kafka client: a
// connector builds its own from these settings.
type Cluster struct {
	Brokers []string     // seed brokers, HOST:PORT
	SASL    *ClusterSASL // nil: no authentication
	TLS     *ClusterTLS  // nil: plaintext
}

// ClusterSASL is a SASL login. It prints, logs (log/slog) and marshals to
// JSON with its password redacted, so that a Cluster may be logged.
type ClusterSASL struct {
	Mechanism string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	Username  string
	Password  string
}

// Format prints s with its password redacted, whatever the verb.
func (s ClusterSASL) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Mechanism:%s Username:%s Password:%s}", s.Mechanism, s.Username, configschema.Redacted)
}

// LogValue logs s with its password redacted.
func (s ClusterSASL) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mechanism", s.Mechanism), slog.String("username", s.Username), slog.String("password", configschema.Redacted))
}

// MarshalJSON writes s with its password redacted.
func (s ClusterSASL) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Mechanism, Username, Password string }{s.Mechanism, s.Username, configschema.Redacted})
}

// ClusterTLS is how to dial the brokers with TLS. File names are absolute
// and read by the connector.
type ClusterTLS struct {
	CAFile             string // PEM CA bundle; "" uses the system roots
	CertFile           string // PEM client certificate, with KeyFile
	KeyFile            string // PEM client key, with CertFile
	ServerName         string // "" uses each broker's host name
	InsecureSkipVerify bool
}
