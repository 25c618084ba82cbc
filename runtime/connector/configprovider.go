package connector

import (
	"context"
	"errors"
)

// ConfigProvider is a worker plugin that resolves references to secrets
// kept outside pipectl, as Kafka's ConfigProvider does: a sensitive
// attribute written secret("NAME", "PATH", "KEY") is stored as the
// reference and resolved by the provider registered as NAME on the worker
// that runs the task, each time the task starts; its value is never
// stored. Register one with Registry.RegisterConfigProvider in a custom
// main (a Vault or cloud secret manager provider is one Register call).
//
// The worker asks again every minute or so (providers
// may cache with a TTL of their own); when a value changed, the tasks that
// use it restart with the new value, and no other task does.
type ConfigProvider interface {
	// Name is how references name the provider ("directory").
	Name() string
	// Get returns the value of key under path. A key that does not exist
	// is an error wrapping ErrSecretNotFound. Errors never hold the value.
	Get(ctx context.Context, path, key string) (string, error)
}

// ErrSecretNotFound is a ConfigProvider's error for a key it does not have.
var ErrSecretNotFound = errors.New("secret not found")

// RegisterConfigProvider adds a config provider; two with one name are
// refused.
func (r *Registry) RegisterConfigProvider(p ConfigProvider) error {
	if p == nil || p.Name() == "" {
		return errors.New("register config provider: it has no name")
	}
	if r.providers == nil {
		r.providers = map[string]ConfigProvider{}
	}
	if _, dup := r.providers[p.Name()]; dup {
		return errors.New("register config provider: " + p.Name() + " is already registered")
	}
	r.providers[p.Name()] = p
	return nil
}

// ConfigProvider returns the config provider registered as name.
func (r *Registry) ConfigProvider(name string) (ConfigProvider, bool) {
	p, ok := r.providers[name]
	return p, ok
}
