package schemaconv_test

import (
	"encoding/base64"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/schemaconv"
)

const tinyAvsc = `{"type": "record", "name": "A", "fields": [{"name": "s", "type": "string"}]}`

func encodeWith(t *testing.T, registry map[string]any) error {
	t.Helper()
	c, err := schemaconv.NewAvro(connector.ConverterEnv{}, map[string]any{"schema": tinyAvsc, "registry": registry})
	if err != nil {
		return err
	}
	_, err = c.(connector.TopicEncoder).EncodeFor("t", map[string]any{"s": "x"}, nil)
	return err
}

// The registry block's credentials reach the registry, and no error
// quotes them.
func TestRegistryAuth(t *testing.T) {
	basic := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte("svc:s3cret-pw"))))
	t.Cleanup(basic.Close)
	if err := encodeWith(t, map[string]any{"url": basic.URL(), "username": "svc", "password": configschema.Sensitive{Value: "s3cret-pw"}}); err != nil {
		t.Fatalf("basic auth: %v", err)
	}
	err := encodeWith(t, map[string]any{"url": basic.URL(), "username": "svc", "password": configschema.Sensitive{Value: "wrong-pw"}})
	if err == nil || strings.Contains(err.Error(), "wrong-pw") {
		t.Fatalf("a wrong password: %v", err)
	}
	bearer := srfake.New(srfake.WithAuth("Bearer t0ken-value"))
	t.Cleanup(bearer.Close)
	if err := encodeWith(t, map[string]any{"url": bearer.URL(), "bearer_token": configschema.Sensitive{Value: "t0ken-value"}}); err != nil {
		t.Fatalf("bearer token: %v", err)
	}
	err = encodeWith(t, map[string]any{"url": bearer.URL(), "bearer_token": "other-t0ken"})
	if err == nil || strings.Contains(err.Error(), "other-t0ken") {
		t.Fatalf("a wrong token: %v", err)
	}
}

// ca_file makes the client trust a registry's private certificate.
func TestRegistryCAFile(t *testing.T) {
	reg := srfake.NewRegistry()
	srv := httptest.NewUnstartedServer(reg.Handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if err := encodeWith(t, map[string]any{"url": srv.URL}); err == nil {
		t.Fatal("a registry with an unknown certificate authority was trusted")
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := encodeWith(t, map[string]any{"url": srv.URL, "ca_file": ca}); err != nil {
		t.Fatalf("with ca_file: %v", err)
	}
	if _, err := schemaconv.NewAvro(connector.ConverterEnv{}, map[string]any{"registry": map[string]any{"url": srv.URL, "ca_file": filepath.Join(t.TempDir(), "none.pem")}}); err == nil {
		t.Error("a missing ca_file was taken")
	}
}
