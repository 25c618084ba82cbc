package syslog

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// certPair makes a certificate for 127.0.0.1 signed by ca (self-signed
// when ca is nil) and writes it and its key as PEM files in dir.
func certPair(t *testing.T, dir, name string, ca *tls.Certificate) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        ca == nil, BasicConstraintsValid: true,
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.Leaf, ca.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, certFile, keyFile
}

// TestTLS receives octet-counted messages over TLS (RFC 5425), and with a
// client CA refuses a client without a certificate it signed.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caFile, _ := certPair(t, dir, "ca", nil)
	_, certFile, keyFile := certPair(t, dir, "server", &ca)
	client, _, _ := certPair(t, dir, "client", &ca)
	s := open(t, map[string]any{"protocol": "tcp", "tls_cert_file": certFile, "tls_key_file": keyFile, "tls_client_ca_file": caFile})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Leaf)

	c, err := tls.Dial("tcp", s.addr.String(), &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{client}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{good5424, "<14>Dec  3 10:00:00 web-2 sshd[77]: accepted"} {
		fmt.Fprintf(c, "%d %s", len(m), m)
	}
	c.Close()
	recs := s.collect(t, 2, true)
	if v := value(t, recs[0]); v[fieldMessage] != "GET /index.html" {
		t.Errorf("first TLS message %v", v)
	}
	if v := value(t, recs[1]); v[fieldMessage] != "accepted" || v[fieldAppName] != "sshd" || v[fieldProcID] != "77" || v[fieldHostname] != "web-2" {
		t.Errorf("second TLS message %v", v)
	}

	// Without a client certificate the handshake fails and nothing is read.
	c, err = tls.Dial("tcp", s.addr.String(), &tls.Config{RootCAs: roots})
	if err == nil {
		fmt.Fprintf(c, "%d %s", len(good5424), good5424)
		buf := make([]byte, 1)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(buf) // TLS 1.3 reports the refusal at the first read
		c.Close()
	}
	if err == nil {
		t.Error("a client without a certificate was accepted")
	}
	if recs, _ := s.Poll(t.Context()); len(recs) != 0 {
		t.Errorf("read %d messages from a client without a certificate", len(recs))
	}
}
