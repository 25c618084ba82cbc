package configprovider

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipectl/pipectl/runtime/connector"
)

// Directory is the provider "directory": secret("directory", DIR, KEY) is
// the content of the file KEY in DIR, as it is (Kafka's
// DirectoryConfigProvider does not trim it either). KEY is a file name,
// not a path: one with a separator or "..", or a dot file (Kubernetes
// keeps its bookkeeping in ..data and friends), is refused.
type Directory struct{}

// Name is "directory".
func (Directory) Name() string { return "directory" }

// Get reads DIR/KEY.
func (Directory) Get(_ context.Context, dir, key string) (string, error) {
	if dir == "" {
		return "", errors.New("the directory is empty")
	}
	if key != filepath.Base(key) || strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") {
		return "", fmt.Errorf("%q is not a file name of the directory", key)
	}
	b, err := os.ReadFile(filepath.Join(dir, key))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s has no file %s: %w", dir, key, connector.ErrSecretNotFound)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("reading %s in %s: %v", key, dir, err)
	}
	return string(b), nil
}
