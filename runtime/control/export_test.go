package control

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// SetEndTransaction replaces, until the test ends, how Commit ends an
// apply's transaction: fn gets the context and the real end.
func SetEndTransaction(cleanup func(func()), fn func(ctx context.Context, end func() error) error) {
	orig := endTransaction
	endTransaction = func(ctx context.Context, cl *kgo.Client) error {
		return fn(ctx, func() error { return orig(ctx, cl) })
	}
	cleanup(func() { endTransaction = orig })
}
