package schemaregistry_test

import (
	"context"
	"testing"

	"github.com/pipectl/pipectl/runtime/schemaregistry"
)

// BenchmarkSchemaByID is the cost of a converter's cache miss on a
// registry that holds the id.
func BenchmarkSchemaByID(b *testing.B) {
	ctx := context.Background()
	r := schemaregistry.NewMemory()
	ss, err := r.Register(ctx, "s", distinct(1))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.SchemaByID(ctx, ss.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegisterKafka registers new versions of one subject through a
// registry on a kfake broker: a sync, a claim and reading it back each.
func BenchmarkRegisterKafka(b *testing.B) {
	ctx := context.Background()
	regs, _ := startKafkaTB(b, "bench", 1)
	if err := regs[0].SetCompatibility(ctx, "", schemaregistry.None); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if _, err := regs[0].Register(ctx, "s", distinct(i)); err != nil {
			b.Fatal(err)
		}
	}
}
