package configprovider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
)

func TestDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "db-password"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if v, err := (Directory{}).Get(ctx, dir, "db-password"); err != nil || v != "s3cret" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if _, err := (Directory{}).Get(ctx, dir, "missing"); !errors.Is(err, connector.ErrSecretNotFound) {
		t.Errorf("a missing key: %v; want ErrSecretNotFound", err)
	}
	for _, key := range []string{"../etc/passwd", "a/b", "..data", ".hidden", ""} {
		_, err := (Directory{}).Get(ctx, dir, key)
		if err == nil {
			t.Errorf("key %q was read", key)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("key %q: the error holds the secret", key)
		}
	}
}
