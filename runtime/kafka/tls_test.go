package kafka_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, all written as PEM files.
type testPKI struct {
	caFile, clientCert, clientKey string
	server                        tls.Certificate
	pool                          *x509.CertPool
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pipectl test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: "pipectl test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	serverDER, serverKey := leaf(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	clientDER, clientKey := leaf(3, x509.ExtKeyUsageClientAuth, nil)
	pki := testPKI{
		caFile:     write("ca.pem", "CERTIFICATE", caDER),
		clientCert: write("client.pem", "CERTIFICATE", clientDER),
		clientKey:  write("client-key.pem", "EC PRIVATE KEY", keyDER(clientKey)),
		server:     tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey},
		pool:       x509.NewCertPool(),
	}
	pki.pool.AddCert(ca)
	return pki
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestTLS dials a kfake broker that requires TLS with a client certificate
// signed by the test CA.
func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.pool,
		MinVersion:   tls.VersionTLS12,
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()

	good := kafka.Config{Brokers: brokers, TLS: &kafka.TLS{CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey}}
	cl := newClient(t, good)
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "secure", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "secure", 5)
	consumeN(t, good, "secure", 5)

	if err := ping(t, good); err != nil {
		t.Fatalf("ping with the right certificates: %v", err)
	}
	bad := map[string]*kafka.TLS{
		"system roots do not trust the test CA": {CertFile: pki.clientCert, KeyFile: pki.clientKey},
		"no client certificate":                 {CAFile: pki.caFile},
		"wrong server name":                     {CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey, ServerName: "kafka.example"},
	}
	for name, tc := range bad {
		if err := ping(t, kafka.Config{Brokers: brokers, TLS: tc}); err == nil {
			t.Errorf("%s: the client got in", name)
		}
	}
	skip := kafka.Config{Brokers: brokers, TLS: &kafka.TLS{CertFile: pki.clientCert, KeyFile: pki.clientKey, InsecureSkipVerify: true}}
	if err := ping(t, skip); err != nil {
		t.Errorf("InsecureSkipVerify: %v", err)
	}
}

// TestBrokerDevTLS runs the embedded broker with DevTLS and SASL/SCRAM,
// as `pipectl broker -tls-dir DIR -sasl-user …` does: a client trusting
// the generated CA logs in; one trusting only the system roots does not;
// a restart on the same directory keeps the certificate.
func TestBrokerDevTLS(t *testing.T) {
	dir := t.TempDir()
	tc, err := kafka.DevTLS(dir, []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	user := kafka.SASL{Mechanism: kafka.MechanismScramSHA512, Username: "pipectl", Password: "s3cret"}
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", Users: []kafka.SASL{user}, TLS: tc})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	good := kafka.Config{Brokers: []string{b.Addr()}, SASL: &user, TLS: &kafka.TLS{CAFile: filepath.Join(dir, kafka.DevCAFile)}}
	cl := newClient(t, good)
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "secure", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "secure", 5)
	consumeN(t, good, "secure", 5)
	if err := ping(t, kafka.Config{Brokers: []string{b.Addr()}, SASL: &user, TLS: &kafka.TLS{}}); err == nil {
		t.Error("a client that does not trust the generated CA got in")
	}
	if err := ping(t, kafka.Config{Brokers: []string{b.Addr()}, SASL: &user}); err == nil {
		t.Error("a plaintext client got in")
	}
	before, err := os.ReadFile(filepath.Join(dir, kafka.DevCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kafka.DevTLS(dir, []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, kafka.DevCertFile))
	if string(before) != string(after) {
		t.Error("DevTLS replaced the certificate of a directory that had one")
	}
}
